"""Which classifier labels a room's speech: its brand's own model when there is one.

With `classifier.brand_models = true`, operators' relabels on a brand's rooms train
brand_model_dir/BRAND.npz (`livecut train-classifier --from-reviews --brand BRAND`).
A room of that brand picks the file up when its speech starts, so a retrained model
takes effect at the next broadcast without restarting the server.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from livecut.pipeline import Classifier, build_classifier, classifier_model_path


class RoomClassifiers:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.default = build_classifier(config)
        self.lock = threading.Lock()
        self.loaded: dict[Path, tuple[float, Classifier]] = {}

    def for_brand(self, brand: str | None) -> Classifier:
        """The default classifier, or the brand's model (loaded again when its file changed)."""
        if not brand or self.config["classifier"]["kind"] != "trained":
            return self.default
        path = classifier_model_path(self.config, brand)
        if path == classifier_model_path(self.config):
            return self.default
        mtime = path.stat().st_mtime
        with self.lock:
            cached = self.loaded.get(path)
            if cached is None or cached[0] != mtime:
                cached = (mtime, build_classifier(self.config, brand=brand))
                self.loaded[path] = cached
            return cached[1]
