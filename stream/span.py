"""Span assembly: one local file covering [t0, t1] of a room, for the renderer.

A clip request names room-timeline seconds. The fragments that overlap the span are
concatenated byte-wise (MPEG-TS is a packet stream: concatenation is valid, and the
recorder already wrote room-timeline timestamps into every fragment, so they continue
across the joins). A live room's fragments may be split between keyframes (`keyframe`
False): the span then reaches back to the fragment that starts at the keyframe before.
The result starts at a keyframe at the first fragment's t0, which is returned: the
caller seeks `t0 - start` seconds into the file (ffmpeg counts `-ss` from the file's
start time).

Which container: ffmpeg's input seeking (`-ss` before `-i`) is not keyframe-aware on
MPEG-TS (its TS index marks every packet a keyframe), so it lands mid-GOP and the
video before the next keyframe is lost (measured with ffmpeg 5.1: the clip starts
with the next keyframe's picture, repeated). A `.ts` dest is the raw concatenation,
right for output seeking (`-i dest -ss X`, which decodes at most one fragment extra);
a `.mkv` dest is the same packets stream-copied into Matroska, whose cues make input
seeking exact. Timestamps stay on the room timeline in both (Matroska rounds to 1 ms).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

import av

from livecut.contracts import Fragment
from stream.media_store import MediaStore, staged

SPAN_SUFFIXES = (".ts", ".mkv")
# Fragments of one recorder meet within one audio frame; a reconnect may leave a short gap.
GAP_TOLERANCE_S = 0.1


class SpanUnavailableError(LookupError):
    """The requested span is not (fully) recorded: before the recording, a gap, or not yet recorded."""


def assemble_span(
    store: MediaStore,
    fragments: list[Fragment],
    t0: float,
    t1: float,
    dest: Path,
    *,
    tolerance: float = GAP_TOLERANCE_S,
) -> float:
    """Concatenate the fragments overlapping [t0, t1] into `dest`; returns the room time `dest` starts at.

    `dest` ending in `.ts`: the fragments' bytes; in `.mkv`: the same packets in Matroska,
    for callers that seek with `-ss` before `-i` (see the module docstring).

    Raises SpanUnavailableError if fragments do not cover the whole span (within `tolerance`).
    """
    if t1 <= t0:
        raise ValueError(f"empty span: t0={t0} t1={t1}")
    dest = Path(dest)
    if dest.suffix not in SPAN_SUFFIXES:
        raise ValueError(f"span file must end in one of {SPAN_SUFFIXES}, got {dest.name}")
    chosen = select_fragments(fragments, t0, t1, tolerance)
    if dest.suffix == ".ts":
        _concatenate(store, chosen, dest)
    else:
        _concatenate_as_matroska(store, chosen, dest)
    return chosen[0].t0


def select_fragments(fragments: list[Fragment], t0: float, t1: float, tolerance: float) -> list[Fragment]:
    """The fragments overlapping [t0, t1], from the keyframe fragment at or before t0, in
    timeline order, checked to cover it without gaps."""
    ordered = sorted(fragments, key=lambda f: f.t0)
    overlapping = [i for i, f in enumerate(ordered) if f.t1 > t0 and f.t0 < t1]
    recorded = f"recorded: {_describe(ordered)}"
    if not overlapping:
        raise SpanUnavailableError(f"span {t0:.3f}-{t1:.3f} s is not recorded ({recorded})")
    # Video decodes from the last keyframe at or before t0 (or the first overlapping fragment's start,
    # when the span begins just before the recording); a split fragment before it may still overlap t0.
    latest = max(t0, ordered[overlapping[0]].t0)
    starts = [i for i in range(overlapping[-1] + 1) if ordered[i].keyframe and ordered[i].t0 <= latest]
    if not starts:
        raise SpanUnavailableError(f"span {t0:.3f}-{t1:.3f} s has no keyframe fragment at or before it ({recorded})")
    chosen = ordered[starts[-1] : overlapping[-1] + 1]
    if chosen[0].t0 > t0 + tolerance:
        raise SpanUnavailableError(f"span starts at {t0:.3f} s, before the first fragment ({recorded})")
    if chosen[-1].t1 < t1 - tolerance:
        raise SpanUnavailableError(f"span ends at {t1:.3f} s, not recorded yet ({recorded})")
    for before, after in zip(chosen, chosen[1:], strict=False):
        if after.t0 > before.t1 + tolerance:
            raise SpanUnavailableError(
                f"span {t0:.3f}-{t1:.3f} s has a gap {before.t1:.3f}-{after.t0:.3f} s "
                f"between fragments {before.seq} and {after.seq}"
            )
    return chosen


def _describe(fragments: list[Fragment]) -> str:
    if not fragments:
        return "nothing"
    return f"{fragments[0].t0:.3f}-{fragments[-1].t1:.3f} s in {len(fragments)} fragments"


def _concatenate(store: MediaStore, fragments: list[Fragment], dest: Path) -> None:
    """Write the fragments' bytes to `dest` via a temp file, so `dest` is complete or absent."""
    with staged(dest) as tmp, open(tmp, "wb") as out:
        for fragment in fragments:
            _copy_fragment(store, fragment, out)


def _concatenate_as_matroska(store: MediaStore, fragments: list[Fragment], dest: Path) -> None:
    with staged(dest) as tmp:
        joined = tmp.with_name(tmp.name + ".ts")
        try:
            with open(joined, "wb") as out:
                for fragment in fragments:
                    _copy_fragment(store, fragment, out)
            _remux(joined, tmp, "matroska")
        finally:
            joined.unlink(missing_ok=True)


def _remux(source: Path, target: Path, format: str) -> None:
    """Stream-copy the audio and video of `source` into `target`, timestamps unchanged."""
    with av.open(str(source), format="mpegts") as inp, av.open(str(target), "w", format=format) as out:
        media = [s for s in inp.streams if s.type in ("video", "audio")]
        streams = {s.index: out.add_stream_from_template(s) for s in media}
        for packet in inp.demux(media):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream_index]
            out.mux_one(packet)


def _copy_fragment(store: MediaStore, fragment: Fragment, out: BinaryIO) -> None:
    try:
        source = store.open_read(fragment.uri)
    except FileNotFoundError as exc:
        raise SpanUnavailableError(f"fragment {fragment.seq} ({fragment.uri}) is missing from the store") from exc
    with source:
        shutil.copyfileobj(source, out, 1 << 20)
