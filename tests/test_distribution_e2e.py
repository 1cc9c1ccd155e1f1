"""Approve-and-schedule to a posted Douyin video, end to end in one process, the way `livecut serve` runs it:
the API (FastAPI's TestClient), the post role's scheduler and stage on a MemoryBus under the StageRunner,
a real SQLite store and media folder.

Douyin's open platform cannot be reached from tests: a local server speaking its documented protocol
(tests/distribution/dist_fakes.py: upload_video, create_video, the error codes) stands in for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from livecut.api import create_app
from livecut.auth import hash_password, hash_secret, new_token
from livecut.bus import MemoryBus
from livecut.contracts import ClipReady, PostDue, topics
from livecut.runtime.posting import DistributionSettings
from livecut.runtime.runner import StageRunner
from livecut.runtime.services import LiveServices
from livecut.runtime.stages.post import PostStage
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

sys.path.insert(0, str(Path(__file__).parent / "distribution"))
from dist_fakes import FakePlatforms  # noqa: E402 - the domain tests' platform stand-ins

KEY_ENV = "LIVECUT_E2E_SECRET_KEY"


def vertical_video(path: Path) -> Path:
    """3 s of 720x1280 H.264/AAC with faststart: a clip Douyin takes as it is."""
    lavfi = ["-f", "lavfi", "-i", "testsrc2=size=720x1280:rate=25:duration=3", "-f", "lavfi", "-i", "sine=duration=3"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *lavfi, *codecs, "-movflags", "+faststart", str(path)]
    subprocess.run(command, check=True)
    return path


class Node:
    """The API and the post role of one process, sharing a store, a media folder and a memory bus."""

    def __init__(self, root: Path, fake: FakePlatforms, environ: dict[str, str]) -> None:
        self.store = MetadataStore(root / "livecut.db")
        self.media = LocalMediaStore(root / "media")
        self.bus = MemoryBus()
        self.settings = DistributionSettings(
            secret_key_env=KEY_ENV,
            backoff_s=0.0,
            lead_s=0.0,
            jitter_s=0.0,
            lease_s=600.0,
            poll_s=0.05,
            metrics_every_s=0.0,
            handoff_dir=root / "handoff",
            work_dir=root / "work",
            platforms={"douyin": {"base_url": fake.base, "timeout_s": 10.0}},
        )
        app = create_app(self.store, self.media, None, "", bus=self.bus, web_dir=None, distribution=self.settings)
        self.client = TestClient(app)
        services = LiveServices(config={}, store=self.store, media=self.media, bus=self.bus)
        self.stage = PostStage(services, self.settings, environ)
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None):
        reply = self.client.request(method, path, headers={"Authorization": f"Bearer {self.token}"}, json=body)
        assert reply.status_code < 300, reply.text
        return reply.json()

    def run_post_role(self, now: float | None = None, extra: list[PostDue] = ()) -> list[str]:
        """One scheduler pass (at `now`) and every event it made handled by the stage under the StageRunner."""

        async def once() -> list[str]:
            runner = StageRunner(self.stage, self.bus, self.store)
            await self.bus.start()
            task = asyncio.create_task(runner.run())
            due = await self.stage.schedule_due(now)
            for event in extra:
                await self.bus.publish(topics.POSTS, event.post_id, event)
            await self.bus.drain()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self.bus.close()
            return due

        return asyncio.run(once())

    def run_background_until(self, done: Callable[[], bool], timeout_s: float = 20.0) -> None:
        """The post role as `livecut serve` runs it: the stage's own loop finds due posts, the runner posts them."""

        async def until() -> None:
            runner = StageRunner(self.stage, self.bus, self.store)
            tasks = [asyncio.create_task(runner.run()), asyncio.create_task(self.stage.background())]
            deadline = time.monotonic() + timeout_s
            while not await asyncio.to_thread(done):
                assert time.monotonic() < deadline, "the post role did not get there"
                await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.bus.close()

        asyncio.run(until())


@pytest.fixture(scope="module")
def video_bytes(tmp_path_factory) -> bytes:
    return vertical_video(tmp_path_factory.mktemp("media") / "clip.mp4").read_bytes()


@pytest.fixture
def node(tmp_path, monkeypatch, video_bytes) -> Iterator[tuple[Node, FakePlatforms]]:
    monkeypatch.setenv(KEY_ENV, Fernet.generate_key().decode())
    fake = FakePlatforms().start()
    built = Node(tmp_path, fake, {KEY_ENV: os.environ[KEY_ENV]})
    built.store.ensure_tenant("brand-a", "brand")
    built.store.create_user("olga", "brand-a", "admin", hash_password("correct horse battery"))
    built.token = new_token()
    built.store.create_token("olga", "e2e", hash_secret(built.token))
    for n in (1, 2):
        room = built.store.create_room(f"room {n}", "push", tenant="brand-a")
        key = f"rooms/{room.id}/clips/clip-{n}.mp4"
        built.media.put_bytes(key, video_bytes)  # the same video twice: the second is a near-duplicate
        clip = ClipReady(
            f"clip-{n}", room.id, f"room:{room.id}", 0.0, 3.0, "price_promo", None, "今天直播间只要九十九元",
            key, "", "", "", 3.0,
        )  # fmt: skip
        built.store.save_clip(clip, 1.0)
    yield built, fake
    built.client.close()
    fake.stop()
    built.store.close()


def add_account(node: Node, account_id: str, access_token: str) -> None:
    now = datetime.now(UTC)
    window = f"{now - timedelta(hours=3):%H:%M}-{now + timedelta(hours=3):%H:%M}"
    node.call(
        "POST",
        "/api/accounts",
        {
            "account_id": account_id,
            "platform": "douyin",
            "display_name": "旗舰店",
            "group": "g1",
            "windows": [window],
            "timezone": "UTC",
            "extra": {"open_id": f"open-{account_id}"},
            "credentials": {"access_token": access_token, "refresh_token": "ref-unknown"},
        },
    )


def schedule_now(node: Node, clip_id: str) -> str:
    """Approve and schedule the clip, then move its post to now (the plan spreads posts over the window)."""
    (post,) = node.call("POST", f"/api/clips/{clip_id}/schedule", {"group": "g1"})["posts"]
    node.call("POST", f"/api/posts/{post['post_id']}/move", {"at": datetime.now(UTC).timestamp() + 1})
    return post["post_id"]


def test_a_scheduled_clip_is_posted_once_and_a_500_is_retried(node):
    node, fake = node
    add_account(node, "acc-1", "tok-1")
    post_id = schedule_now(node, "clip-1")
    fake.fail("upload_video", 500, {"message": "internal error"})
    later = datetime.now(UTC).timestamp() + 5
    assert node.run_post_role(later) == [post_id]
    post = node.call("GET", f"/api/posts/{post_id}")
    assert post["status"] == "retry_wait" and "HTTP 500" in post["reason"]
    assert post["attempt_log"][0]["platform_code"] == "500" and post["attempt_log"][0]["error_kind"] == "retryable"
    assert node.run_post_role(later + 1) == [post_id], "the retry came due"
    post = node.call("GET", f"/api/posts/{post_id}")
    assert post["status"] == "posted" and post["platform_id"] in fake.items
    assert [a["status"] for a in post["attempt_log"]] == ["retry_wait", "posted"]
    assert len(fake.items) == 1 and "今天直播间只要九十九元" in fake.item_texts[post["platform_id"]]
    # A replayed event, and later scheduler passes, make no second video.
    assert node.run_post_role(later + 3600, extra=[PostDue("brand-a", post_id)]) == []
    assert len(fake.items) == 1 and fake.calls["create_video"] == 1
    # Metrics are read back from Douyin's video_data.
    assert node.stage.collect_metrics() == 1
    (metrics,) = node.call("GET", f"/api/posts/{post_id}")["metrics"]
    assert metrics["plays"] == 1000 and metrics["likes"] == 10
    # The same video on a second account of the tenant is refused as a near-duplicate.
    add_account(node, "acc-2", "tok-1")
    node.call("DELETE", "/api/accounts/acc-1")
    second = schedule_now(node, "clip-2")
    node.run_post_role(later + 7200)
    refused = node.call("GET", f"/api/posts/{second}")
    assert refused["status"] == "refused_duplicate" and post_id in refused["reason"]
    assert len(fake.items) == 1


def test_a_refused_token_waits_for_a_person_and_reconnecting_posts_it(node):
    node, fake = node
    add_account(node, "acc-1", "tok-revoked")
    post_id = schedule_now(node, "clip-1")
    node.run_post_role(datetime.now(UTC).timestamp() + 5)
    post = node.call("GET", f"/api/posts/{post_id}")
    assert post["status"] == "waiting_reauth" and "28001008" in post["reason"]
    assert node.call("GET", "/api/accounts/acc-1")["status"] == "needs_reauth"
    assert fake.items == {}
    node.call("PUT", "/api/accounts/acc-1/credentials", {"access_token": "tok-1"})
    assert node.call("GET", "/api/accounts/acc-1")["status"] == "active"
    node.run_background_until(lambda: node.store.post(post_id)["status"] == "posted")
    assert node.store.post(post_id)["platform_id"] in fake.items
