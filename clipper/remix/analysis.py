"""analyze(): one input file and its labeled transcript in, its Footage (shots, scored segments) out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av

from clipper.remix.audio import decode_mono
from clipper.remix.errors import RemixError
from clipper.remix.footage import Footage
from clipper.remix.frames import sample_seconds
from clipper.remix.images import image_footage, is_image
from clipper.remix.segments import SegmentSettings, describe, shot_segments, speech_segments
from clipper.remix.shots import ShotSettings, detect_shots
from livecut.contracts import Utterance

NO_AUDIO_NOTE = "no audio stream: shots only, no captions"
NO_SPEECH_NOTE = "no labeled speech: shots only, no captions"


@dataclass(frozen=True)
class AnalysisSettings:
    shots: ShotSettings = field(default_factory=ShotSettings)
    segments: SegmentSettings = field(default_factory=SegmentSettings)
    image_seconds: float = 3.0
    detect_faces: bool = True


@dataclass(frozen=True)
class _Probe:
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool


def analyze(
    source: Path,
    utterances: Sequence[Utterance],
    product: str | None = None,
    settings: AnalysisSettings | None = None,
    title: str | None = None,
) -> Footage:
    """Shots, segments (each with label, sublabel, product, quality, box, per-second hashes) of one input.

    `utterances` are the segmenter's labeled sentences of this file, times on the file's timeline.
    A product image becomes one Ken Burns segment. Raises RemixError for a file that cannot be read.
    """
    settings = settings or AnalysisSettings()
    source = Path(source)
    if is_image(source):
        footage = image_footage(source, product, settings.image_seconds)
        footage.title = title
        return footage
    probe = _probe(source)
    shots = detect_shots(source, probe.duration, probe.fps, settings.shots)
    samples = sample_seconds(source, settings.detect_faces)
    audio = decode_mono(source) if probe.has_audio else None
    labeled = [u for u in utterances if u.label] if probe.has_audio else []
    notes = []
    if not probe.has_audio:
        notes.append(NO_AUDIO_NOTE)
    elif not labeled:
        notes.append(NO_SPEECH_NOTE)
    if labeled:
        cuts = [t0 for t0, _ in shots[1:]]
        segments = speech_segments(str(source), probe.duration, labeled, cuts, settings.segments)
    else:
        segments = shot_segments(str(source), shots, settings.segments)
    for segment in segments:
        segment.product = product
    describe(segments, samples, audio)
    return Footage(
        source=str(source),
        duration=probe.duration,
        width=probe.width,
        height=probe.height,
        fps=probe.fps,
        has_audio=probe.has_audio,
        shots=shots,
        segments=segments,
        product=product,
        title=title,
        notes=notes,
    )


def _probe(path: Path) -> _Probe:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RemixError(f"input {path} has no video stream")
            video = container.streams.video[0]
            duration = container.duration / 1e6 if container.duration else None
            if duration is None and video.duration is not None and video.time_base is not None:
                duration = float(video.duration * video.time_base)
            fps = float(video.average_rate or video.guessed_rate or 25)
            return _Probe(duration or 0.0, video.width, video.height, fps, bool(container.streams.audio))
    except (av.FFmpegError, OSError) as exc:
        raise RemixError(f"cannot open input {path}: {exc}") from exc
