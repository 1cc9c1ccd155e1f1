"""Several speech chunks in one Whisper window, and their words split back by time.

Whisper's encoder always runs on 30 s of audio: a 3 s chunk pays for 30 s. Chunks of one
room that are ready together (consecutive chunks of a file, or a live room's chunks that
waited while the transcriber was busy) are laid end to end with silence between them, up to
`window_s`, so one encoder pass serves all of them. After decoding, each word goes back to
the chunk its middle lies in (or nearest to, when Whisper places it in the silence), on
that chunk's own timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livecut.contracts import SAMPLE_RATE


@dataclass(frozen=True)
class PackingSettings:
    # Audio per window; Whisper's window is 30 s, and a little room at its end keeps the last
    # words from being cut off. 0 turns packing off (one chunk per window).
    window_s: float = 28.0
    # Silence between two chunks, enough for Whisper to end a segment there.
    gap_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.window_s <= 30:
            raise ValueError(f"asr.pack_window_s must be between 0 and 30, got {self.window_s}")
        if self.gap_s < 0:
            raise ValueError(f"asr.pack_gap_s must be >= 0, got {self.gap_s}")


@dataclass(frozen=True)
class Placement:
    """Where chunk number `index` (of the caller's list) lies in the window, in seconds."""

    index: int
    start: float
    end: float


@dataclass
class PackedWindow:
    samples: np.ndarray
    placements: list[Placement]

    def owner(self, start: float, end: float) -> Placement:
        """The chunk a word from `start` to `end` (window time) belongs to: the one its middle is
        in, else the nearest (all distances measured to the middle)."""
        middle = (start + end) / 2
        return min(self.placements, key=lambda p: max(p.start - middle, 0.0, middle - p.end))


def pack(chunks: list[np.ndarray], settings: PackingSettings) -> list[PackedWindow]:
    """The chunks (mono samples at SAMPLE_RATE), in order, packed into as few windows as fit.
    A chunk longer than a window gets a window of its own."""
    limit = int(settings.window_s * SAMPLE_RATE)
    gap = np.zeros(int(settings.gap_s * SAMPLE_RATE), dtype=np.float32)
    windows: list[PackedWindow] = []
    parts: list[np.ndarray] = []
    placements: list[Placement] = []
    used = 0
    for index, samples in enumerate(chunks):
        needed = len(samples) + (len(gap) if parts else 0)
        if parts and used + needed > limit:
            windows.append(PackedWindow(np.concatenate(parts), placements))
            parts, placements, used = [], [], 0
        if parts:
            parts.append(gap)
            used += len(gap)
        placements.append(Placement(index, used / SAMPLE_RATE, (used + len(samples)) / SAMPLE_RATE))
        parts.append(samples.astype(np.float32, copy=False))
        used += len(samples)
    if parts:
        windows.append(PackedWindow(np.concatenate(parts), placements))
    return windows
