"""Kuaishou open platform: start_upload -> upload (one request, or fragments then complete) -> publish.

Calls carry `access_token` and `app_id` in the query; `result == 1` is success. The upload goes to
the `endpoint` start_upload returns (scheme configurable: the documented one is http).
"""

from __future__ import annotations

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


class KuaishouPoster:
    protocol = "kuaishou"

    def __init__(
        self,
        rules: PlatformRules,
        app_id: str,
        base_url: str = "https://open.kuaishou.com",
        upload_scheme: str = "http",
        timeout_s: float = 300.0,
    ):
        if not app_id:
            raise ValueError("kuaishou app_id: required")
        self.rules = rules
        self.app_id = app_id
        self.base = base_url.rstrip("/")
        self.upload_scheme = upload_scheme
        self.timeout_s = timeout_s
        self.fragment_above = int(rules.posting.get("fragment_above_mb", 10) * MB)
        self.fragment_size = int(rules.posting.get("fragment_mb", 10) * MB)

    def _checked(self, reply: http.Reply, what: str) -> dict[str, Any]:
        if reply.status >= 500 or reply.status in (401, 429):
            reply.require_ok(what)
        answer = reply.json(what)
        result = answer.get("result")
        if result != 1:
            words = answer.get("error_msg") or answer.get("message") or ""
            raise PostError(
                kind_of_code(result, self.rules.error_codes),
                f"{what}: result {result} {words}".strip(),
                platform_code=result,
            )
        return answer

    def _api(self, name: str, creds: Credentials, **params: Any) -> str:
        return http.with_query(
            f"{self.base}/openapi/photo/{name}", access_token=creds.access_token, app_id=self.app_id, **params
        )

    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult:
        session = Session(journal, job.post_id)
        if not session.get("uploaded"):
            if not session.get("upload_token"):
                reply = http.send(
                    "POST",
                    self._api("start_upload", credentials),
                    timeout_s=self.timeout_s,
                    what="kuaishou start_upload",
                )
                answer = self._checked(reply, "kuaishou start_upload")
                if not answer.get("upload_token") or not answer.get("endpoint"):
                    raise PostError(ErrorKind.RETRYABLE, "kuaishou start_upload: reply lacks upload_token/endpoint")
                session.reset()
                session.update(upload_token=answer["upload_token"], endpoint=answer["endpoint"], fragments_done=[])
            self._upload(Path(job.video), session)
            session.update(uploaded=True)
        photo_id = create_once(
            session, "photo_id", lambda: self._publish(job, credentials, session), "kuaishou publish"
        )
        return PostResult(PostStatus.POSTED, platform_id=photo_id)

    def _upload(self, video: Path, session: Session) -> None:
        base = f"{self.upload_scheme}://{session.get('endpoint')}/api/upload"
        token = session.get("upload_token")
        size = video.stat().st_size
        if size < self.fragment_above:
            headers = {"Content-Type": "video/mp4", "Content-Length": str(size)}
            reply = http.send(
                "POST",
                http.with_query(base, upload_token=token),
                headers=headers,
                body=whole_file(video).blocks(),
                timeout_s=self.timeout_s,
                what="kuaishou upload",
            )
            self._checked(reply, "kuaishou upload")
            return
        count = -(-size // self.fragment_size)
        for index in range(count):
            if index in session.get("fragments_done", []):
                continue
            part = FileSlice(
                video, index * self.fragment_size, min(self.fragment_size, size - index * self.fragment_size)
            )
            headers = {"Content-Type": "video/mp4", "Content-Length": str(part.length)}
            reply = http.send(
                "POST",
                http.with_query(f"{base}/fragment", upload_token=token, fragment_id=index),
                headers=headers,
                body=part.blocks(),
                timeout_s=self.timeout_s,
                what=f"kuaishou upload fragment {index}",
            )
            self._checked(reply, "kuaishou upload fragment")
            session.update(fragments_done=[*session.get("fragments_done", []), index])
        reply = http.send(
            "POST",
            http.with_query(f"{base}/complete", upload_token=token, fragment_count=count),
            headers={"Content-Length": "0"},
            body=b"",
            timeout_s=self.timeout_s,
            what="kuaishou upload complete",
        )
        self._checked(reply, "kuaishou upload complete")

    def _publish(self, job: PostJob, creds: Credentials, session: Session) -> str:
        text = " ".join([job.caption.title, job.caption.description, *(f"#{t.lstrip('#')}" for t in job.caption.tags)])
        files = {}
        if job.cover is not None:
            files["cover"] = (Path(job.cover).name, whole_file(Path(job.cover)), "image/jpeg")
        headers, pieces = form({"caption": " ".join(text.split())}, files)
        reply = http.send(
            "POST",
            self._api("publish", creds, upload_token=session.get("upload_token")),
            headers=headers,
            body=stream(pieces),
            timeout_s=self.timeout_s,
            what="kuaishou publish",
        )
        answer = self._checked(reply, "kuaishou publish")
        info = answer.get("video_info")
        if not isinstance(info, dict) or not info.get("photo_id"):
            raise PostError(ErrorKind.UNCERTAIN, "kuaishou publish: result 1 but no video_info.photo_id")
        return str(info["photo_id"])
