"""Douyin open platform: upload_video (multipart) or the chunked part upload, then create_video -> item_id.

Requests carry the header `access-token` and the query `open_id` (the account's `extra["open_id"]`).
Answers put `error_code` and `description` in `data` (older endpoints) or `extra` (v1): both are read.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from distribution import http
from distribution.credentials import Credentials
from distribution.errors import ErrorKind, PostError
from distribution.journal import PostJournal, Session
from distribution.multipart import FileSlice, form, stream, whole_file
from distribution.posters.common import create_once, kind_of_code
from distribution.posting import PostJob, PostResult, PostStatus
from distribution.rules import PlatformRules

MB = 1024 * 1024


class DouyinPoster:
    protocol = "douyin"

    def __init__(self, rules: PlatformRules, base_url: str = "https://open.douyin.com", timeout_s: float = 300.0):
        self.rules = rules
        self.base = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.chunk_above = int(rules.posting.get("chunk_above_mb", 128) * MB)
        self.part_size = int(rules.posting.get("part_mb", 16) * MB)
        self.session_s = float(rules.posting.get("upload_session_s", 7200))

    # -- the calls ---------------------------------------------------------------------------
    def _call(
        self,
        name: str,
        creds: Credentials,
        open_id: str,
        *,
        query: dict | None = None,
        headers: dict | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        url = http.with_query(f"{self.base}/api/douyin/v1/video/{name}/", open_id=open_id, **(query or {}))
        reply = http.send(
            "POST",
            url,
            headers={"access-token": creds.access_token, **(headers or {})},
            body=body,
            timeout_s=self.timeout_s,
            what=f"douyin {name}",
        )
        if reply.status >= 500 or reply.status == 429 or reply.status == 401:
            reply.require_ok(f"douyin {name}")
        answer = reply.json(f"douyin {name}")
        self._raise_for_code(name, answer, reply.status)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise PostError(ErrorKind.RETRYABLE, f"douyin {name}: reply has no data object")
        return data

    def _raise_for_code(self, name: str, answer: dict[str, Any], status: int) -> None:
        for holder in (answer.get("extra"), answer.get("data")):
            if isinstance(holder, dict) and holder.get("error_code") not in (None, 0, "0"):
                code = holder["error_code"]
                words = holder.get("description") or holder.get("sub_description") or ""
                raise PostError(
                    kind_of_code(code, self.rules.error_codes),
                    f"douyin {name}: {code} {words}".strip(),
                    platform_code=code,
                )
        if not 200 <= status < 300:
            raise PostError(ErrorKind.PERMANENT, f"douyin {name}: HTTP {status}", platform_code=status)

    @staticmethod
    def _field(data: dict[str, Any], path: str, what: str) -> str:
        value: Any = data
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value in (None, ""):
            raise PostError(ErrorKind.RETRYABLE, f"douyin {what}: reply lacks {path}")
        return str(value)

    # -- the protocol ------------------------------------------------------------------------
    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult:
        open_id = job.account.extra.get("open_id", "")
        if not open_id:
            raise PostError(ErrorKind.PERMANENT, "account.extra.open_id: required for Douyin")
        session = Session(journal, job.post_id)
        if not session.get("video_id"):
            size = Path(job.video).stat().st_size
            if size > self.chunk_above:
                video_id = self._upload_parts(job.video, size, credentials, open_id, session)
            else:
                video_id = self._upload_whole(job.video, credentials, open_id)
            session.update(video_id=video_id)
        item_id = create_once(
            session,
            "item_id",
            lambda: self._create(job, session.get("video_id"), credentials, open_id),
            "douyin create_video",
        )
        return PostResult(PostStatus.POSTED, platform_id=item_id, detail={"video_id": session.get("video_id")})

    def _upload_whole(self, video: Path, creds: Credentials, open_id: str) -> str:
        headers, pieces = form({}, {"video": (Path(video).name, whole_file(Path(video)), "video/mp4")})
        data = self._call("upload_video", creds, open_id, headers=headers, body=stream(pieces))
        return self._field(data, "video.video_id", "upload_video")

    def _upload_parts(self, video: Path, size: int, creds: Credentials, open_id: str, session: Session) -> str:
        """init -> each part not yet confirmed -> complete; resumes an upload id younger than its 2 h life."""
        started = session.get("upload_started_at", 0)
        if not session.get("upload_id") or time.time() - started > self.session_s - 300:
            data = self._call("init_video_part_upload", creds, open_id)
            upload_id = self._field(data, "upload_id", "init_video_part_upload")
            session.reset()
            session.update(upload_id=upload_id, upload_started_at=time.time(), parts_done=[])
        upload_id = session.get("upload_id")
        count = max(1, -(-size // self.part_size))
        for number in range(1, count + 1):
            if number in session.get("parts_done", []):
                continue
            offset = (number - 1) * self.part_size
            part = FileSlice(Path(video), offset, min(self.part_size, size - offset))
            headers, pieces = form({}, {"video": (Path(video).name, part, "video/mp4")})
            self._call(
                "upload_video_part",
                creds,
                open_id,
                query={"upload_id": upload_id, "part_number": number},
                headers=headers,
                body=stream(pieces),
            )
            session.update(parts_done=[*session.get("parts_done", []), number])
        data = self._call("complete_video_part_upload", creds, open_id, query={"upload_id": upload_id})
        return self._field(data, "video.video_id", "complete_video_part_upload")

    def _create(self, job: PostJob, video_id: str, creds: Credentials, open_id: str) -> str:
        text = " ".join([job.caption.title, job.caption.description, *(f"#{t.lstrip('#')}" for t in job.caption.tags)])
        headers, body = http.json_body({"video_id": video_id, "text": " ".join(text.split())})
        data = self._call("create_video", creds, open_id, headers=headers, body=body)
        return self._field(data, "item_id", "create_video")
