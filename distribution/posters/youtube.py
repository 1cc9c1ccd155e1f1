"""YouTube Data API v3 resumable upload: start a session, PUT chunks (multiples of 256 KiB), 308 + Range
until the final answer carries the video resource.

The session URL is saved before the first byte, so a resumed post asks the session how far it got
(`Content-Range: bytes */total`) and continues; the video exists only once the last byte arrives, and
a resumed session answers that with the same resource, so no second video is ever made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distribution import http
from distribution.credentials import Credentials
from distribution.errors import ErrorKind, PostError, http_status_error
from distribution.journal import PostJournal, Session
from distribution.multipart import FileSlice
from distribution.posters.common import kind_of_code
from distribution.posting import PostJob, PostResult, PostStatus
from distribution.rules import PlatformRules

QUANTUM = 256 * 1024


class YouTubePoster:
    protocol = "youtube"

    def __init__(self, rules: PlatformRules, base_url: str = "https://www.googleapis.com", timeout_s: float = 300.0):
        self.rules = rules
        self.base = base_url.rstrip("/")
        self.timeout_s = timeout_s
        chunk = int(rules.posting.get("chunk_kib", 8192)) * 1024
        self.chunk = max(QUANTUM, chunk // QUANTUM * QUANTUM)
        self.privacy = rules.posting.get("privacy_status", "private")

    def _error(self, reply: http.Reply, what: str) -> PostError:
        try:
            reasons = [e.get("reason") for e in json.loads(reply.body)["error"]["errors"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            reasons = []
        for reason in reasons:
            if str(reason) in self.rules.error_codes:
                return PostError(
                    kind_of_code(reason, self.rules.error_codes),
                    f"{what}: HTTP {reply.status} {reason}",
                    platform_code=reason,
                )
        return http_status_error(reply.status, what, reply.body, reply.header("retry-after"))

    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult:
        session = Session(journal, job.post_id)
        size = Path(job.video).stat().st_size
        auth = {"Authorization": f"Bearer {credentials.access_token}"}
        offset = 0
        if session.get("session_url"):
            reply = http.send(
                "PUT",
                session.get("session_url"),
                headers={**auth, "Content-Length": "0", "Content-Range": f"bytes */{size}"},
                body=b"",
                timeout_s=self.timeout_s,
                what="youtube upload status",
            )
            if reply.status in (200, 201):
                return self._done(reply)
            if reply.status == 308:
                offset = self._confirmed(reply)
            elif reply.status in (404, 410):
                session.reset()  # the session expired before the last byte: no video exists
            else:
                raise self._error(reply, "youtube upload status")
        if not session.get("session_url"):
            session.update(session_url=self._start(job, size, auth))
        while True:
            last = min(offset + self.chunk, size) - 1
            part = FileSlice(Path(job.video), offset, last - offset + 1)
            reply = http.send(
                "PUT",
                session.get("session_url"),
                headers={**auth, "Content-Length": str(part.length), "Content-Range": f"bytes {offset}-{last}/{size}"},
                body=part.blocks(),
                timeout_s=self.timeout_s,
                what="youtube upload chunk",
            )
            if reply.status in (200, 201):
                return self._done(reply)
            if reply.status != 308:
                raise self._error(reply, "youtube upload chunk")
            offset = self._confirmed(reply)
            session.update(bytes_confirmed=offset)

    def _start(self, job: PostJob, size: int, auth: dict[str, str]) -> str:
        meta: dict[str, Any] = {
            "snippet": {
                "title": job.caption.title,
                "description": job.caption.description,
                "tags": [t.lstrip("#") for t in job.caption.tags],
            },
            "status": {"privacyStatus": self.privacy, "selfDeclaredMadeForKids": False},
        }
        headers, body = http.json_body(meta)
        headers.update(auth, **{"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": "video/mp4"})
        url = http.with_query(f"{self.base}/upload/youtube/v3/videos", uploadType="resumable", part="snippet,status")
        reply = http.send("POST", url, headers=headers, body=body, timeout_s=self.timeout_s, what="youtube insert")
        if reply.status != 200:
            raise self._error(reply, "youtube insert")
        location = reply.header("location")
        if not location:
            raise PostError(ErrorKind.RETRYABLE, "youtube insert: no Location header")
        return location

    @staticmethod
    def _confirmed(reply: http.Reply) -> int:
        """Bytes the server holds, from `Range: bytes=0-N` (none yet when the header is absent)."""
        value = reply.header("range")
        if not value:
            return 0
        try:
            return int(value.rsplit("-", 1)[1]) + 1
        except (IndexError, ValueError):
            raise PostError(ErrorKind.RETRYABLE, f"youtube upload: unreadable Range header {value!r}") from None

    @staticmethod
    def _done(reply: http.Reply) -> PostResult:
        video = reply.json("youtube upload")
        if not video.get("id"):
            raise PostError(ErrorKind.RETRYABLE, "youtube upload: final answer has no id")
        return PostResult(
            PostStatus.POSTED, platform_id=str(video["id"]), url=f"https://www.youtube.com/shorts/{video['id']}"
        )
