"""One attempt at a post: fresh credentials, the platform's protocol, and the next step on failure.

The shell calls `prepare` once (pre-flight and, where safe, a conforming re-render), then
`run_attempt` whenever the post is due, and stores what comes back: the post's status and retry
time, the attempt's error, new credentials to encrypt, the account's new status.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from distribution.accounts import AccountStatus
from distribution.credentials import Credentials, TokenRefresher, ensure_fresh
from distribution.errors import ErrorKind, PostError
from distribution.journal import PostJournal
from distribution.posting import Poster, PostJob, PostResult, PostStatus
from distribution.preflight import Violation, conform, preflight
from distribution.retry import RetryPolicy, next_step
from distribution.rules import PlatformRules


@dataclass(frozen=True)
class AttemptOutcome:
    status: PostStatus
    result: PostResult | None = None
    error: PostError | None = None
    retry_at: float | None = None
    credentials: Credentials | None = None  # set when refreshed: the caller encrypts and stores them
    account_status: AccountStatus | None = None  # set when the account must change (needs_reauth)
    reason: str = ""  # what the operator reads on the post


def violations_text(violations: list[Violation]) -> str:
    return "; ".join(f"{v.field}: {v.message}" for v in violations)


def prepare(job: PostJob, rules: PlatformRules, workdir: Path, *, allow_rerender: bool = True) -> PostJob:
    """The job with a video that passes pre-flight, or PostError PERMANENT naming every violation.

    A re-render happens only when every violation is fixable by one; text is never changed.
    """
    found = preflight(job.video, job.caption, rules, job.cover)
    blocking = [v for v in found if not v.fixable or v.field == "cover"]
    if job.cover is None and rules.cover.required:
        blocking = [v for v in blocking if v.field != "cover"]  # the hand-off poster extracts a cover frame
    if blocking:
        raise PostError(ErrorKind.PERMANENT, f"pre-flight: {violations_text(blocking)}")
    if not [v for v in found if v.field != "cover"]:
        return job
    if not allow_rerender:
        raise PostError(ErrorKind.PERMANENT, f"pre-flight: {violations_text(found)}")
    out = Path(workdir) / f"{job.post_id}.{rules.name}.mp4"
    if not out.exists():
        conform(job.video, rules, out)
    left = [v for v in preflight(out, job.caption, rules, job.cover) if v.field != "cover"]
    if left:
        raise PostError(ErrorKind.PERMANENT, f"pre-flight after re-render: {violations_text(left)}")
    return replace(job, video=out)


def run_attempt(
    job: PostJob,
    poster: Poster,
    credentials: Credentials,
    journal: PostJournal,
    *,
    refresher: TokenRefresher | None = None,
    attempts: int = 1,
    policy: RetryPolicy | None = None,
    now: float | None = None,
    refresh_margin_s: float = 600.0,
) -> AttemptOutcome:
    """`attempts` counts this one (the store's attempt count + 1)."""
    policy = policy or RetryPolicy()
    now = time.time() if now is None else now
    fresh: Credentials | None = None
    try:
        current, changed = ensure_fresh(credentials, refresher, job.account.extra, now=now, margin_s=refresh_margin_s)
        fresh = current if changed else None
        try:
            result = poster.post(job, current, journal)
        except PostError as exc:
            if exc.kind is not ErrorKind.TOKEN_EXPIRED:
                raise
            if refresher is None or not current.refresh_token:
                raise PostError(
                    ErrorKind.NEEDS_REAUTH, f"{exc.reason}; no refresh token", platform_code=exc.platform_code
                ) from None
            # The platform says expired before our clock did: refresh now and retry once.
            current = fresh = refresher.refresh(current, job.account.extra)
            result = poster.post(job, current, journal)
        return AttemptOutcome(result.status, result=result, credentials=fresh)
    except PostError as exc:
        step = next_step(exc, attempts, now, job.account, policy)
        account_status = AccountStatus.NEEDS_REAUTH if step.status is PostStatus.WAITING_REAUTH else None
        return AttemptOutcome(
            step.status,
            error=exc,
            retry_at=step.retry_at,
            credentials=fresh,
            account_status=account_status,
            reason=step.reason,
        )
