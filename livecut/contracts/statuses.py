"""The states a room, a clip and a post can be in, named once for the store, the API and the workers."""

from __future__ import annotations

from enum import StrEnum


class RoomStatus(StrEnum):
    WAITING = "waiting"  # created, no publisher yet
    LIVE = "live"  # a publisher is sending
    RECONNECTING = "reconnecting"  # the publisher left; the same key or URL may come back
    ENDED = "ended"  # stopped by a person or by shutdown
    ERROR = "error"  # the stream cannot be used; the reason is on the room


ACTIVE_ROOM_STATUSES = (RoomStatus.WAITING, RoomStatus.LIVE, RoomStatus.RECONNECTING)


class ClipStatus(StrEnum):
    RENDERING = "rendering"
    READY = "ready"
    APPROVED = "approved"
    REJECTED = "rejected"
    FAILED = "failed"


# A clip in one of these has its files; a replayed request for its span is not rendered again.
DONE_CLIP_STATUSES = (ClipStatus.READY, ClipStatus.APPROVED, ClipStatus.REJECTED)
