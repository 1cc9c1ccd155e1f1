"""Helpers of the distribution tests (kept out of conftest.py so test modules import them by a unique name)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from distribution import Account, Caption, PostJob, load_rules


def account(platform: str, **extra: str) -> Account:
    return Account(
        f"acc-{platform}",
        "tenant-a",
        platform,
        f"{platform} shop",
        group="brand-x",
        extra={"open_id": "open-1", **extra},
    )


def job_for(platform: str, video: Path, post_id: str = "post-1", **extra: str) -> PostJob:
    return PostJob(
        post_id,
        account(platform, **extra),
        Path(video),
        Caption("新品上市 限时优惠", "今天直播间", ("好物", "穿搭")),
        clip_id="clip-1",
    )


def rules_with(platform: str, **posting):
    rules = load_rules(platform)
    return replace(rules, posting={**rules.posting, **posting})


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` bytes, mostly a hole, with distinct bytes every 4 MB so parts differ."""
    with open(path, "wb") as handle:
        handle.truncate(size)
        for offset in range(0, size, 4 * 1024 * 1024):
            handle.seek(offset)
            handle.write(offset.to_bytes(8, "big") * 16)
    return path
