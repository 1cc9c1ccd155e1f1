"""Cut footage into segments that never cut a sentence, and score them.

A speech segment is one utterance, padded into the silence around it: up to `lead` seconds before
and `tail` after, never past the middle of the gap to the neighbouring sentence, and snapped to a
shot cut when one falls in that gap (a cut there is where an editor would cut too). Footage
without speech is cut into its shots, long shots into pieces of at most `max_piece` seconds.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipper.remix.audio import rms_dbfs
from clipper.remix.footage import Box, Quality, Segment
from clipper.remix.frames import SecondSample
from livecut.contracts import Utterance


@dataclass(frozen=True)
class SegmentSettings:
    lead: float = 0.3
    tail: float = 0.4
    snap: float = 1.0  # how far from the speech a shot cut may be and still be snapped to
    max_piece: float = 4.0
    min_piece: float = 1.0


def speech_segments(
    source: str, duration: float, utterances: Sequence[Utterance], cuts: Sequence[float], settings: SegmentSettings
) -> list[Segment]:
    """One segment per utterance, bounded as the module docstring says."""
    ordered = sorted((u for u in utterances if u.t1 > u.t0), key=lambda u: (u.t0, u.t1))
    segments = []
    for i, utt in enumerate(ordered):
        before = ordered[i - 1].t1 if i else 0.0
        after = ordered[i + 1].t0 if i + 1 < len(ordered) else duration
        t0 = _start(utt.t0, before, cuts, settings) if i else max(0.0, utt.t0 - settings.lead)
        t1 = _end(utt.t1, after, cuts, settings) if i + 1 < len(ordered) else min(duration, utt.t1 + settings.tail)
        segments.append(
            Segment(
                source=source,
                t0=round(max(0.0, t0), 3),
                t1=round(min(duration, t1), 3),
                kind="speech",
                label=utt.label,
                sublabel=utt.sublabel,
                text=utt.text,
                words=[w for w in utt.words if w.t1 > utt.t0 - 0.5 and w.t0 < utt.t1 + 0.5],
                confidence=utt.confidence,
                speech=(utt.t0, utt.t1),
            )
        )
    return segments


def _start(speech_t0: float, previous_end: float, cuts: Sequence[float], settings: SegmentSettings) -> float:
    mid = (previous_end + speech_t0) / 2
    inside = [c for c in cuts if max(previous_end, speech_t0 - settings.snap) <= c <= speech_t0]
    return min(inside, key=lambda c: abs(c - mid)) if inside else max(mid, speech_t0 - settings.lead)


def _end(speech_t1: float, next_start: float, cuts: Sequence[float], settings: SegmentSettings) -> float:
    mid = (speech_t1 + next_start) / 2
    inside = [c for c in cuts if speech_t1 <= c <= min(next_start, speech_t1 + settings.snap)]
    return min(inside, key=lambda c: abs(c - mid)) if inside else min(mid, speech_t1 + settings.tail)


def shot_segments(source: str, shots: Sequence[tuple[float, float]], settings: SegmentSettings) -> list[Segment]:
    """Shots as segments without speech, long ones cut into equal pieces of at most `max_piece` s."""
    segments = []
    for t0, t1 in shots:
        if t1 - t0 < settings.min_piece:
            continue
        count = max(1, int(np.ceil((t1 - t0) / settings.max_piece)))
        step = (t1 - t0) / count
        for k in range(count):
            start, end = round(t0 + k * step, 3), round(t0 + (k + 1) * step, 3)
            segments.append(Segment(source=source, t0=start, t1=end, kind="shot"))
    return segments


def seconds_of(t0: float, t1: float, available: int) -> list[int]:
    """Samples of `[t0, t1)` as the written piece shows them: one at t0 + k for each started second."""
    if available == 0:
        return []
    count = max(1, int(np.ceil(t1 - t0 - 1e-6)))
    return [min(available - 1, int(t0 + k)) for k in range(count)]


def describe(segments: list[Segment], samples: Sequence[SecondSample], audio: np.ndarray | None) -> None:
    """Fill hashes, box and quality of every segment from the per-second samples and the audio."""
    sharp_rank = _ranks([s.sharpness for s in samples])
    for index, segment in enumerate(segments):
        seconds = seconds_of(segment.t0, segment.t1, len(samples))
        picked = [samples[k] for k in seconds]
        segment.index = index
        segment.hashes = [s.hash for s in picked]
        segment.box = _median_box([s.box for s in picked if s.box is not None])
        span = segment.speech or (segment.t0, segment.t1)
        loudness = rms_dbfs(audio, *span) if segment.kind == "speech" else None
        sharpness = statistics.fmean(s.sharpness for s in picked) if picked else 0.0
        motion = statistics.fmean(s.motion for s in picked) if picked else 0.0
        sharp = statistics.fmean(sharp_rank[k] for k in seconds) if seconds else 0.0
        segment.quality = Quality(sharpness, motion, loudness, _score(sharp, motion, loudness, segment.confidence))


def _score(sharp_rank: float, motion: float, loudness: float | None, confidence: float) -> float:
    """Sharper is better; some motion is lively, a lot is shaky; speech near -20 dBFS is clear; sure labels first."""
    lively = 1.0 - min(1.0, abs(motion - 8.0) / 24.0)
    clear = 0.5 if loudness is None else max(0.0, 1.0 - abs(loudness + 20.0) / 20.0)
    return round(0.35 * sharp_rank + 0.2 * lively + 0.3 * clear + 0.15 * min(1.0, max(0.0, confidence)), 4)


def _ranks(values: Sequence[float]) -> list[float]:
    """Percentile rank in [0, 1] of each value among all of them."""
    if len(values) < 2:
        return [1.0] * len(values)
    order = np.argsort(np.argsort(values, kind="stable"), kind="stable")
    return [float(r) / (len(values) - 1) for r in order]


def _median_box(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    faces = [b for b in boxes if b.kind == "face"]
    chosen = faces if len(faces) * 2 >= len(boxes) else boxes
    x, y, w, h = (int(statistics.median(getattr(b, f) for b in chosen)) for f in ("x", "y", "w", "h"))
    return Box(x, y, w, h, chosen[0].kind)
