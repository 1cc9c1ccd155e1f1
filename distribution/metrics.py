"""Views, likes, comments and shares of posted videos, where the platform offers them (Douyin video_data)."""

from __future__ import annotations

from dataclasses import dataclass

from distribution import http
from distribution.credentials import Credentials
from distribution.errors import ErrorKind, PostError

BATCH = 20  # item_ids per request


@dataclass(frozen=True)
class VideoMetrics:
    platform_id: str
    plays: int
    likes: int
    comments: int
    shares: int


def _count(stats: dict, key: str) -> int:
    value = stats.get(key, 0)
    return int(value) if isinstance(value, int | float) else 0


def douyin_video_data(
    item_ids: list[str],
    credentials: Credentials,
    open_id: str,
    *,
    base_url: str = "https://open.douyin.com",
    timeout_s: float = 30.0,
) -> list[VideoMetrics]:
    """POST /api/douyin/v1/video/video_data/ {"item_ids": [...]} -> data.list[].statistics."""
    found: list[VideoMetrics] = []
    for start in range(0, len(item_ids), BATCH):
        headers, body = http.json_body({"item_ids": item_ids[start : start + BATCH]})
        headers["access-token"] = credentials.access_token
        url = http.with_query(f"{base_url.rstrip('/')}/api/douyin/v1/video/video_data/", open_id=open_id)
        reply = http.send("POST", url, headers=headers, body=body, timeout_s=timeout_s, what="douyin video_data")
        reply.require_ok("douyin video_data")
        data = reply.json("douyin video_data").get("data")
        if isinstance(data, dict) and data.get("error_code") not in (None, 0):
            raise PostError(
                ErrorKind.RETRYABLE,
                f"douyin video_data: {data.get('error_code')} {data.get('description', '')}",
                platform_code=data.get("error_code"),
            )
        if not isinstance(data, dict) or not isinstance(data.get("list"), list):
            raise PostError(ErrorKind.RETRYABLE, "douyin video_data: reply has no data.list")
        for item in data["list"]:
            stats = item.get("statistics") if isinstance(item, dict) else None
            if not isinstance(stats, dict) or not item.get("item_id"):
                continue  # an item the platform no longer reports (deleted, under review)
            found.append(
                VideoMetrics(
                    str(item["item_id"]),
                    _count(stats, "play_count"),
                    _count(stats, "digg_count"),
                    _count(stats, "comment_count"),
                    _count(stats, "share_count"),
                )
            )
    return found
