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


@dataclass(frozen=True)
class Vocabulary:
    """The hotwords a window's prompt must hold for one chunk, and at most how many characters
    the union of its chunks' hotwords may take."""

    terms: tuple[str, ...]
    max_chars: int


def pack(
    chunks: list[np.ndarray], settings: PackingSettings, vocabularies: list[Vocabulary] | None = None
) -> list[PackedWindow]:
    """The chunks (mono samples at SAMPLE_RATE), in order, packed into as few windows as fit,
    each window holding consecutive chunks. A chunk longer than a window gets a window of its
    own. `vocabularies` (one per chunk): a chunk also starts a new window when its terms would
    take the window's hotwords past the budget."""
    gap = np.zeros(int(settings.gap_s * SAMPLE_RATE), dtype=np.float32)
    windows = []
    for group in _groups([len(c) for c in chunks], settings, vocabularies):
        parts: list[np.ndarray] = []
        placements: list[Placement] = []
        for index in group:
            if parts:
                parts.append(gap)
            start = sum(len(p) for p in parts)
            placements.append(Placement(index, start / SAMPLE_RATE, (start + len(chunks[index])) / SAMPLE_RATE))
            parts.append(chunks[index].astype(np.float32, copy=False))
        windows.append(PackedWindow(np.concatenate(parts), placements))
    return windows


def closed_chunks(lengths: list[int], settings: PackingSettings) -> int:
    """How many of these chunks (lengths in samples, in order) lie in windows that no later chunk
    can join: all but the last window, as `pack` would lay out the whole stream. Holding the rest
    back until more speech comes makes a recorded file's windows the same however its audio arrives."""
    if not settings.window_s:
        return len(lengths)
    groups = _groups(lengths, settings)
    return sum(len(group) for group in groups[:-1])


def hotwords_of(vocabularies: list[Vocabulary]) -> str:
    """The window's hotwords: every term of its chunks once, in order."""
    return " ".join(dict.fromkeys(term for vocabulary in vocabularies for term in vocabulary.terms))


def _groups(
    lengths: list[int], settings: PackingSettings, vocabularies: list[Vocabulary] | None = None
) -> list[list[int]]:
    """Greedy: each chunk joins the current window if it fits (with the gap before it, and its
    terms within the budget), else starts the next."""
    limit = int(settings.window_s * SAMPLE_RATE)
    gap = int(settings.gap_s * SAMPLE_RATE)
    groups: list[list[int]] = []
    used = 0
    for index, length in enumerate(lengths):
        if groups and used + gap + length <= limit and _fits(groups[-1], index, vocabularies):
            groups[-1].append(index)
            used += gap + length
        else:
            groups.append([index])
            used = length
    return groups


def _fits(group: list[int], index: int, vocabularies: list[Vocabulary] | None) -> bool:
    if vocabularies is None:
        return True
    joined = hotwords_of([vocabularies[i] for i in [*group, index]])
    return len(joined) <= vocabularies[index].max_chars
