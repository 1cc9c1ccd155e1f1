"""TikTok Content Posting API (direct post): init -> PUT chunks with Content-Range -> status/fetch.

The init call makes the publish; chunks go in order; TikTok publishes only after the last chunk
arrives, so an interrupted upload resumes from the first unconfirmed chunk, and an expired upload
URL (the status says FAILED before any chunk completed the file) starts over with a fresh init.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from distribution import http
from distribution.credentials import Credentials
from distribution.errors import ErrorKind, PostError
from distribution.journal import PostJournal, Session
from distribution.multipart import FileSlice
from distribution.posters.common import kind_of_code
from distribution.posting import PostJob, PostResult, PostStatus
from distribution.rules import PlatformRules

MB = 1024 * 1024
MIN_CHUNK = 5 * MB


def chunk_plan(size: int, chunk_size: int) -> tuple[int, int]:
    """(chunk_size, count) as TikTok wants them: < 5 MB in one piece; the last chunk takes the remainder."""
    if size < MIN_CHUNK:
        return size, 1
    chunk_size = max(MIN_CHUNK, chunk_size)
    return chunk_size, max(1, size // chunk_size)


class TikTokPoster:
    protocol = "tiktok"

    def __init__(
        self,
        rules: PlatformRules,
        base_url: str = "https://open.tiktokapis.com",
        timeout_s: float = 300.0,
        poll_s: float = 5.0,
        poll_limit_s: float = 600.0,
    ):
        self.rules = rules
        self.base = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.poll_limit_s = poll_limit_s
        self.chunk_size = int(rules.posting.get("chunk_mb", 10) * MB)
        self.privacy = rules.posting.get("privacy_level", "SELF_ONLY")

    def _api(self, path: str, creds: Credentials, value: dict[str, Any], what: str) -> dict[str, Any]:
        headers, body = http.json_body(value)
        headers["Authorization"] = f"Bearer {creds.access_token}"
        reply = http.send("POST", f"{self.base}{path}", headers=headers, body=body, timeout_s=self.timeout_s, what=what)
        if reply.status >= 500:
            reply.require_ok(what)
        answer = reply.json(what)
        error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
        code = error.get("code", "ok" if 200 <= reply.status < 300 else reply.status)
        if code != "ok":
            default = ErrorKind.RATE_LIMITED if reply.status == 429 else ErrorKind.PERMANENT
            raise PostError(
                kind_of_code(code, self.rules.error_codes, default),
                f"{what}: {code} {error.get('message', '')}".strip(),
                platform_code=code,
            )
        data = answer.get("data")
        if not isinstance(data, dict):
            raise PostError(ErrorKind.RETRYABLE, f"{what}: reply has no data object")
        return data

    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult:
        session = Session(journal, job.post_id)
        size = Path(job.video).stat().st_size
        chunk_size, count = chunk_plan(size, self.chunk_size)
        if session.get("publish_id"):
            status = self._status(session.get("publish_id"), credentials)
            if status.get("status") == "FAILED" and not session.get("upload_finished"):
                session.reset()  # the upload never completed, so nothing was published: start over
        if not session.get("publish_id"):
            data = self._api(
                "/v2/post/publish/video/init/",
                credentials,
                {
                    "post_info": {"title": self._title(job), "privacy_level": self.privacy},
                    "source_info": {
                        "source": "FILE_UPLOAD",
                        "video_size": size,
                        "chunk_size": chunk_size,
                        "total_chunk_count": count,
                    },
                },
                "tiktok init",
            )
            if not data.get("publish_id") or not data.get("upload_url"):
                raise PostError(ErrorKind.RETRYABLE, "tiktok init: reply lacks publish_id/upload_url")
            session.update(publish_id=data["publish_id"], upload_url=data["upload_url"], chunks_done=0)
        self._upload(Path(job.video), size, chunk_size, count, session)
        return self._wait(session.get("publish_id"), credentials)

    @staticmethod
    def _title(job: PostJob) -> str:
        return " ".join([job.caption.title, *(f"#{t.lstrip('#')}" for t in job.caption.tags)])

    def _upload(self, video: Path, size: int, chunk_size: int, count: int, session: Session) -> None:
        for index in range(session.get("chunks_done", 0), count):
            first = index * chunk_size
            last = size - 1 if index == count - 1 else first + chunk_size - 1
            part = FileSlice(video, first, last - first + 1)
            headers = {
                "Content-Type": "video/mp4",
                "Content-Length": str(part.length),
                "Content-Range": f"bytes {first}-{last}/{size}",
            }
            reply = http.send(
                "PUT",
                session.get("upload_url"),
                headers=headers,
                body=part.blocks(),
                timeout_s=self.timeout_s,
                what=f"tiktok upload chunk {index + 1}/{count}",
            )
            if reply.status not in (200, 201, 206):
                reply.require_ok(f"tiktok upload chunk {index + 1}/{count}")
            session.update(chunks_done=index + 1, upload_finished=index + 1 == count)

    def _status(self, publish_id: str, creds: Credentials) -> dict[str, Any]:
        return self._api("/v2/post/publish/status/fetch/", creds, {"publish_id": publish_id}, "tiktok status/fetch")

    def _wait(self, publish_id: str, creds: Credentials) -> PostResult:
        deadline = time.monotonic() + self.poll_limit_s
        while True:
            data = self._status(publish_id, creds)
            status = data.get("status")
            if status == "PUBLISH_COMPLETE":
                ids = data.get("publicaly_available_post_id") or []
                return PostResult(
                    PostStatus.POSTED, platform_id=str(ids[0]) if ids else publish_id, detail={"publish_id": publish_id}
                )
            if status == "FAILED":
                reason = data.get("fail_reason", "unknown")
                raise PostError(
                    kind_of_code(reason, self.rules.error_codes),
                    f"tiktok publish failed: {reason}",
                    platform_code=reason,
                )
            if time.monotonic() > deadline:
                raise PostError(ErrorKind.RETRYABLE, f"tiktok: still {status} after {self.poll_limit_s:.0f} s")
            time.sleep(self.poll_s)
