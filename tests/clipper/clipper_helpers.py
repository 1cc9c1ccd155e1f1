"""Helpers for the clipper tests: fixtures, full decoding, frame access, MP4 boxes, caption parsing."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from clipper.captions import Cue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

SRT_BLOCK = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)")
VTT_BLOCK = re.compile(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)")


@dataclass
class Decoded:
    """What decoding every frame of one stream found."""

    count: int
    first_pts: float
    last_end: float
    rate: float
    width: int = 0
    height: int = 0


def decode_all(path: Path, kind: str) -> Decoded:
    """Decode every frame of the first `kind` ("video" or "audio") stream; errors propagate."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        rate = float(stream.average_rate or 0) if kind == "video" else float(stream.rate)
        times: list[float] = []
        last_length = 0.0
        size = (0, 0)
        for frame in container.decode(stream):
            times.append(float(frame.time))
            if kind == "video":
                size = (frame.width, frame.height)
                last_length = 1.0 / rate
            else:
                last_length = frame.samples / frame.sample_rate
    assert times, f"no {kind} frames in {path}"
    return Decoded(len(times), min(times), max(times) + last_length, rate, *size)


def frame_at(path: Path, at: float) -> av.VideoFrame:
    """The video frame shown at `at` seconds (decoded from the start: the clips are short)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        half = Fraction(1, 2) / (stream.average_rate or 25)
        for frame in container.decode(stream):
            if frame.time + half >= at:
                return frame
    raise AssertionError(f"no frame at {at}s in {path}")


def gray(frame: av.VideoFrame, width: int | None = None, height: int | None = None) -> np.ndarray:
    """Luma plane as float32, optionally resized."""
    return frame.reformat(width=width, height=height, format="gray").to_ndarray().astype(np.float32)


def top_level_boxes(path: Path) -> list[str]:
    """Types of the top-level ISO-BMFF boxes, in file order."""
    boxes = []
    with path.open("rb") as f:
        size_total = path.stat().st_size
        offset = 0
        while offset < size_total:
            f.seek(offset)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", f.read(8))
            elif size == 0:
                size = size_total - offset
            assert size >= 8, f"bad box size {size} at {offset}"
            boxes.append(kind.decode("latin-1"))
            offset += size
    return boxes


def _seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def parse_srt(text: str) -> list[Cue]:
    """Strict SubRip parser: every block is index, timing line, one text line."""
    blocks = text.strip("\n").split("\n\n") if text.strip() else []
    cues = []
    for number, block in enumerate(blocks, start=1):
        match = SRT_BLOCK.fullmatch(block)
        assert match, f"malformed SRT block: {block!r}"
        assert int(match[1]) == number
        cues.append(Cue(_seconds(match[2]), _seconds(match[3]), match[4]))
    return cues


def parse_vtt(text: str) -> list[Cue]:
    """Strict WebVTT parser for what the renderer writes: header line, then blank-line separated cues."""
    header, _, body = text.partition("\n")
    assert header == "WEBVTT"
    assert body == "" or body.startswith("\n")
    cues = []
    for block in body.strip("\n").split("\n\n") if body.strip() else []:
        match = VTT_BLOCK.fullmatch(block)
        assert match, f"malformed VTT block: {block!r}"
        unescaped = match[3].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        cues.append(Cue(_seconds(match[1]), _seconds(match[2]), unescaped))
    return cues
