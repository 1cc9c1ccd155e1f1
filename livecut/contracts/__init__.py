"""What the domain packages and the shell agree on: events, topics, statuses and the wire codec.

Every domain package (stream, segmenter, clipper, catalog, distribution) imports from here and
from nothing else of the shell.
"""

from livecut.contracts import topics
from livecut.contracts.events import (
    SAMPLE_RATE,
    AudioChunk,
    ClipReady,
    ClipRequest,
    Correction,
    EndOfStream,
    Fragment,
    MediaInfo,
    Utterance,
    Word,
    clip_id_for,
)
from livecut.contracts.posts import PostDue
from livecut.contracts.statuses import ACTIVE_ROOM_STATUSES, DONE_CLIP_STATUSES, ClipStatus, RoomStatus

__all__ = [
    "ACTIVE_ROOM_STATUSES",
    "DONE_CLIP_STATUSES",
    "SAMPLE_RATE",
    "AudioChunk",
    "ClipReady",
    "ClipRequest",
    "ClipStatus",
    "Correction",
    "EndOfStream",
    "Fragment",
    "MediaInfo",
    "PostDue",
    "RoomStatus",
    "Utterance",
    "Word",
    "clip_id_for",
    "topics",
]
