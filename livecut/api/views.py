"""What the API finds and shows on a tenant's behalf: its rooms and clips, as JSON.

A room or clip of another tenant (not granted) is reported exactly like a missing one,
so ids cannot be probed across tenants.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from livecut.api.detail_worker import DetailRenderWorker
from livecut.auth import Principal
from livecut.bus import Bus
from livecut.config import load_config
from livecut.contracts import Word
from livecut.reviews import ReviewLog
from livecut.runtime.catalog_tools import CatalogTools
from livecut.runtime.posting import DistributionSettings
from livecut.store import MetadataStore, Room
from stream.media_store import MediaStore

if TYPE_CHECKING:  # the API process must not load the ingest code (PyAV) just for a type
    from livecut.runtime.rooms import RoomManager

MEDIA_FIELDS = {"video": "video_url", "captions": "captions_url", "captions_vtt": "captions_vtt_url"}
MEDIA_FIELDS |= {"thumbnail": "thumbnail_url", "vertical": "vertical_url"}


@dataclass
class ApiContext:
    """What the API's routes share."""

    store: MetadataStore
    media: MediaStore
    manager: RoomManager | None
    rtmp_base: str
    reviews: ReviewLog | None
    bus: Bus | None
    max_clip_s: float
    # Hosts and networks pull rooms may use besides public addresses (ingest.pull_allow).
    pull_allow: tuple[str, ...] = ()
    # Set when the server shuts down: open event streams end.
    closing: bool = False
    # The [distribution] section (accounts, plans, posts); create_app fills in the defaults.
    distribution: DistributionSettings = field(default_factory=DistributionSettings)
    # The catalog's settings and the sentence embedder, for the product routes (default: config.toml's).
    catalog: CatalogTools = field(default_factory=lambda: CatalogTools(load_config()))
    # The one detail-page renderer of the process (a browser on its own thread, started on first use).
    detail: DetailRenderWorker = field(default_factory=DetailRenderWorker)


def find_room(ctx: ApiContext, principal: Principal, room_id: str) -> Room:
    room = ctx.store.room(room_id)
    if room is None or not (room.tenant == principal.tenant or ctx.store.sees_room(principal.tenant, room_id)):
        raise HTTPException(404, f"room {room_id} not found")
    return room


def find_clip(ctx: ApiContext, principal: Principal, clip_id: str) -> dict[str, Any]:
    clip = ctx.store.clip(clip_id)
    if clip is None or not ctx.store.sees_room(principal.tenant, clip["room"]):
        raise HTTPException(404, f"clip {clip_id} not found")
    return clip


def room_out(ctx: ApiContext, room: Room, principal: Principal) -> dict[str, Any]:
    latencies = ctx.store.latencies(room.id)
    counters = ctx.store.room_counters(room.id)
    out = {
        "id": room.id,
        "name": room.name,
        "tenant": room.tenant,
        "source": {"type": room.source_type, **({"url": room.url} if room.url else {})},
        "brand": room.brand,
        "status": room.status,
        "error": room.error,
        "created_at": room.created_at,
        "updated_at": room.updated_at,
        "started_at": room.started_at,
        "ended_at": room.ended_at,
        "duration_s": round(room.media_end, 3),
        "publishes": room.publishes,
        "processed_to": round(room.processed_to, 3),
        "counters": counters,
        "clips": counters["clips"],
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "playlist_url": f"/media/rooms/{room.id}/index.m3u8",
    }
    # The stream key lets anyone publish into the room: operators need it, viewers do not.
    if room.stream_key and principal.can("operator"):
        out |= {"stream_key": room.stream_key, "rtmp_url": f"{ctx.rtmp_base}/{room.stream_key}"}
    return out


def clips_out(ctx: ApiContext, clips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clips as JSON, each with its words; one query of words per room."""
    by_room: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for clip in clips:
        by_room[clip["room"]].append(clip)
    for room, group in by_room.items():
        words = ctx.store.words(room, min(c["t0"] for c in group), max(c["t1"] for c in group))
        for clip in group:
            _shape(clip, [w for w in words if w.t1 > clip["t0"] and w.t0 < clip["t1"]])
    return clips


def clip_out(ctx: ApiContext, clip: dict[str, Any]) -> dict[str, Any]:
    return clips_out(ctx, [clip])[0]


def _shape(clip: dict[str, Any], words: list[Word]) -> None:
    # Re-rendering (a trim) keeps the file names: the span the files hold makes their URLs new.
    version = hashlib.sha1(repr(clip.get("rendered_span")).encode()).hexdigest()[:8]
    for field_name, url_name in MEDIA_FIELDS.items():
        clip[url_name] = f"/media/{clip[field_name]}?v={version}" if clip.get(field_name) else None
    clip["words"] = [{"t0": round(w.t0, 3), "t1": round(w.t1, 3), "text": w.text} for w in words]
