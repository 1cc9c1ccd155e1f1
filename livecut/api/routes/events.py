"""GET /api/events: a Server-Sent Events stream of the caller's room and clip changes.

The stream polls the metadata store for rows changed since its last look (rooms.updated_at,
clips.updated_at), filtered to the caller's tenant in SQL, so it sees changes made by any
process: the API need not be the process that ingests or renders. Each look reaches back
CHANGE_WINDOW_S, because a row may commit a little after the time it was stamped with (or
be stamped by a machine whose clock is a little behind); rows already sent are skipped.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from livecut.api.auth import Authenticator, Credential
from livecut.api.views import ApiContext, clips_out, room_out
from livecut.auth import Principal
from livecut.store import MetadataStore

POLL_S = 0.5
HEARTBEAT_S = 15.0
# How often the stream checks that its credentials still work (a revoked token ends it).
RECHECK_S = 5.0
CHANGE_WINDOW_S = 10.0
RETRY_MS = 3000


class ChangeFeed:
    """The room and clip rows one tenant sees that changed since the previous poll."""

    def __init__(self, store: MetadataStore, tenant: str) -> None:
        self.store = store
        self.tenant = tenant
        self.looked_at = time.time()
        self.sent: dict[tuple[str, str], float] = {}
        self.poll()  # what changed before the stream opened is not news

    def poll(self) -> tuple[list[Any], list[dict[str, Any]]]:
        """(rooms, clips) changed since the last poll, each at most once per change."""
        now = time.time()
        since = min(self.looked_at, now) - CHANGE_WINDOW_S
        rooms = [r for r in self.store.changed_rooms(self.tenant, since) if self._new("room", r.id, r.updated_at)]
        clips = [
            c for c in self.store.changed_clips(self.tenant, since) if self._new("clip", c["clip_id"], c["updated_at"])
        ]
        self.sent = {key: at for key, at in self.sent.items() if at > since}
        self.looked_at = now
        return rooms, clips

    def _new(self, kind: str, row_id: str, updated_at: float) -> bool:
        if self.sent.get((kind, row_id)) == updated_at:
            return False
        self.sent[(kind, row_id)] = updated_at
        return True


def events_router(
    ctx: ApiContext, auth: Authenticator, poll_s: float = POLL_S, heartbeat_s: float = HEARTBEAT_S
) -> APIRouter:
    router = APIRouter(tags=["events"])

    @router.get(
        "/api/events",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "`event: room` and `event: clip`"}},
    )
    async def events(request: Request, principal: Annotated[Principal, Depends(auth.require("viewer"))]):
        """Server-Sent Events: `event: clip` with a clip's JSON when a clip you see is made or changes
        (status, label, bounds), `event: room` with a room's JSON when a room you see changes, and a
        comment line every 15 s. The stream ends when your credentials are revoked."""
        feed = await asyncio.to_thread(ChangeFeed, ctx.store, principal.tenant)
        stream = _stream(ctx, auth, request, principal, feed, poll_s, heartbeat_s)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    return router


async def _stream(
    ctx: ApiContext,
    auth: Authenticator,
    request: Request,
    principal: Principal,
    feed: ChangeFeed,
    poll_s: float,
    heartbeat_s: float,
) -> AsyncIterator[str]:
    credential: Credential = request.state.credential
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    beat = checked = time.monotonic()
    while not ctx.closing and not await request.is_disconnected():
        frames = await asyncio.to_thread(_frames, ctx, principal, feed)
        if frames:
            yield "".join(frames)
        now = time.monotonic()
        if now - beat >= heartbeat_s:
            beat = now
            yield ": heartbeat\n\n"
        if now - checked >= RECHECK_S:
            checked = now
            if await asyncio.to_thread(auth.lookup, credential) is None:
                return
        await asyncio.sleep(poll_s)


def _frames(ctx: ApiContext, principal: Principal, feed: ChangeFeed) -> list[str]:
    rooms, clips = feed.poll()
    frames = [_frame("room", room_out(ctx, room, principal)) for room in rooms]
    return frames + [_frame("clip", clip) for clip in clips_out(ctx, clips)]


def _frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"
