"""The publish role: every rendered clip is announced to the webhooks in `[publish]`.

An MCN's own systems (a CMS, a posting queue, a chat bot) learn of each clip as soon
as its files are complete. Deliveries are at least once: the bus event is
acknowledged only after every webhook answered 2xx or ran out of attempts, and each
request carries the clip id as `Idempotency-Key` so a receiver can drop repeats.
With a secret in the environment variable `publish.secret_env`, the body is signed:
`X-Livecut-Signature: sha256=<hex HMAC-SHA256 of the body>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from livecut.contracts import ClipReady, topics
from livecut.observability.metrics import error
from livecut.runtime.runner import Emit, ErrorPolicy

log = logging.getLogger(__name__)

MEDIA_FIELDS = ("video", "captions", "captions_vtt", "thumbnail", "vertical")


@dataclass(frozen=True)
class PublishSettings:
    webhooks: tuple[str, ...]
    secret: bytes
    attempts: int
    timeout_s: float
    media_base_url: str
    # Seconds before the first retry; doubled after each failure.
    backoff_s: float = 1.0


def publish_settings(config: dict[str, Any]) -> PublishSettings:
    section = config["publish"]
    return PublishSettings(
        webhooks=tuple(section["webhooks"]),
        secret=os.environ.get(section["secret_env"], "").encode(),
        attempts=section["attempts"],
        timeout_s=section["timeout_s"],
        media_base_url=section["media_base_url"].rstrip("/"),
    )


class PublishStage:
    """CLIPS in; one signed POST per clip to each webhook (retried here, per webhook, with backoff)."""

    name = "publish"
    topic = topics.CLIPS
    policy = ErrorPolicy(attempts=1)

    def __init__(self, settings: PublishSettings) -> None:
        self.settings = settings

    async def handle(self, key: str, clip: ClipReady) -> list[Emit]:
        body = self.payload(clip)
        await asyncio.gather(*(self.deliver(url, clip.clip_id, body) for url in self.settings.webhooks))
        return []

    def give_up(self, key: str, clip: ClipReady, reason: str) -> None:
        """Nothing to undo: a delivery that failed is logged and counted by `deliver`."""

    def payload(self, clip: ClipReady) -> bytes:
        record = clip.to_record()
        if self.settings.media_base_url:
            base = self.settings.media_base_url
            record["urls"] = {f: f"{base}/media/{record[f]}" for f in MEDIA_FIELDS if record.get(f)}
        return json.dumps({"event": "clip.ready", "clip": record}, ensure_ascii=False).encode()

    async def deliver(self, url: str, clip_id: str, body: bytes) -> bool:
        """POST until a 2xx answer or the last attempt; False when every attempt failed."""
        delay = self.settings.backoff_s
        for attempt in range(1, self.settings.attempts + 1):
            failure = await asyncio.to_thread(self._post, url, clip_id, body)
            if failure is None:
                return True
            log.warning("webhook %s, clip %s, attempt %d: %s", url, clip_id, attempt, failure)
            if attempt < self.settings.attempts:
                await asyncio.sleep(delay)
                delay *= 2
        error("publish")
        log.error("webhook %s gave up on clip %s after %d attempts", url, clip_id, self.settings.attempts)
        return False

    def _post(self, url: str, clip_id: str, body: bytes) -> str | None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": clip_id}
        if self.settings.secret:
            digest = hmac.new(self.settings.secret, body, hashlib.sha256).hexdigest()
            headers["X-Livecut-Signature"] = f"sha256={digest}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                return None if 200 <= response.status < 300 else f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except OSError as exc:
            return str(exc)
