"""Operator reviews as training data: each approval or relabel is appended to
`classifier.reviews_path`, which `livecut train-classifier --from-reviews` reads.

A rejection is recorded in the metadata store but not exported: it says the clip is
unwanted, not which label would be right.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


class ReviewLog:
    def __init__(self, path: Path, classes: set[tuple[str, str | None]]) -> None:
        self.path = Path(path)
        self.classes = classes
        self.lock = threading.Lock()

    def knows(self, label: str | None, sublabel: str | None) -> bool:
        return (label, sublabel) in self.classes

    def append(self, example: dict[str, Any], brand: str | None = None) -> None:
        line = {k: example[k] for k in ("text", "label", "sublabel", "clip_id")} | {"brand": brand}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
