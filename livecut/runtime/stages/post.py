"""The post role: planned posts go to the platforms when their time comes.

Two parts, both in the role's process:
- `schedule_due` (the stage's background loop) looks in the store every `poll_s` seconds, claims the
  posts that are due (a planned post whose time came, a retry whose time came, one whose worker's
  lease ran out) and announces each as `PostDue` on the POSTS topic;
- `handle` takes one `PostDue`: the post's row, its account and credentials, pre-flight (with a
  conforming re-render where that fixes it), the near-duplicate check, then one attempt through the
  platform's protocol with the post's journal in the store. The outcome (platform id, retry time,
  reason, refreshed credentials, needs_reauth) is stored before the event is acknowledged.

An event is delivered at least once: a post that is no longer `posting` is skipped, and a resumed one
continues from its journal, so one post id makes at most one platform video.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distribution import (
    AttemptOutcome,
    Caption,
    Credentials,
    ErrorKind,
    Fingerprint,
    PostedVideo,
    PostError,
    PostJob,
    PostStatus,
    RetryPolicy,
    douyin_video_data,
    ensure_fresh,
    fingerprint,
    next_step,
    prepare,
    refuse_duplicates,
    run_attempt,
)
from distribution.posters import HandoffPoster, WebhookPoster
from livecut.contracts import ClipStatus, PostDue, topics
from livecut.runtime.posting import (
    DistributionSettings,
    SecretKeyMissing,
    as_account,
    distribution_settings,
    poster_for_platform,
    refresher_for,
    rules_for,
    vault,
)
from livecut.runtime.runner import Emit, ErrorPolicy
from livecut.runtime.services import LiveServices
from livecut.store.distribution import StoreJournal

log = logging.getLogger(__name__)

# Account status -> what its claimed post becomes instead of being sent.
HELD_BY_ACCOUNT = {"needs_reauth": "waiting_reauth", "paused": "paused", "disabled": "cancelled"}
DUPLICATE_CODE = "duplicate"


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: float


class PostStage:
    name = "post"
    topic = topics.POSTS
    # The platforms' own failures are handled by the retry policy inside `handle`; what reaches the
    # runner is the store failing, retried a few times before the post is marked failed.
    policy = ErrorPolicy(attempts=3, backoff_s=1.0)

    def __init__(
        self, services: LiveServices, settings: DistributionSettings, environ: Mapping[str, str] | None = None
    ) -> None:
        self.services = services
        self.store = services.store
        self.settings = settings
        self.environ = environ if environ is not None else os.environ
        self.journal = StoreJournal(services.store)
        self.retry = RetryPolicy(
            max_attempts=settings.max_attempts,
            backoff_s=settings.backoff_s,
            rate_limit_wait_s=settings.rate_limit_wait_s,
        )

    # -- the scheduler loop ----------------------------------------------------------------
    async def background(self) -> None:
        """Until cancelled: announce due posts every poll_s seconds, read metrics every metrics_every_s."""
        loops = [self._every(self.settings.poll_s, self.schedule_due, "look for due posts")]
        if self.settings.metrics_every_s > 0:
            loops.append(self._every(self.settings.metrics_every_s, self._collect, "read metrics"))
        await asyncio.gather(*loops)

    async def _collect(self) -> int:
        return await asyncio.to_thread(self.collect_metrics)

    @staticmethod
    async def _every(seconds: float, work: Callable[[], Awaitable[object]], what: str) -> None:
        while True:
            try:
                await work()
            except Exception:  # noqa: BLE001 - the loop outlives a store or network hiccup
                log.exception("post role: could not %s", what)
            await asyncio.sleep(seconds)

    async def schedule_due(self, now: float | None = None) -> list[str]:
        """Claim the due posts and publish a PostDue for each; their ids."""
        now = time.time() if now is None else now
        claimed = await asyncio.to_thread(self.store.claim_due_posts, now, self.settings.lease_s)
        for post in claimed:
            await self.services.bus.publish(topics.POSTS, post["post_id"], PostDue(post["tenant"], post["post_id"]))
        return [p["post_id"] for p in claimed]

    def collect_metrics(self, now: float | None = None) -> int:
        """Plays, likes, comments and shares of the Douyin posts of the last metrics_days; rows stored."""
        now = time.time() if now is None else now
        posted = self.store.posted_since(now - self.settings.metrics_days * 86400, "douyin")
        table = self.settings.platforms.get("douyin", {})
        stored = 0
        for account_id, group in itertools.groupby(posted, key=lambda p: p["account_id"]):
            items = {p["platform_id"]: p["post_id"] for p in group}
            account_row = self.store.account(account_id)
            if account_row is None or account_row["status"] != "active":
                continue
            try:
                credentials = self._fresh_credentials(account_row)
                found = douyin_video_data(
                    list(items),
                    credentials,
                    account_row["extra"].get("open_id", ""),
                    base_url=table.get("base_url") or "https://open.douyin.com",
                    timeout_s=float(table.get("timeout_s") or 30.0),
                )
            except PostError as exc:
                log.warning("metrics of account %s: %s", account_id, exc.reason)
                continue
            for metrics in found:
                if metrics.platform_id in items:
                    self.store.add_post_metrics(
                        items[metrics.platform_id], now, metrics.plays, metrics.likes, metrics.comments, metrics.shares
                    )
                    stored += 1
        return stored

    def _fresh_credentials(self, account_row: dict[str, Any]) -> Credentials:
        """The account's credentials, refreshed (and stored) when they expire soon."""
        credentials = self._credentials(account_row, None)
        refresher = refresher_for(self.settings, account_row["platform"], self.environ)
        margin = self.settings.refresh_margin_s
        current, changed = ensure_fresh(credentials, refresher, account_row["extra"], margin_s=margin)
        if changed:
            ciphertext = vault(self.settings, self.environ).encrypt(current)
            self.store.set_account_credentials(account_row["account_id"], ciphertext)
        return current

    # -- one post ----------------------------------------------------------------------------
    def handle(self, key: str, event: PostDue) -> list[Emit]:
        post = self.store.post(event.post_id)
        if post is None or post["tenant"] != event.tenant:
            log.warning("post %s of %s: no such post; skipped", event.post_id, event.tenant)
            return []
        if post["status"] != PostStatus.POSTING:
            return []  # cancelled, paused or finished since it was announced
        attempt = Attempt(post["attempts"] + 1, time.time())
        account_row = self.store.account(post["account_id"])
        if account_row is None:
            self.store.set_post_status(post["post_id"], "cancelled", reason="account removed", only_from=("posting",))
            return []
        held = HELD_BY_ACCOUNT.get(account_row["status"])
        if held:
            reason = f"account {account_row['account_id']} is {account_row['status']}"
            self.store.set_post_status(post["post_id"], held, reason=reason, only_from=("posting",))
            return []
        outcome, video_print = self._attempt(post, account_row, attempt)
        self._store_outcome(post, account_row, attempt, outcome)
        if outcome.status is PostStatus.POSTED and video_print is not None:
            self.store.add_fingerprint(
                post["post_id"], post["tenant"], post["account_id"], time.time(), video_print.to_bytes()
            )
        return []

    def give_up(self, key: str, event: PostDue, reason: str) -> None:
        self.store.set_post_status(event.post_id, "failed", reason=reason, only_from=("posting",))

    def _attempt(
        self, post: dict[str, Any], account_row: dict[str, Any], attempt: Attempt
    ) -> tuple[AttemptOutcome, Fingerprint | None]:
        """The attempt's outcome, and the fingerprint of the video sent (kept once it is posted)."""
        account = as_account(account_row, self.settings)
        try:
            rules = rules_for(self.settings, account.platform)
            poster = poster_for_platform(self.settings, rules, self.environ)
            credentials = self._credentials(account_row, poster)
            job = prepare(self._job(post, account), rules, self.settings.work_dir)
            video_print = fingerprint(job.video)
            self._refuse_duplicates(post, video_print)
        except PostError as exc:
            step = next_step(exc, attempt.number, time.time(), account, self.retry)
            status = PostStatus.REFUSED_DUPLICATE if exc.platform_code == DUPLICATE_CODE else step.status
            return AttemptOutcome(status, error=exc, retry_at=step.retry_at, reason=step.reason), None
        outcome = run_attempt(
            job,
            poster,
            credentials,
            self.journal,
            refresher=refresher_for(self.settings, account.platform, self.environ),
            attempts=attempt.number,
            policy=self.retry,
            refresh_margin_s=self.settings.refresh_margin_s,
        )
        return outcome, video_print

    def _credentials(self, account_row: dict[str, Any], poster: Any) -> Credentials:
        """The account's decrypted tokens; none needed for a webhook or a hand-off."""
        ciphertext = self.store.account_credentials(account_row["account_id"])
        if ciphertext is None:
            if isinstance(poster, WebhookPoster | HandoffPoster):
                return Credentials(access_token="")
            raise PostError(ErrorKind.NEEDS_REAUTH, "account has no credentials: connect it (PUT its credentials)")
        try:
            return vault(self.settings, self.environ).decrypt(ciphertext)
        except SecretKeyMissing as exc:
            raise PostError(ErrorKind.RETRYABLE, str(exc)) from None
        except ValueError as exc:
            raise PostError(ErrorKind.NEEDS_REAUTH, str(exc)) from None

    def _job(self, post: dict[str, Any], account: Any) -> PostJob:
        clip = self.store.clip(post["clip_id"])
        if clip is None or clip["status"] != ClipStatus.APPROVED:
            state = clip["status"] if clip else "missing"
            raise PostError(ErrorKind.PERMANENT, f"clip {post['clip_id']}: {state}, not approved")
        key = clip.get("vertical") or clip.get("video")
        if not key:
            raise PostError(ErrorKind.PERMANENT, f"clip {post['clip_id']}: has no video")
        try:
            video = self.services.media.local_path(key)
        except (FileNotFoundError, ValueError) as exc:
            raise PostError(ErrorKind.RETRYABLE, f"clip {post['clip_id']}: video not available: {exc}") from None
        caption = post["caption"]
        return PostJob(
            post_id=post["post_id"],
            account=account,
            video=Path(video),
            caption=Caption(
                caption.get("title") or clip.get("text", ""),
                caption.get("description", ""),
                tuple(caption.get("tags", ())),
            ),
            product_url=caption.get("product_url", ""),
            clip_id=post["clip_id"],
        )

    def _refuse_duplicates(self, post: dict[str, Any], candidate: Fingerprint) -> None:
        """PostError `duplicate` when the tenant posted near-identical content within duplicate_days."""
        now = time.time()
        since = now - self.settings.duplicate_days * 86400
        history = [
            PostedVideo(r["post_id"], r["account_id"], r["posted_at"], Fingerprint.from_bytes(r["hashes"]))
            for r in self.store.fingerprints(post["tenant"], since)
            if r["post_id"] != post["post_id"]
        ]
        if not history:
            return
        refuse_duplicates(
            candidate,
            history,
            now=now,
            days=self.settings.duplicate_days,
            threshold=self.settings.duplicate_threshold,
            override=post["override_duplicate"],
        )

    def _store_outcome(
        self, post: dict[str, Any], account_row: dict[str, Any], attempt: Attempt, outcome: AttemptOutcome
    ) -> None:
        if outcome.credentials is not None:
            ciphertext = vault(self.settings, self.environ).encrypt(outcome.credentials)
            self.store.set_account_credentials(account_row["account_id"], ciphertext)
        if outcome.account_status is not None:
            self.store.set_account_status(account_row["account_id"], str(outcome.account_status))
        error = outcome.error
        result = outcome.result
        reason = outcome.reason or (error.reason if error else "")
        if result is not None and result.status is PostStatus.HANDED_OFF:
            reason = f"package ready: {result.detail.get('package', '')}"
        self.store.record_attempt(
            post["post_id"],
            {
                "attempt": attempt.number,
                "started_at": attempt.started_at,
                "status": str(outcome.status),
                "error_kind": str(error.kind) if error else None,
                "platform_code": error.platform_code if error else None,
                "reason": reason or None,
            },
            {
                "status": str(outcome.status),
                "retry_at": outcome.retry_at,
                "platform_id": result.platform_id if result else None,
                "url": result.url if result else None,
                "reason": reason,
            },
        )
        log.info("post %s: attempt %d -> %s %s", post["post_id"], attempt.number, outcome.status, reason)


def post_stage(services: LiveServices) -> PostStage:
    return PostStage(services, distribution_settings(services.config))
