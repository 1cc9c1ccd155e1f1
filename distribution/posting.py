"""A post, what a poster returns, and the one interface every platform protocol implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from distribution.accounts import Account
from distribution.credentials import Credentials
from distribution.journal import PostJournal
from distribution.preflight import Caption


class PostStatus(StrEnum):
    PLANNED = "planned"  # in the plan, its time not yet come
    POSTING = "posting"  # a worker holds it
    RETRY_WAIT = "retry_wait"  # failed for a passing reason; `retry_at` says when it runs again
    WAITING_REAUTH = "waiting_reauth"  # its account needs a person to reconnect it; nothing is lost
    PAUSED = "paused"  # its account is paused
    HANDED_OFF = "handed_off"  # a package waits in the operator's queue (no posting API)
    POSTED = "posted"  # the platform has it; platform id stored
    FAILED = "failed"  # permanent: the platform's reason is on the post
    UNCERTAIN = "uncertain"  # a create call may have gone through; a person checks, never retried blindly
    REFUSED_DUPLICATE = "refused_duplicate"  # near-identical to a recent post of the tenant
    CANCELLED = "cancelled"


DONE_POST_STATUSES = (PostStatus.POSTED, PostStatus.FAILED, PostStatus.CANCELLED, PostStatus.REFUSED_DUPLICATE)


@dataclass(frozen=True)
class PostJob:
    """What to post where. `post_id` is the idempotency key: one post id, at most one platform video."""

    post_id: str
    account: Account
    video: Path
    caption: Caption
    cover: Path | None = None
    product_url: str = ""
    clip_id: str = ""


@dataclass(frozen=True)
class PostResult:
    status: PostStatus
    platform_id: str = ""
    url: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class Poster(Protocol):
    """One platform protocol. `post` resumes from the journal and raises PostError on failure."""

    protocol: str

    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult: ...
