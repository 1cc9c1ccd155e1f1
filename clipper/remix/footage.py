"""What analysis knows about one input: its shots and its segments, each with quality and visual signature.

All times are seconds on the source's own timeline. A segment never cuts a sentence: it is one
utterance (padded into the silence around it, never into the next sentence), one shot of a file
without speech, or one product image shown as a Ken Burns shot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from livecut.contracts import Word

SegmentKind = Literal["speech", "shot", "image"]
SPEECH_LABELS = ("selling_point", "price_promo", "call_to_action")


@dataclass(frozen=True)
class Box:
    """A rectangle in source pixels: where the face or subject is, used to centre the reframe."""

    x: int
    y: int
    w: int
    h: int
    kind: Literal["face", "subject"] = "subject"

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass(frozen=True)
class Quality:
    """Per-segment measures; `score` in [0, 1] combines them (higher is a better-looking, clearer segment)."""

    sharpness: float  # variance of the Laplacian of the luma, mean over sampled seconds
    motion: float  # mean absolute luma change between sampled seconds, 0..255
    loudness: float | None  # speech RMS in dBFS over the segment; None without audio
    score: float


@dataclass
class Segment:
    """A piece of one source the planner may use, on the source timeline."""

    source: str
    t0: float
    t1: float
    kind: SegmentKind
    label: str | None = None
    sublabel: str | None = None
    product: str | None = None
    text: str = ""
    words: list[Word] = field(default_factory=list)
    confidence: float = 0.0
    speech: tuple[float, float] | None = None  # the sentence's own span inside [t0, t1]
    quality: Quality = field(default_factory=lambda: Quality(0.0, 0.0, None, 0.0))
    box: Box | None = None
    hashes: list[str] = field(default_factory=list)  # one PDQ hash (hex) per second of the segment
    index: int = 0  # position among the footage's segments, in time order

    @property
    def duration(self) -> float:
        return self.t1 - self.t0

    @property
    def key(self) -> str:
        return f"{self.source}@{self.t0:.3f}-{self.t1:.3f}"


@dataclass
class Footage:
    """One analysed input: a recorded room, a product video, or a product image."""

    source: str
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    shots: list[tuple[float, float]]
    segments: list[Segment]
    product: str | None = None
    title: str | None = None
    notes: list[str] = field(default_factory=list)  # what the user should know (no audio, no speech ...)

    def segments_of(self, product: str | None) -> list[Segment]:
        """Segments about `product` (all speech segments when no product is given or known)."""
        if product is None:
            return list(self.segments)
        return [s for s in self.segments if s.product in (product, None)]
