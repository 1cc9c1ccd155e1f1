"""What happens after a failed attempt, decided by the error's class alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from distribution.accounts import Account
from distribution.errors import ErrorKind, PostError
from distribution.posting import PostStatus


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # retryable failures before the post fails
    backoff_s: float = 30.0  # first wait, doubled each time
    max_backoff_s: float = 3600.0
    rate_limit_wait_s: float = 60.0  # when the platform does not say how long


@dataclass(frozen=True)
class NextStep:
    status: PostStatus
    retry_at: float | None  # unix seconds
    reason: str


def next_step(error: PostError, attempts: int, now: float, account: Account, policy: RetryPolicy) -> NextStep:
    """`attempts` counts this one. Quota waits for the account's next posting window, in its time zone."""
    reason = error.reason
    if error.kind is ErrorKind.RETRYABLE:
        if attempts >= policy.max_attempts:
            return NextStep(PostStatus.FAILED, None, f"gave up after {attempts} attempts: {reason}")
        wait = error.retry_after_s or min(policy.backoff_s * 2 ** (attempts - 1), policy.max_backoff_s)
        return NextStep(PostStatus.RETRY_WAIT, now + wait, reason)
    if error.kind is ErrorKind.RATE_LIMITED:
        return NextStep(PostStatus.RETRY_WAIT, now + (error.retry_after_s or policy.rate_limit_wait_s), reason)
    if error.kind is ErrorKind.QUOTA:
        return NextStep(PostStatus.RETRY_WAIT, next_window_start(account, now, next_day=True), reason)
    if error.kind in (ErrorKind.TOKEN_EXPIRED, ErrorKind.NEEDS_REAUTH):
        return NextStep(PostStatus.WAITING_REAUTH, None, reason)
    if error.kind is ErrorKind.UNCERTAIN:
        return NextStep(PostStatus.UNCERTAIN, None, reason)
    return NextStep(PostStatus.FAILED, None, reason)


def next_window_start(account: Account, now: float, *, next_day: bool) -> float:
    """The first window opening after `now` (on a later local day when `next_day`)."""
    local = datetime.fromtimestamp(now, account.zone)
    day = local.date() + timedelta(days=1 if next_day else 0)
    for offset in range(8):
        date = day + timedelta(days=offset)
        midnight = datetime(date.year, date.month, date.day, tzinfo=account.zone)
        starts = sorted(midnight + timedelta(seconds=w.seconds[0]) for w in account.windows)
        for start in starts:
            if start.timestamp() > now:
                return start.timestamp()
    return now + 86400
