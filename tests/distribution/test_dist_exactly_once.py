"""A posting worker SIGKILLed mid-upload resumes from its journal and the video is created once.
The platform is the local Douyin stand-in (dist_fakes), which holds one request so the kill lands
while it is in flight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from dist_helpers import sparse_file

from distribution import (
    Account,
    Caption,
    Credentials,
    DouyinPoster,
    FileJournal,
    PostJob,
    PostStatus,
    load_rules,
    run_attempt,
)

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


def start_worker(fake, journal: Path, video: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{Path(__file__).parent}"}
    script = Path(__file__).with_name("dist_post_worker.py")
    return subprocess.Popen(
        [sys.executable, str(script), fake.base, str(journal), str(video)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def resume(fake, journal: Path, video: Path):
    rules = load_rules("douyin")
    rules = replace(rules, posting={**rules.posting, "chunk_above_mb": 10, "part_mb": 5})
    job = PostJob(
        "post-kill",
        Account("acc-1", "tenant-a", "douyin", "shop", extra={"open_id": "open-1"}),
        video,
        Caption("kill test"),
    )
    return run_attempt(job, DouyinPoster(rules, base_url=fake.base), Credentials("tok-1"), FileJournal(journal))


def test_killed_mid_upload_resumes_the_session_and_creates_once(fake, tmp_path):
    video = sparse_file(tmp_path / "clip.mp4", 38 * MB)  # 8 parts of 5 MB
    arrived, release = fake.hold("upload_video_part", 4)
    worker = start_worker(fake, tmp_path / "journal", video)
    try:
        assert arrived.wait(30), worker.stderr.read() if worker.poll() is not None else "part 4 never arrived"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        release.set()
    saved = json.loads((tmp_path / "journal" / "post-kill.json").read_text())
    assert saved["parts_done"] == [1, 2, 3] and "video_id" not in saved
    outcome = resume(fake, tmp_path / "journal", video)
    assert outcome.status is PostStatus.POSTED, outcome.error
    assert fake.calls["init_video_part_upload"] == 1  # the same upload session continued
    assert fake.calls["upload_video_part"] == 4 + 5  # parts 1-3 once, part 4 twice (the killed try), 5-8 once
    assert fake.calls["create_video"] == 1 and list(fake.items) == [outcome.result.platform_id]
    again = resume(fake, tmp_path / "journal", video)  # a duplicate delivery of the same post
    assert again.result.platform_id == outcome.result.platform_id and fake.calls["create_video"] == 1


def test_killed_during_create_is_uncertain_and_never_creates_twice(fake, tmp_path):
    video = sparse_file(tmp_path / "clip.mp4", 12 * MB)
    arrived, release = fake.hold("create_video", 1)
    worker = start_worker(fake, tmp_path / "journal", video)
    try:
        assert arrived.wait(30), "create_video never arrived"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        release.set()  # the platform goes on and creates the video the dead worker asked for
    outcome = resume(fake, tmp_path / "journal", video)
    assert outcome.status is PostStatus.UNCERTAIN and "check the account" in outcome.reason
    assert fake.calls["create_video"] == 1
