"""Plan and post routes: plan approved clips over a group's accounts, approve-and-schedule in one action,
list posts with their attempts and errors, move, cancel, retry, and mark a hand-off package posted.

Plans come from `distribution.plan_day` over the tenant's accounts, with the tenant's stored posts
as what already counts (caps, spacing, one clip per account, at most K accounts of a group). The
post role sends each post when its time comes.
"""

import asyncio
import contextlib
import time
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from livecut.api.auth import Authenticator
from livecut.api.models import (
    AttemptOut,
    ClipOut,
    MarkPosted,
    PlanCreate,
    PostCaption,
    PostMove,
    PostOut,
    PostRetry,
    ScheduleClip,
)
from livecut.api.routes.accounts import find_account
from livecut.api.views import ApiContext, clip_out, find_clip
from livecut.auth import Principal
from livecut.runtime.posting import DistributionSettings, as_account, known_platforms

PostStatusName = Literal[
    "planned",
    "posting",
    "retry_wait",
    "waiting_reauth",
    "paused",
    "handed_off",
    "posted",
    "failed",
    "uncertain",
    "refused_duplicate",
    "cancelled",
]
# Stored post status -> the scheduler's view of it (what counts for caps, spacing and K).
PLAN_STATUS = {"planned": "planned", "retry_wait": "planned", "waiting_reauth": "planned", "paused": "paused"}
PLAN_STATUS |= {"cancelled": "cancelled"}  # every other status is done: posted, or being posted, or with a person
# How many days ahead approve-and-schedule looks for a free slot.
SCHEDULE_DAYS = 7
RETRYABLE_BY_HAND = ("failed", "refused_duplicate", "uncertain")


def plan_posts(
    ctx: ApiContext,
    tenant: str,
    clips: list[dict[str, Any]],
    group: str,
    day: date,
    priority: int,
    caption: PostCaption,
) -> list[dict[str, Any]]:
    """Plan the clips for `day` over the tenant's accounts of `group` and store the new posts."""
    from distribution import ClipToPlan, plan_day

    settings = ctx.distribution
    platforms = known_platforms(settings)
    # Only the group's accounts and their posts matter: caps, spacing and K are per account and group.
    accounts = [as_account(row, settings, platforms) for row in ctx.store.accounts(tenant, group)]
    existing = [as_planned(p) for p in ctx.store.group_posts(tenant, group)]
    now = time.time()
    wanted = [ClipToPlan(c["clip_id"], tenant, group, priority, not_before=now) for c in clips]
    planned = plan_day(
        wanted,
        accounts,
        day,
        now=now,
        seed=int(now),
        settings=_scheduler_settings(settings),
        existing=existing,
    )
    records = [
        {
            "post_id": p.post_id,
            "clip_id": p.clip_id,
            "account_id": p.account_id,
            "at": p.at,
            "priority": p.priority,
            "caption": caption.model_dump(),
        }
        for p in planned
    ]
    added = set(ctx.store.add_posts(tenant, records))
    return [post for r in records if r["post_id"] in added and (post := ctx.store.post(r["post_id"])) is not None]


def as_planned(post: dict[str, Any]) -> Any:
    """A stored post as the scheduler sees it: what counts for caps, spacing and K."""
    from distribution import PlannedPost, PlanStatus

    status = PlanStatus(PLAN_STATUS.get(post["status"], "done"))
    return PlannedPost(post["post_id"], post["clip_id"], post["account_id"], post["at"], post["priority"], status)


def _scheduler_settings(settings: DistributionSettings) -> Any:
    from distribution import SchedulerSettings

    return SchedulerSettings(
        max_accounts_per_group=settings.max_accounts_per_group, jitter_s=settings.jitter_s, lead_s=settings.lead_s
    )


def posts_router(ctx: ApiContext, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["posts"])
    store = ctx.store
    Viewer = Annotated[Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[Principal, Depends(auth.require("operator"))]

    def find_post(principal: Principal, post_id: str) -> dict[str, Any]:
        post = store.post(post_id)
        if post is None or post["tenant"] != principal.tenant:
            raise HTTPException(404, f"post {post_id} not found")
        return post

    def post_out(post: dict[str, Any]) -> PostOut:
        attempts = [AttemptOut(**a) for a in store.post_attempts(post["post_id"])]
        return PostOut(**post, attempt_log=attempts, metrics=store.post_metrics(post["post_id"]))

    def approved_clip(principal: Principal, clip_id: str) -> dict[str, Any]:
        clip = find_clip(ctx, principal, clip_id)
        if clip["status"] != "approved":
            raise HTTPException(422, f"clip {clip_id} is {clip['status']}: only approved clips are posted")
        return clip

    @router.post("/api/plans", status_code=201)
    async def create_plan(body: PlanCreate, operator: Operator) -> list[PostOut]:
        """Plan approved clips for a day over your accounts of `group` (each account's caps, spacing and
        windows kept; a clip on at most `max_accounts_per_group` accounts of the group). Returns the new
        posts; a clip already planned on an account is not planned there again."""
        try:
            day = date.fromisoformat(body.day)
        except ValueError:
            raise HTTPException(422, f"day: {body.day!r} is not a date (YYYY-MM-DD)") from None
        clips = [approved_clip(operator, clip_id) for clip_id in dict.fromkeys(body.clip_ids)]
        made = await asyncio.to_thread(
            plan_posts, ctx, operator.tenant, clips, body.group, day, body.priority, body.caption
        )
        detail = {"clips": [c["clip_id"] for c in clips], "group": body.group, "day": body.day, "posts": len(made)}
        store.audit(operator.username, operator.tenant, "plan.create", f"group:{body.group}", detail)
        return [post_out(p) for p in made]

    @router.post("/api/clips/{clip_id}/schedule", status_code=201, tags=["clips"])
    async def schedule_clip(clip_id: str, body: ScheduleClip, operator: Operator) -> dict[str, Any]:
        """Approve a clip and plan it over your accounts of `group` in one action: on the first day (of
        the next seven) with free slots. Returns the clip and its new posts."""
        clip = find_clip(ctx, operator, clip_id)
        if clip["status"] in ("rendering", "failed"):
            raise HTTPException(409, f"clip {clip_id} is {clip['status']}: it cannot be posted")
        if clip["status"] != "approved":
            example = store.review_clip(clip_id, "approve", clip["label"], clip["sublabel"])
            detail = {"action": "approve", "label": clip["label"], "sublabel": clip["sublabel"], "schedule": True}
            store.audit(operator.username, operator.tenant, "clip.review", f"clip:{clip_id}", detail, clip["room"])
            if ctx.reviews is not None:  # an approval is a training example, however it is made
                room = store.room(clip["room"])
                ctx.reviews.append(example, brand=room.brand if room else None)
        clip = find_clip(ctx, operator, clip_id)
        made: list[dict[str, Any]] = []
        today = date.today()
        for offset in range(SCHEDULE_DAYS):
            day = today + timedelta(days=offset)
            made = await asyncio.to_thread(
                plan_posts, ctx, operator.tenant, [clip], body.group, day, body.priority, body.caption
            )
            if made:
                break
        detail = {"group": body.group, "posts": [p["post_id"] for p in made]}
        store.audit(operator.username, operator.tenant, "clip.schedule", f"clip:{clip_id}", detail, clip["room"])
        return {"clip": ClipOut(**clip_out(ctx, clip)), "posts": [post_out(p) for p in made]}

    @router.get("/api/posts")
    async def list_posts(
        principal: Viewer,
        status: PostStatusName | None = None,
        account_id: Annotated[str | None, Query(max_length=64)] = None,
        clip_id: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[float | None, Query(ge=0, le=1e10, allow_inf_nan=False)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[PostOut]:
        """Your tenant's posts by time, each with its attempts (errors and platform codes) and metrics."""
        found = store.posts(
            principal.tenant, status=status, account_id=account_id, clip_id=clip_id, since=since, limit=limit
        )
        return [post_out(p) for p in found]

    @router.get("/api/posts/{post_id}")
    async def get_post(post_id: str, principal: Viewer) -> PostOut:
        return post_out(find_post(principal, post_id))

    @router.post("/api/posts/{post_id}/move")
    async def move_post(post_id: str, body: PostMove, operator: Operator) -> PostOut:
        """A planned post's new time: inside the account's windows, its spacing and daily cap kept."""
        from distribution import move

        post = find_post(operator, post_id)
        account = as_account(find_account(ctx, operator, post["account_id"]), ctx.distribution)
        plan = [as_planned(p) for p in store.posts(operator.tenant, account_id=post["account_id"], limit=1_000_000)]
        try:
            move(plan, post_id, body.at, account)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        if not store.move_post(post_id, body.at):
            raise HTTPException(409, f"post {post_id} is no longer planned")
        detail = {"at": body.at, "was": post["at"]}
        store.audit(operator.username, operator.tenant, "post.move", f"post:{post_id}", detail)
        return post_out(find_post(operator, post_id))

    @router.post("/api/posts/{post_id}/cancel")
    async def cancel_post(post_id: str, operator: Operator) -> PostOut:
        """Cancel a post not yet sent (a post being sent or finished cannot be cancelled: 409)."""
        post = find_post(operator, post_id)
        allowed = ("planned", "retry_wait", "waiting_reauth", "paused")
        if not store.set_post_status(
            post_id, "cancelled", reason=f"cancelled by {operator.username}", only_from=allowed
        ):
            raise HTTPException(409, f"post {post_id} is {post['status']}: it cannot be cancelled")
        store.audit(operator.username, operator.tenant, "post.cancel", f"post:{post_id}")
        return post_out(find_post(operator, post_id))

    @router.post("/api/posts/{post_id}/retry")
    async def retry_post(post_id: str, body: PostRetry, operator: Operator) -> PostOut:
        """Send a failed, refused or uncertain post again now (after a person checked the platform for an
        uncertain one); `override_duplicate` lets a near-duplicate through."""
        post = find_post(operator, post_id)
        if post["status"] not in RETRYABLE_BY_HAND:
            raise HTTPException(
                409, f"post {post_id} is {post['status']}: only {', '.join(RETRYABLE_BY_HAND)} are retried"
            )
        if body.override_duplicate:
            store.set_override_duplicate(post_id, True)
        reason = f"retried by {operator.username}"
        store.set_post_status(post_id, "planned", reason=reason, only_from=RETRYABLE_BY_HAND)
        store.move_post(post_id, time.time())
        detail = {"was": post["status"], "override_duplicate": body.override_duplicate}
        store.audit(operator.username, operator.tenant, "post.retry", f"post:{post_id}", detail)
        return post_out(find_post(operator, post_id))

    @router.post("/api/posts/{post_id}/mark-posted")
    async def mark_posted(post_id: str, body: MarkPosted, operator: Operator) -> PostOut:
        """A hand-off package was uploaded by hand: record where it went (its manifest says so too)."""
        post = find_post(operator, post_id)
        if post["status"] != "handed_off":
            raise HTTPException(409, f"post {post_id} is {post['status']}: only a handed-off post is marked posted")
        await asyncio.to_thread(_mark_package, ctx, operator, post, body)
        if not store.mark_posted(post_id, body.platform_id, body.url):
            raise HTTPException(409, f"post {post_id} changed meanwhile")
        store.audit(operator.username, operator.tenant, "post.mark_posted", f"post:{post_id}", body.model_dump())
        return post_out(find_post(operator, post_id))

    return router


def _mark_package(ctx: ApiContext, principal: Principal, post: dict[str, Any], body: MarkPosted) -> None:
    """Write `posted` into the hand-off package's manifest, where the operator's tools read it."""
    from distribution import Caption, PostJob
    from distribution.posters import HandoffPoster

    account = as_account(find_account(ctx, principal, post["account_id"]), ctx.distribution)
    job = PostJob(post["post_id"], account, ctx.distribution.handoff_dir, Caption(""), clip_id=post["clip_id"])
    # A package folder cleaned up by hand is no error: the store's record is what counts.
    with contextlib.suppress(KeyError):
        HandoffPoster(ctx.distribution.handoff_dir).mark_posted(job, body.url, body.platform_id)
