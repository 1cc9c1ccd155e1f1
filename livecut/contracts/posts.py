"""The event that tells the post role a planned post is due: small, the store holds the rest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostDue:
    """Post `post_id` of `tenant` now. Keyed by the post id on the bus; delivered at least once, so the
    post stage checks the post's row (and its journal) before it sends anything."""

    tenant: str
    post_id: str
