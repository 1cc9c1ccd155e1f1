"""Clip routes: list and read a tenant's clips, review them (one or in bulk), trim them, clip any range.

A trim or a range clip is rendered by a render worker (any process on the bus) from the
room's stored fragments: the API records the clip as `rendering` and publishes a
ClipRequest on the CLIP_REQUESTS topic. Approvals and relabels are appended to the
classifier's review examples (ReviewLog) as they are made.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from livecut.api.auth import Authenticator
from livecut.api.models import BulkReview, ClipOut, ClipReview, RangeClip, Span
from livecut.api.views import ApiContext, clip_out, clips_out, find_clip, find_room
from livecut.auth import Principal
from livecut.bus import Bus
from livecut.contracts import ClipRequest, Word, clip_id_for, topics
from segmenter.utterances import join_words

# A clip shorter than this is not worth a render.
MIN_CLIP_S = 1.0
# Fragment times and the range asked for may differ by rounding.
SPAN_SLACK_S = 0.05
ClipStatus = Literal["rendering", "ready", "approved", "rejected", "failed"]
Confidence = Annotated[float | None, Query(ge=0, le=1, allow_inf_nan=False)]


def clips_router(ctx: ApiContext, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["clips"])
    store = ctx.store
    Viewer = Annotated[Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[Principal, Depends(auth.require("operator"))]

    @router.get("/api/clips", response_model=list[ClipOut])
    async def list_clips(
        principal: Viewer,
        room: Annotated[str | None, Query(max_length=64)] = None,
        label: Annotated[str | None, Query(max_length=64)] = None,
        sublabel: Annotated[str | None, Query(max_length=64)] = None,
        product: Annotated[str | None, Query(max_length=64, description="a product's sku")] = None,
        status: ClipStatus | None = None,
        min_confidence: Confidence = None,
        max_confidence: Confidence = None,
        since: Annotated[
            float | None, Query(description="created_at (epoch seconds) lower bound", allow_inf_nan=False)
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Clips of the rooms you see, newest first."""
        found = store.clips(
            room=room,
            label=label,
            since=since,
            limit=limit,
            tenant=principal.tenant,
            sublabel=sublabel,
            status=status,
            min_confidence=min_confidence,
            max_confidence=max_confidence,
            product=product,
        )
        return clips_out(ctx, found)

    @router.get("/api/clips/{clip_id}", response_model=ClipOut)
    async def get_clip(clip_id: str, principal: Viewer) -> dict[str, Any]:
        return clip_out(ctx, find_clip(ctx, principal, clip_id))

    @router.post("/api/clips/review", response_model=list[ClipOut])
    async def review_clips(body: BulkReview, principal: Operator) -> list[dict[str, Any]]:
        """Approve or reject many clips at once; none is changed if any is missing or not ready."""
        clips = [reviewable(principal, clip_id) for clip_id in dict.fromkeys(body.clip_ids)]
        for clip in clips:
            apply_review(principal, clip, body.action, clip["label"], clip["sublabel"], bulk=True)
        return clips_out(ctx, [current(clip["clip_id"]) for clip in clips])

    @router.post("/api/clips/{clip_id}/review", response_model=ClipOut)
    async def review_clip(clip_id: str, body: ClipReview, principal: Operator) -> dict[str, Any]:
        """Approve, reject or relabel a clip. Approvals and relabels become training examples."""
        clip = reviewable(principal, clip_id)
        label, sublabel = clip["label"], clip["sublabel"]
        if body.action == "relabel":
            if ctx.reviews is None or not ctx.reviews.knows(body.label, body.sublabel):
                raise HTTPException(422, f"unknown label {body.label!r} / sublabel {body.sublabel!r}")
            label, sublabel = body.label, body.sublabel
        apply_review(principal, clip, body.action, label, sublabel)
        return clip_out(ctx, current(clip_id))

    @router.post(
        "/api/clips/{clip_id}/trim",
        status_code=202,
        response_model=ClipOut,
        responses={409: {"description": "still rendering"}},
    )
    async def trim_clip(clip_id: str, body: Span, principal: Operator) -> dict[str, Any]:
        """Move a clip's in and out points (room timeline seconds); it is re-rendered under the same id
        from the stored fragments, `rendering` until then."""
        bus = render_bus()
        clip = find_clip(ctx, principal, clip_id)
        if clip["status"] == "rendering":
            raise HTTPException(409, f"clip {clip_id} is still rendering: trim it once it is ready")
        check_span(clip["room"], body)
        words = words_in(clip["room"], body)
        text = join_words(words)
        if not store.requeue_clip(clip_id, body.t0, body.t1, text):
            raise HTTPException(409, f"clip {clip_id} is still rendering: trim it once it is ready")
        request = ClipRequest(
            clip_id=clip_id,
            room=clip["room"],
            source=clip.get("source") or f"room:{clip['room']}",
            t0=body.t0,
            t1=body.t1,
            label=clip["label"],
            sublabel=clip["sublabel"],
            text=text,
            words=words,
            confidence=clip.get("confidence") or 0.0,
            needs_review=clip.get("needs_review", False),
            time_bound=clip.get("time_bound", False),
            banned_claims=list(clip.get("banned_claims", [])),
        )
        await bus.publish(topics.CLIP_REQUESTS, request.room, request)
        detail = {"t0": body.t0, "t1": body.t1, "was": [clip["t0"], clip["t1"]]}
        store.audit(principal.username, principal.tenant, "clip.trim", f"clip:{clip_id}", detail, clip["room"])
        return clip_out(ctx, current(clip_id))

    @router.post("/api/rooms/{room_id}/clips", status_code=202, response_model=ClipOut, tags=["rooms"])
    async def clip_range(room_id: str, body: RangeClip, principal: Operator) -> dict[str, Any]:
        """A new clip of any range of the room's recording, with the label you give it. Asking for
        the same range and label again returns the same clip."""
        bus = render_bus()
        find_room(ctx, principal, room_id)
        if ctx.reviews is not None and not ctx.reviews.knows(body.label, body.sublabel):
            raise HTTPException(422, f"unknown label {body.label!r} / sublabel {body.sublabel!r}")
        check_span(room_id, body)
        words = words_in(room_id, body)
        request = ClipRequest(
            clip_id=clip_id_for(room_id, body.t0, body.t1, body.label, body.sublabel),
            room=room_id,
            source=f"room:{room_id}",
            t0=body.t0,
            t1=body.t1,
            label=body.label,
            sublabel=body.sublabel,
            text=join_words(words),
            words=words,
            # An operator chose the label: as sure as a review.
            confidence=1.0,
        )
        if store.request_clip(request):
            await bus.publish(topics.CLIP_REQUESTS, room_id, request)
            detail = {"t0": body.t0, "t1": body.t1, "label": body.label, "sublabel": body.sublabel}
            store.audit(principal.username, principal.tenant, "clip.create", f"clip:{request.clip_id}", detail, room_id)
        return clip_out(ctx, current(request.clip_id))

    def reviewable(principal: Principal, clip_id: str) -> dict[str, Any]:
        clip = find_clip(ctx, principal, clip_id)
        if clip["status"] in ("rendering", "failed"):
            raise HTTPException(404, f"clip {clip_id} not found or not ready")
        return clip

    def current(clip_id: str) -> dict[str, Any]:
        """The clip as stored now; a pending one may have been replaced meanwhile by an overlapping request."""
        clip = store.clip(clip_id)
        if clip is None:
            raise HTTPException(404, f"clip {clip_id} not found")
        return clip

    def apply_review(
        principal: Principal, clip: dict[str, Any], action: str, label: str, sublabel: str | None, bulk: bool = False
    ) -> None:
        example = store.review_clip(clip["clip_id"], action, label, sublabel)
        detail = {"action": action, "label": label, "sublabel": sublabel} | ({"bulk": True} if bulk else {})
        store.audit(
            principal.username, principal.tenant, "clip.review", f"clip:{clip['clip_id']}", detail, clip["room"]
        )
        if ctx.reviews is not None and action != "reject":
            room = store.room(clip["room"])
            ctx.reviews.append(example, brand=room.brand if room else None)

    def check_span(room_id: str, span: Span) -> None:
        """422 unless the span is a clip's length of the room's recorded media."""
        length = span.t1 - span.t0
        if not MIN_CLIP_S <= length <= ctx.max_clip_s:
            raise HTTPException(422, f"a clip lasts {MIN_CLIP_S:g} to {ctx.max_clip_s:g} s, not {length:.2f} s")
        recorded = store.recorded_span(room_id)
        if recorded is None:
            raise HTTPException(422, f"room {room_id} has no recorded media yet")
        if span.t0 < recorded[0] - SPAN_SLACK_S or span.t1 > recorded[1] + SPAN_SLACK_S:
            raise HTTPException(
                422, f"{span.t0:.2f}-{span.t1:.2f} s is outside the recorded {recorded[0]:.2f}-{recorded[1]:.2f} s"
            )

    def words_in(room_id: str, span: Span) -> list[Word]:
        """The room's words whose middle falls in the span: the clip's captions and text."""
        return [w for w in store.words(room_id, span.t0, span.t1) if span.t0 <= (w.t0 + w.t1) / 2 <= span.t1]

    def render_bus() -> Bus:
        if ctx.bus is None:
            raise HTTPException(503, "this process has no bus to send render requests on")
        return ctx.bus

    return router
