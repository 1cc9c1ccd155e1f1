"""One poster per documented posting protocol; `poster_for` builds the one a platform's rules name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distribution.posters.douyin import DouyinPoster
from distribution.posters.handoff import HandoffPoster
from distribution.posters.kuaishou import KuaishouPoster
from distribution.posters.tiktok import TikTokPoster
from distribution.posters.webhook import WebhookPoster, sign
from distribution.posters.youtube import YouTubePoster
from distribution.posting import Poster
from distribution.rules import PlatformRules

__all__ = [
    "DouyinPoster",
    "HandoffPoster",
    "KuaishouPoster",
    "TikTokPoster",
    "WebhookPoster",
    "YouTubePoster",
    "poster_for",
    "sign",
]


def poster_for(rules: PlatformRules, settings: dict[str, Any]) -> Poster:
    """The poster for a platform. `settings` is the shell's [distribution.<platform>] section: base_url,
    timeout_s, app_id (Kuaishou), secret (webhook, bytes), queue_dir (hand-off)."""
    base = {"base_url": settings["base_url"]} if settings.get("base_url") else {}
    timeout = {"timeout_s": float(settings["timeout_s"])} if settings.get("timeout_s") else {}
    if rules.protocol == "douyin":
        return DouyinPoster(rules, **base, **timeout)
    if rules.protocol == "kuaishou":
        return KuaishouPoster(
            rules,
            app_id=settings.get("app_id", ""),
            **base,
            **timeout,
            upload_scheme=settings.get("upload_scheme", "http"),
        )
    if rules.protocol == "tiktok":
        return TikTokPoster(rules, **base, **timeout)
    if rules.protocol == "youtube":
        return YouTubePoster(rules, **base, **timeout)
    if rules.protocol == "webhook":
        return WebhookPoster(
            secret=settings.get("secret", b""), media_base_url=settings.get("media_base_url", ""), **timeout
        )
    if rules.protocol == "handoff":
        if not settings.get("queue_dir"):
            raise ValueError(f"{rules.name}.queue_dir: the hand-off poster needs a queue folder")
        return HandoffPoster(Path(settings["queue_dir"]))
    raise ValueError(f"{rules.name}: unknown protocol {rules.protocol!r}")
