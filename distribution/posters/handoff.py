"""Platforms with no public posting API (Xiaohongshu, Taobao 逛逛 / 微详情, JD): a ready-to-upload
package in the operator's queue, which the operator marks posted after uploading it by hand.

No cookies, no browser automation: those sites' terms forbid automated posting and accounts get
banned for it. A package is a folder {queue}/{tenant}/{account_id}/{post_id}/ with video.mp4,
cover.jpg, title.txt, tags.txt, product_link.txt and manifest.json; it is written under a
temporary name and renamed, so an operator never sees half a package.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from distribution.credentials import Credentials
from distribution.errors import ErrorKind, PostError
from distribution.journal import PostJournal
from distribution.posting import PostJob, PostResult, PostStatus


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class HandoffPoster:
    protocol = "handoff"

    def __init__(self, queue_dir: Path):
        self.queue = Path(queue_dir)

    def folder(self, job: PostJob) -> Path:
        return self.queue / job.account.tenant / job.account.account_id / job.post_id

    def post(self, job: PostJob, credentials: Credentials, journal: PostJournal) -> PostResult:
        target = self.folder(job)
        if not (target / "manifest.json").exists():
            self._write(job, target)
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("status") == "posted":
            return PostResult(
                PostStatus.POSTED, platform_id=manifest.get("platform_id", ""), url=manifest.get("platform_url", "")
            )
        return PostResult(PostStatus.HANDED_OFF, detail={"package": str(target)})

    def _write(self, job: PostJob, target: Path) -> None:
        staged = target.with_name(target.name + ".partial")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        try:
            shutil.copyfile(job.video, staged / "video.mp4")
            cover = staged / "cover.jpg"
            if job.cover is not None:
                shutil.copyfile(job.cover, cover)
            else:
                self._cover_frame(staged / "video.mp4", cover)
            tags = [t.lstrip("#") for t in job.caption.tags]
            (staged / "title.txt").write_text(job.caption.title + "\n", encoding="utf-8")
            (staged / "description.txt").write_text(job.caption.description + "\n", encoding="utf-8")
            (staged / "tags.txt").write_text("".join(f"#{t}\n" for t in tags), encoding="utf-8")
            (staged / "product_link.txt").write_text(job.product_url + "\n", encoding="utf-8")
            manifest: dict[str, Any] = {
                "post_id": job.post_id,
                "clip_id": job.clip_id,
                "tenant": job.account.tenant,
                "account_id": job.account.account_id,
                "account": job.account.display_name,
                "platform": job.account.platform,
                "title": job.caption.title,
                "description": job.caption.description,
                "tags": tags,
                "product_url": job.product_url,
                "files": {name: _sha256(staged / name) for name in ("video.mp4", "cover.jpg")},
                "created_at": time.time(),
                "status": "ready",
            }
            (staged / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
            staged.replace(target)
        except OSError as exc:
            shutil.rmtree(staged, ignore_errors=True)
            raise PostError(ErrorKind.RETRYABLE, f"hand-off package: {exc}") from None

    @staticmethod
    def _cover_frame(video: Path, cover: Path) -> None:
        command = [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-ss",
            "0.5",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-q:v",
            "3",
            str(cover),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or not cover.exists():
            raise PostError(ErrorKind.PERMANENT, f"cover: cannot take a frame: {done.stderr.strip()[-200:]}")

    def mark_posted(self, job: PostJob, platform_url: str = "", platform_id: str = "") -> PostResult:
        """The operator uploaded the package: record where it went."""
        manifest_path = self.folder(job) / "manifest.json"
        if not manifest_path.exists():
            raise KeyError(f"post {job.post_id!r}: no hand-off package")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.update(status="posted", platform_url=platform_url, platform_id=platform_id, posted_at=time.time())
        staged = manifest_path.with_suffix(".tmp")
        staged.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        staged.replace(manifest_path)
        return PostResult(PostStatus.POSTED, platform_id=platform_id, url=platform_url)
