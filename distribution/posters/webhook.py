"""The MCN's own system as a platform: one signed POST per post (was livecut/publish.py's webhook).

Body JSON {"event": "post.requested", "post": {...}}; `Idempotency-Key` is the post id, so the
receiver drops repeats and retries are safe; with a secret, `X-Livecut-Signature: sha256=<hex
HMAC-SHA256 of the body>`. The receiver's JSON `id` (if any) becomes the platform id. The target
URL is the account's `extra["url"]`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from distribution import http
from distribution.credentials import Credentials
from distribution.errors import ErrorKind, PostError
from distribution.journal import PostJournal
from distribution.posting import PostJob, PostResult, PostStatus


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookPoster:
    protocol = "webhook"

    def __init__(self, secret: bytes = b"", media_base_url: str = "", timeout_s: float = 10.0):
        self.secret = secret
        self.media_base_url = media_base_url.rstrip("/")
        self.timeout_s = timeout_s

    def payload(self, job: PostJob) -> bytes:
        post = {
            "post_id": job.post_id,
            "clip_id": job.clip_id,
            "account_id": job.account.account_id,
            "tenant": job.account.tenant,
            "title": job.caption.title,
            "description": job.caption.description,
            "tags": list(job.caption.tags),
            "product_url": job.product_url,
            "video": Path(job.video).name,
        }
        if self.media_base_url:
            post["video_url"] = f"{self.media_base_url}/media/{Path(job.video).name}"
        return json.dumps({"event": "post.requested", "post": post}, ensure_ascii=False).encode()

    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult:
        url = job.account.extra.get("url", "")
        if not url:
            raise PostError(ErrorKind.PERMANENT, "account.extra.url: the webhook account has no URL")
        body = self.payload(job)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), "Idempotency-Key": job.post_id}
        if self.secret:
            headers["X-Livecut-Signature"] = sign(self.secret, body)
        reply = http.send("POST", url, headers=headers, body=body, timeout_s=self.timeout_s, what="webhook")
        reply.require_ok("webhook")
        platform_id = job.post_id
        if reply.body.strip():
            try:
                answer = json.loads(reply.body)
                platform_id = str(answer.get("id") or platform_id) if isinstance(answer, dict) else platform_id
            except ValueError:
                pass  # a receiver may answer plain text; the 2xx is what counts
        return PostResult(PostStatus.POSTED, platform_id=platform_id)
