"""HTTP API: rooms, clips, and media files (with range requests so a browser can seek)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from fastapi import FastAPI, Form, Header, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field, field_validator

from livecut.media_http import media_response
from livecut.metrics import render_latest
from livecut.reviews import ReviewLog
from livecut.rooms import RoomManager
from livecut.store import MetadataStore, Room
from stream.media_store import MediaStore

PULL_SCHEMES = ("rtmp", "http", "https")
MEDIA_FIELDS = {"video": "video_url", "captions": "captions_url", "captions_vtt": "captions_vtt_url"}
MEDIA_FIELDS |= {"thumbnail": "thumbnail_url", "vertical": "vertical_url"}


class PushSource(BaseModel):
    type: Literal["push"]


class PullSource(BaseModel):
    type: Literal["pull"]
    url: str = Field(max_length=2000)

    @field_validator("url")
    @classmethod
    def _supported(cls, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme not in PULL_SCHEMES or not parsed.netloc:
            raise ValueError("url must be rtmp://…, http(s)://….flv or http(s)://….m3u8")
        return url


class ClipReview(BaseModel):
    action: Literal["approve", "reject", "relabel"]
    label: str | None = Field(default=None, max_length=64)
    sublabel: str | None = Field(default=None, max_length=64)


class RoomCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    source: PushSource | PullSource = Field(discriminator="type")
    # Routes the room's reviews to the brand's own classifier model (classifier.brand_models).
    brand: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\w-][\w.-]*$")


def create_app(
    store: MetadataStore,
    media: MediaStore,
    manager: RoomManager | None,
    rtmp_base: str,
    reviews: ReviewLog | None = None,
) -> FastAPI:
    """`rtmp_base` is what publishers are told to push to, e.g. rtmp://127.0.0.1:1935/live."""
    app = FastAPI(title="livecut", description="Live-commerce clipping engine API.")

    def room_out(room: Room) -> dict[str, Any]:
        out = {
            "id": room.id,
            "name": room.name,
            "source": {"type": room.source_type, **({"url": room.url} if room.url else {})},
            "brand": room.brand,
            "status": room.status,
            "error": room.error,
            "created_at": room.created_at,
            "started_at": room.started_at,
            "ended_at": room.ended_at,
            "duration_s": round(room.media_end, 3),
            "publishes": room.publishes,
            "processed_to": round(room.processed_to, 3),
            "counters": store.room_counters(room.id),
            "playlist_url": f"/media/rooms/{room.id}/index.m3u8",
        }
        if room.stream_key:
            out |= {"stream_key": room.stream_key, "rtmp_url": f"{rtmp_base}/{room.stream_key}"}
        return out

    def clip_out(clip: dict[str, Any]) -> dict[str, Any]:
        for field_name, url_name in MEDIA_FIELDS.items():
            clip[url_name] = f"/media/{clip[field_name]}" if clip.get(field_name) else None
        return clip

    def find_room(room_id: str) -> Room:
        room = store.room(room_id)
        if room is None:
            raise HTTPException(404, f"room {room_id} not found")
        return room

    @app.post("/api/rooms", status_code=201)
    async def create_room(body: RoomCreate) -> dict[str, Any]:
        url = body.source.url if isinstance(body.source, PullSource) else None
        room = store.create_room(body.name, body.source.type, url, brand=body.brand)
        # Without ingest in this process, an ingest worker adopts the pull room within its lease period.
        if room.source_type == "pull" and manager is not None:
            manager.start_pull(room)
        return room_out(room)

    @app.get("/api/rooms")
    async def list_rooms() -> list[dict[str, Any]]:
        return [room_out(room) for room in store.rooms()]

    @app.get("/api/rooms/{room_id}")
    async def get_room(room_id: str) -> dict[str, Any]:
        return room_out(find_room(room_id))

    @app.post("/api/rooms/{room_id}/stop")
    async def stop_room(room_id: str) -> dict[str, Any]:
        find_room(room_id)
        if manager is not None:
            await manager.stop_room(room_id)
        else:  # the ingest worker holding the room sees it ended at its next lease renewal
            store.set_room_status(room_id, "ended")
        return room_out(find_room(room_id))

    @app.get("/api/rooms/{room_id}/utterances")
    async def room_utterances(room_id: str) -> list[dict[str, Any]]:
        find_room(room_id)
        return store.utterances(room_id)

    @app.get("/api/clips")
    async def list_clips(
        room: str | None = None,
        label: str | None = None,
        since: Annotated[float | None, Query(description="created_at (epoch seconds) lower bound")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        return [clip_out(c) for c in store.clips(room=room, label=label, since=since, limit=limit)]

    @app.get("/api/clips/{clip_id}")
    async def get_clip(clip_id: str) -> dict[str, Any]:
        clip = store.clip(clip_id)
        if clip is None:
            raise HTTPException(404, f"clip {clip_id} not found")
        return clip_out(clip)

    @app.post("/api/clips/{clip_id}/review")
    async def review_clip(clip_id: str, body: ClipReview) -> dict[str, Any]:
        """Approve, reject or relabel a clip. Approvals and relabels become training examples."""
        clip = store.clip(clip_id)
        if clip is None or clip["status"] in ("rendering", "failed"):
            raise HTTPException(404, f"clip {clip_id} not found or not ready")
        label, sublabel = clip["label"], clip["sublabel"]
        if body.action == "relabel":
            if reviews is None or not reviews.knows(body.label, body.sublabel):
                raise HTTPException(422, f"unknown label {body.label!r} / sublabel {body.sublabel!r}")
            label, sublabel = body.label, body.sublabel
        example = store.review_clip(clip_id, body.action, label, sublabel)
        if reviews is not None and body.action != "reject":
            room = store.room(clip["room"])
            reviews.append(example, brand=room.brand if room else None)
        return clip_out(store.clip(clip_id))

    @app.get("/media/{key:path}")
    async def media_file(key: str, range: Annotated[str | None, Header()] = None) -> Response:
        """A media file (clip, captions, thumbnail, fragment, playlist); `Range: bytes=` for seeking."""
        return await media_response(media, key, range)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(accept: Annotated[str | None, Header()] = None) -> Response:
        """Prometheus metrics of this process (the rooms gauge reads the store, hence the thread)."""
        body, content_type = await asyncio.to_thread(render_latest, None, accept)
        return Response(body, media_type=content_type)

    @app.post("/api/rtmp/on_publish", response_class=PlainTextResponse)
    async def nginx_on_publish(app_name: Annotated[str, Form(alias="app")], name: Annotated[str, Form()]) -> str:
        """nginx-rtmp's on_publish callback: 2xx lets the publisher in, 403 refuses it."""
        if manager is None:
            raise HTTPException(503, "no ingest role in this process: point on_publish at one that has it")
        room_id = await manager.authorize(app_name, name)
        if room_id is None:
            raise HTTPException(403, "unknown or inactive stream key")
        manager.pull_from_front(room_id, name)
        return "ok"

    return app
