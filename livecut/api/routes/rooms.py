"""Room routes: create, list, look at and stop a tenant's rooms, and read their transcripts."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from livecut.api.auth import Authenticator
from livecut.api.models import PullSource, RoomCreate, RoomOut
from livecut.api.views import ApiContext, find_room, room_out
from livecut.auth import Principal
from livecut.contracts import RoomStatus
from stream.pull_guard import PullUrlRefused, check_pull_url


def rooms_router(ctx: ApiContext, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["rooms"])
    store = ctx.store
    Viewer = Annotated[Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[Principal, Depends(auth.require("operator"))]

    @router.post(
        "/api/rooms",
        status_code=201,
        response_model=RoomOut,
        response_model_exclude_unset=True,
        responses={422: {"description": "a bad field, or a pull url on a private address"}},
    )
    async def create_room(body: RoomCreate, principal: Operator) -> dict[str, Any]:
        """A room of your tenant: push (publish to its rtmp_url) or pull (livecut connects to the url).
        A pull url must reach a public address (or one the server's ingest.pull_allow lists)."""
        url = body.source.url if isinstance(body.source, PullSource) else None
        if url is not None:
            try:
                await asyncio.to_thread(check_pull_url, url, ctx.pull_allow)
            except PullUrlRefused as exc:
                raise HTTPException(422, f"source.url: {exc}") from None
        room = store.create_room(body.name, body.source.type, url, brand=body.brand, tenant=principal.tenant)
        store.audit(
            principal.username, principal.tenant, "room.create", f"room:{room.id}", {"name": body.name}, room.id
        )
        # Without ingest in this process, an ingest worker adopts the pull room within its lease period.
        if room.source_type == "pull" and ctx.manager is not None:
            ctx.manager.start_pull(room)
        return room_out(ctx, room, principal)

    @router.get("/api/rooms", response_model=list[RoomOut], response_model_exclude_unset=True)
    async def list_rooms(principal: Viewer) -> list[dict[str, Any]]:
        """Your tenant's rooms and the rooms granted to it, newest first."""
        return [room_out(ctx, room, principal) for room in store.rooms(tenant=principal.tenant)]

    @router.get("/api/rooms/{room_id}", response_model=RoomOut, response_model_exclude_unset=True)
    async def get_room(room_id: str, principal: Viewer) -> dict[str, Any]:
        return room_out(ctx, find_room(ctx, principal, room_id), principal)

    @router.post("/api/rooms/{room_id}/stop", response_model=RoomOut, response_model_exclude_unset=True)
    async def stop_room(room_id: str, principal: Operator) -> dict[str, Any]:
        find_room(ctx, principal, room_id)
        if ctx.manager is not None:
            await ctx.manager.stop_room(room_id)
        else:  # the ingest worker holding the room sees it ended at its next lease renewal
            store.set_room_status(room_id, RoomStatus.ENDED)
        store.audit(principal.username, principal.tenant, "room.stop", f"room:{room_id}", room=room_id)
        return room_out(ctx, find_room(ctx, principal, room_id), principal)

    @router.get("/api/rooms/{room_id}/utterances")
    async def room_utterances(room_id: str, principal: Viewer) -> list[dict[str, Any]]:
        """The room's transcript: one row per utterance, with its label, in timeline order."""
        find_room(ctx, principal, room_id)
        return store.utterances(room_id)

    return router
