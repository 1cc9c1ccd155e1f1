"""Event contracts: the typed frames that flow between pipeline stages.

Every domain package (stream, segmenter, clipper, catalog, distribution) depends on
these types and on nothing else of the project. All times are seconds on the room's
media timeline (from packet timestamps); `received_at` is wall-clock and is used only
to measure latency.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class MediaInfo:
    """What a source contains, known once it has been opened."""

    source: str
    duration: float | None
    has_video: bool
    audio_codec: str
    video_codec: str | None
    width: int | None = None
    height: int | None = None


@dataclass
class AudioChunk:
    """Decoded mono float32 PCM at SAMPLE_RATE, starting at `t0` on the media timeline."""

    room: str
    t0: float
    samples: np.ndarray
    received_at: float = 0.0

    @property
    def t1(self) -> float:
        return self.t0 + len(self.samples) / SAMPLE_RATE


@dataclass
class EndOfStream:
    """The source has no more media; stages flush what they hold."""

    room: str
    t: float


@dataclass(frozen=True)
class Word:
    t0: float
    t1: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Correction:
    """One change the segmenter made to recognised text, so an operator can see and undo it.

    `start`/`end` index the change in the utterance's text as it is now; `original` is what
    Whisper wrote there. `kind`: "lexicon" (a misheard room-vocabulary word) or "number" (a
    price, percentage or size put in one readable form).
    """

    start: int
    end: int
    original: str
    replacement: str
    kind: str = "lexicon"


@dataclass
class Utterance:
    """One sentence or clause of speech, with its label once classified."""

    room: str
    t0: float
    t1: float
    text: str
    lang: str
    words: list[Word] = field(default_factory=list)
    label: str | None = None
    sublabel: str | None = None
    confidence: float = 0.0
    received_at: float = 0.0
    # Set by the classifier: low confidence (an operator should check the label), a claim that is
    # only true on air (今晚, 倒计时, "tonight only"), absolute claims banned in advertising (最, 第一).
    needs_review: bool = False
    time_bound: bool = False
    banned_claims: list[str] = field(default_factory=list)
    # The product this utterance is about, when known (catalog lineup cues); clips never mix products.
    product: str | None = None
    # Changes made to Whisper's text (lexicon fixes, number forms), in order; see Correction.
    corrections: list[Correction] = field(default_factory=list)

    @property
    def original_text(self) -> str:
        """The text as Whisper wrote it, before the corrections."""
        text = self.text
        for c in reversed(self.corrections):
            text = text[: c.start] + c.original + text[c.end :]
        return text

    def to_record(self) -> dict[str, Any]:
        return {
            "t0": round(self.t0, 3),
            "t1": round(self.t1, 3),
            "text": self.text,
            "lang": self.lang,
            "label": self.label,
            "sublabel": self.sublabel,
            "confidence": round(self.confidence, 4),
            "needs_review": self.needs_review,
            "time_bound": self.time_bound,
            "banned_claims": list(self.banned_claims),
            "product": self.product,
            "corrections": [asdict(c) for c in self.corrections],
        }


def clip_id_for(room: str, t0: float, t1: float, label: str, sublabel: str | None) -> str:
    """Deterministic id: a replayed or duplicated request yields the same clip, never a second one."""
    key = f"{room}|{t0:.2f}|{t1:.2f}|{label}|{sublabel or ''}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class ClipRequest:
    """A span of one topic that should become a clip. `words` carry the caption timing."""

    clip_id: str
    room: str
    source: str
    t0: float
    t1: float
    label: str
    sublabel: str | None
    text: str
    words: list[Word] = field(default_factory=list)
    confidence: float = 0.0
    received_at: float = 0.0
    # Any of the clip's utterances needs review / is time-bound; the banned claims of all of them.
    needs_review: bool = False
    time_bound: bool = False
    banned_claims: list[str] = field(default_factory=list)
    # Every selling-point sublabel the clip covers, longest first (`sublabel` is the first of them).
    sublabels: list[str] = field(default_factory=list)
    product: str | None = None

    @property
    def duration(self) -> float:
        return self.t1 - self.t0


@dataclass
class ClipReady:
    """A rendered clip. Paths are relative to the output folder the renderer was given."""

    clip_id: str
    room: str
    source: str
    t0: float
    t1: float
    label: str
    sublabel: str | None
    text: str
    video: str
    captions: str
    captions_vtt: str
    thumbnail: str
    duration: float
    vertical: str | None = None
    confidence: float = 0.0
    needs_review: bool = False
    time_bound: bool = False
    banned_claims: list[str] = field(default_factory=list)
    sublabels: list[str] = field(default_factory=list)
    product: str | None = None

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["t0"] = round(self.t0, 3)
        record["t1"] = round(self.t1, 3)
        record["duration"] = round(self.duration, 3)
        record["confidence"] = round(self.confidence, 4)
        return record


@dataclass(frozen=True)
class Fragment:
    """A piece of a room's recording (stream copy) in the media store: ~2 s from one video
    keyframe to the next, or, in a live room that splits its fragments, a part of that.

    `keyframe`: the fragment starts at a video keyframe, so its video decodes on its own;
    one that does not continues the fragment before it (stream.recorder, split_s).
    """

    room: str
    seq: int
    t0: float
    t1: float
    uri: str
    received_at: float = 0.0
    keyframe: bool = True
