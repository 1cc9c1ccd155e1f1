"""The publish role: rendered clips announced to webhooks, signed, retried, at least once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.server
import json
import threading

import pytest
from support import free_port

from livecut.bus import MemoryBus
from livecut.contracts import ClipReady, topics
from livecut.runtime.runner import StageRunner
from livecut.runtime.stages.publish import PublishSettings, PublishStage
from livecut.store import MetadataStore


class Receiver(http.server.ThreadingHTTPServer):
    """A webhook endpoint on 127.0.0.1 that answers the statuses it is given, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(self.server.statuses.pop(0) if self.server.statuses else 200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver(request):
    server = Receiver(getattr(request, "param", []))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def clip(clip_id: str = "c1") -> ClipReady:
    return ClipReady(
        clip_id=clip_id,
        room="r1",
        source="room:r1",
        t0=8.5,
        t1=19.2,
        label="selling_point",
        sublabel="fabric",
        text="这条裙子是百分之百的真丝面料",
        video="rooms/r1/clips/c1.mp4",
        captions="rooms/r1/clips/c1.srt",
        captions_vtt="rooms/r1/clips/c1.vtt",
        thumbnail="rooms/r1/clips/c1.jpg",
        duration=10.7,
        time_bound=True,
    )


def settings(*webhooks: str, secret: bytes = b"s3cret", attempts: int = 3) -> PublishSettings:
    return PublishSettings(
        webhooks=webhooks,
        secret=secret,
        attempts=attempts,
        timeout_s=2.0,
        media_base_url="https://livecut.example",
        backoff_s=0.05,
    )


async def publish_and_drain(config: PublishSettings, *clips: ClipReady) -> None:
    bus = MemoryBus()
    worker = StageRunner(PublishStage(config), bus, MetadataStore(":memory:"))
    task = asyncio.create_task(worker.run())
    for one in clips:
        await bus.publish(topics.CLIPS, one.room, one)
    await bus.drain()
    task.cancel()


def test_each_clip_is_posted_signed_with_its_id_as_idempotency_key(receiver):
    asyncio.run(publish_and_drain(settings(receiver.url), clip("c1"), clip("c2")))
    assert [headers["Idempotency-Key"] for headers, _ in receiver.received] == ["c1", "c2"]
    headers, body = receiver.received[0]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Livecut-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["event"] == "clip.ready"
    assert (payload["clip"]["sublabel"], payload["clip"]["time_bound"]) == ("fabric", True)
    assert payload["clip"]["urls"]["video"] == "https://livecut.example/media/rooms/r1/clips/c1.mp4"


@pytest.mark.parametrize("receiver", [[500, 503]], indirect=True)
def test_a_failing_webhook_is_retried_until_it_answers(receiver):
    asyncio.run(publish_and_drain(settings(receiver.url), clip()))
    assert [headers["Idempotency-Key"] for headers, _ in receiver.received] == ["c1"] * 3


def test_an_unreachable_webhook_is_given_up_and_the_others_still_get_every_clip(receiver, caplog):
    dead = f"http://127.0.0.1:{free_port()}/hook"
    asyncio.run(publish_and_drain(settings(dead, receiver.url, secret=b""), clip("c1"), clip("c2")))
    assert [headers["Idempotency-Key"] for headers, _ in receiver.received] == ["c1", "c2"]
    assert "X-Livecut-Signature" not in receiver.received[0][0]
    assert "gave up on clip c1 after 3 attempts" in caplog.text
