"""Validation hardening (issue 11, finding 8): non-finite numbers are 422 (not 500), a 422 does not
echo a huge input, on_publish never 500s, and pull URLs may not point into the server's own network.
A real store and FastAPI's TestClient as in test_auth.py; a real RoomManager for the pull checks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from test_auth import World, make_app, populate

from livecut.api import create_app
from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.rooms import RoomManager, _open_checked_url
from livecut.runtime.services import LiveServices
from livecut.store import MetadataStore
from stream.ingest import IngestError
from stream.media_store import LocalMediaStore
from stream.pull_guard import PullUrlRefused, check_pull_url


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, as every JSON parser but Python's does."""

    def refuse(constant: str):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    bus = MemoryBus()
    with TestClient(make_app(store, media, bus, tmp_path)) as client:
        built = World(client, store, media, bus, tmp_path)
        populate(built)
        yield built
    store.close()


def post_raw(world: World, path: str, body: str):
    headers = {**world.auth("alice"), "content-type": "application/json"}
    return world.client.post(path, content=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        '{"t0": NaN, "t1": 5, "label": "price_promo"}',
        '{"t0": 1, "t1": Infinity, "label": "price_promo"}',
        '{"t0": -Infinity, "t1": 5, "label": "price_promo"}',
        '{"t0": 1e308, "t1": 1e309, "label": "price_promo"}',
    ],
)
def test_non_finite_numbers_in_range_clip_and_trim_bodies_are_422(world, body):
    for path in (f"/api/rooms/{world.rooms['a']}/clips", f"/api/clips/{world.clips['a']}/trim"):
        answer = post_raw(world, path, body)
        assert answer.status_code == 422, (path, answer.text)
        detail = strict_json(answer.text)["detail"]
        assert {error["loc"][-1] for error in detail} <= {"t0", "t1"} and detail


def test_a_422_does_not_echo_a_huge_input(world):
    long_query = world.get("/api/clips?limit=" + "9" * 60_000, "alice")
    long_body = post_raw(
        world, f"/api/rooms/{world.rooms['a']}/clips", json.dumps({"t0": 1, "t1": 2, "label": "x" * 60_000})
    )
    many = post_raw(world, "/api/clips/review", json.dumps({"clip_ids": [""] * 400, "action": "approve"}))
    for answer in (long_query, long_body, many):
        assert answer.status_code == 422 and len(answer.content) < 4096, len(answer.content)
    echoed = strict_json(long_body.text)["detail"][0]["input"]
    assert echoed.startswith("xxx") and echoed.endswith("(60000 characters)")


def test_on_publish_without_a_front_pull_url_is_a_clear_503_not_a_500(tmp_path, world):
    config = load_config()
    services = LiveServices(config, world.store, world.media, world.bus)
    manager = RoomManager(services, front_pull_url="")
    app = create_app(world.store, world.media, manager, "rtmp://127.0.0.1:1935/live", web_dir=None)
    key = world.store.room(world.rooms["a"]).stream_key
    with TestClient(app) as client:
        answer = client.post("/api/rtmp/on_publish", data={"app": "live", "name": key})
        assert answer.status_code == 503 and "front_pull_url is not configured" in answer.json()["detail"]
        assert "Traceback" not in answer.text
        wrong = client.post("/api/rtmp/on_publish", data={"app": "live", "name": "x" * 500})
        assert wrong.status_code == 422 and len(wrong.content) < 4096
    assert world.store.acquire_room(world.rooms["a"], "another-worker", 15.0), "the refusal took no lease"


REFUSED_URLS = {
    "rtmp://127.0.0.1:22/live/x": "loopback",
    "http://localhost:8000/metrics": "loopback",
    "http://[::1]/x.m3u8": "loopback",
    "rtmp://[::ffff:127.0.0.1]/live/x": "loopback",
    "http://169.254.169.254/latest/meta-data.flv": "link-local",
    "http://10.1.2.3/live.flv": "private",
    "https://192.168.0.10/x.m3u8": "private",
    "rtmp://0.0.0.0/live/x": "unspecified",
    "http://nonexistent.invalid/x.flv": "does not resolve",
}


def test_pull_rooms_may_not_point_into_the_servers_network(world):
    for url, reason in REFUSED_URLS.items():
        answer = world.post("/api/rooms", "alice", {"name": "p", "source": {"type": "pull", "url": url}})
        assert answer.status_code == 422 and reason in answer.json()["detail"], (url, answer.text)
    for url in ("ftp://93.184.216.34/x", "file:///etc/passwd", "gopher://example.com/"):
        answer = world.post("/api/rooms", "alice", {"name": "p", "source": {"type": "pull", "url": url}})
        assert answer.status_code == 422 and "url must be" in answer.text
    public = world.post(
        "/api/rooms", "alice", {"name": "p", "source": {"type": "pull", "url": "rtmp://93.184.216.34/live/x"}}
    )
    assert public.status_code == 201
    assert not [r for r in world.store.rooms() if r.url and "127.0.0.1" in r.url]


def test_the_allow_list_admits_the_nginx_front(tmp_path, world):
    app = make_app(world.store, world.media, world.bus, tmp_path, pull_allow=("127.0.0.1", "10.0.0.0/8"))
    with TestClient(app) as client:
        for url in ("rtmp://127.0.0.1:1936/live/k", "http://10.1.2.3/live.flv"):
            body = {"name": "front", "source": {"type": "pull", "url": url}}
            assert client.post("/api/rooms", json=body, headers=world.auth("alice")).status_code == 201
        body = {"name": "front", "source": {"type": "pull", "url": "http://192.168.0.10/x.flv"}}
        assert client.post("/api/rooms", json=body, headers=world.auth("alice")).status_code == 422
    check_pull_url("rtmp://Front.Local/live/k", ["front.local"])  # a name listed is not resolved
    with pytest.raises(PullUrlRefused, match="invalid port"):
        check_pull_url("rtmp://example.com:99999/x")


def test_a_pull_room_that_resolves_to_a_private_address_at_connect_time_goes_to_error(world):
    """A room stored earlier (or a name that resolves elsewhere now) is checked again before each
    connection: the room goes to `error` with the reason instead of retrying every second."""
    with pytest.raises(IngestError, match="pull url refused: url host 127.0.0.1 is a loopback"):
        _open_checked_url("rtmp://127.0.0.1:22/live/x", ())
    room = world.store.create_room("old", "pull", "http://127.0.0.1:9/x.flv", tenant="brand-a")
    manager = RoomManager(LiveServices(load_config(), world.store, world.media, world.bus))

    async def scenario() -> None:
        assert manager.start_pull(room)
        async with asyncio.timeout(10):
            while world.store.room(room.id).status != "error":
                await asyncio.sleep(0.05)
        await manager.release()

    asyncio.run(scenario())
    after = world.store.room(room.id)
    assert "loopback" in after.error and after.publishes == 0
