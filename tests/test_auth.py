"""Tenancy and auth over the API: a real store, media folder and memory bus behind FastAPI's TestClient.

Tenants brand-a and brand-b each own a room with a clip; mcn-m is an MCN that brand-b may
grant its room to. Rendering (trim, range clips) runs a real RenderWorker on fragments
recorded from the Mandarin sample; `livecut serve` itself is started for its first-start
admin and for Ctrl-C with an event stream open.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient
from servers.postgres import postgres_server_fixture, postgres_url_fixture
from support import Api, start_serve

from livecut.api import create_app
from livecut.api.routes import events as api_events
from livecut.auth import first_start_admin, hash_password, hash_secret, new_token, verify_password
from livecut.bus import MemoryBus
from livecut.cli import main
from livecut.config import load_config
from livecut.contracts import ClipReady, ClipRequest, Utterance, Word
from livecut.reviews import ReviewLog
from livecut.runtime.runner import StageRunner
from livecut.runtime.services import LiveServices
from livecut.runtime.stages.render import RenderStage
from livecut.store import MetadataStore
from livecut.store.tenancy import GrantError
from segmenter.taxonomy import load_taxonomy
from stream.media_store import LocalMediaStore
from stream.recorder import FragmentRecorder

postgres_server = postgres_server_fixture()
postgres_url = postgres_url_fixture()

TENANTS = {"brand-a": "brand", "brand-b": "brand", "mcn-m": "mcn"}
USERS = {
    "alice": ("brand-a", "admin"),
    "olga": ("brand-a", "operator"),
    "vic": ("brand-a", "viewer"),
    "bob": ("brand-b", "admin"),
    "mia": ("mcn-m", "operator"),
    "max": ("mcn-m", "admin"),
}
PASSWORD = "correct horse battery"
# Seconds of the Mandarin sample recorded as fragments for the rendering tests.
RECORDED_S = 20


@dataclass
class World:
    client: TestClient
    store: MetadataStore
    media: LocalMediaStore
    bus: MemoryBus
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)
    rooms: dict[str, str] = field(default_factory=dict)
    clips: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, path: str, user: str, **kw):
        return self.client.get(path, headers=self.auth(user), **kw)

    def post(self, path: str, user: str, body: dict | None = None):
        return self.client.post(path, headers=self.auth(user), json=body or {})


def ready_clip(room: str, clip_id: str, t0: float = 1.0, t1: float = 9.0) -> ClipReady:
    return ClipReady(
        clip_id=clip_id,
        room=room,
        source=f"room:{room}",
        t0=t0,
        t1=t1,
        label="selling_point",
        sublabel="fabric",
        text="面料是新疆长绒棉",
        video=f"rooms/{room}/clips/{clip_id}.mp4",
        captions=f"rooms/{room}/clips/{clip_id}.srt",
        captions_vtt=f"rooms/{room}/clips/{clip_id}.vtt",
        thumbnail=f"rooms/{room}/clips/{clip_id}.jpg",
        duration=t1 - t0,
        confidence=0.8,
    )


def make_app(store: MetadataStore, media: LocalMediaStore, bus: MemoryBus, root: Path, **kw):
    config = load_config()
    classes = {(c.label, c.sublabel) for c in load_taxonomy(config["taxonomy"])}
    reviews = ReviewLog(root / "reviews.jsonl", classes)
    options = {"bus": bus, "max_clip_s": config["segments"]["max_s"], "web_dir": None, "heartbeat_s": 0.3} | kw
    return create_app(store, media, None, "rtmp://127.0.0.1:1935/live", reviews, **options)


def populate(world: World) -> None:
    store = world.store
    for name, kind in TENANTS.items():
        store.ensure_tenant(name, kind)
    fast_hash = hash_password(PASSWORD)
    for username, (tenant, role) in USERS.items():
        store.create_user(username, tenant, role, fast_hash)
        token = new_token()
        store.create_token(username, "test", hash_secret(token))
        world.tokens[username] = token
    for key, tenant in (("a", "brand-a"), ("b", "brand-b")):
        room = store.create_room(f"room {key}", "push", brand=tenant, tenant=tenant)
        world.rooms[key] = room.id
        clip = ready_clip(room.id, f"clip{key}")
        store.save_clip(clip, 2.0)
        world.media.put_bytes(clip.video, b"video of " + key.encode())
        world.clips[key] = clip.clip_id
    words = [Word(1.0, 1.6, "面料"), Word(1.6, 2.0, "是"), Word(2.0, 3.5, "新疆长绒棉")]
    store.add_utterance(Utterance(world.rooms["a"], 1.0, 3.5, "面料是新疆长绒棉", "zh", words=words))


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


# the store, on both databases -------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> Iterator[MetadataStore]:
    target = tmp_path / "livecut.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = MetadataStore(target)
    yield opened
    opened.close()


def test_tenancy_tables_on_both_databases(store):
    for name, kind in TENANTS.items():
        store.ensure_tenant(name, kind)
    assert store.ensure_tenant("brand-a", "mcn")["kind"] == "brand", "an existing tenant keeps its kind"
    assert store.create_user("alice", "brand-a", "admin", "scrypt$x") and not store.create_user(
        "alice", "mcn-m", "viewer", "y"
    )
    store.create_user("mia", "mcn-m", "operator", "scrypt$y")
    token = store.create_token("mia", "ci", "hash-1")
    assert store.user_by_token("hash-1")["username"] == "mia" and store.revoke_token(token["id"])
    assert store.user_by_token("hash-1") is None and not store.revoke_token(token["id"])
    store.create_session("session-hash", "alice", 60)
    assert store.user_by_session("session-hash")["tenant"] == "brand-a"
    store.create_session("expired-hash", "alice", -1)
    assert store.user_by_session("expired-hash") is None
    a = store.create_room("a", "push", tenant="brand-a")
    b = store.create_room("b", "push", tenant="brand-b")
    assert [r.id for r in store.rooms(tenant="brand-a")] == [a.id] and len(store.rooms()) == 2
    with pytest.raises(GrantError):
        store.grant_room("brand-a", b.id)
    since = time.time() - 0.001
    assert store.grant_room("mcn-m", b.id) and not store.grant_room("mcn-m", b.id)
    assert store.sees_room("mcn-m", b.id) and not store.sees_room("mcn-m", a.id)
    assert [r.id for r in store.changed_rooms("mcn-m", since)] == [b.id]
    store.save_clip(ready_clip(a.id, "ca"), 3.0)
    store.save_clip(ready_clip(b.id, "cb"), 5.0)
    assert [c["clip_id"] for c in store.clips(tenant="mcn-m")] == ["cb"]
    assert [c["clip_id"] for c in store.changed_clips("brand-a", since)] == ["ca"]
    assert [c["clip_id"] for c in store.clips(tenant="brand-a", min_confidence=0.5, status="ready")] == ["ca"]
    store.audit("mia", "mcn-m", "clip.review", "clip:cb", {"action": "approve"}, b.id)
    store.audit("alice", "brand-a", "room.create", f"room:{a.id}", room=a.id)
    assert [e["username"] for e in store.audit_log("brand-b")] == ["mia"], "the owner sees what was done in its room"
    assert [e["action"] for e in store.audit_log("brand-a")] == ["room.create"]
    assert store.delete_user("mia") and store.user_by_session("x") is None and store.users("mcn-m") == []


def test_a_clip_is_requeued_over_new_bounds_and_saved_with_them(store):
    room = store.create_room("r", "push", tenant="default")
    store.add_utterance(Utterance(room.id, 1.0, 3.0, "abc", "en", words=[Word(1.0, 2.0, " a"), Word(2.0, 3.0, " b")]))
    store.add_utterance(Utterance(room.id, 4.0, 5.0, "old row", "en"))
    assert [w.text for w in store.words(room.id, 1.5, 4.5)] == [" a", " b", "old row"]
    assert store.utterances(room.id)[0]["text"] == "abc"
    store.save_clip(ready_clip(room.id, "c1", 1.0, 9.0), 2.5)
    assert store.requeue_clip("c1", 2.0, 6.0, "trimmed") and not store.requeue_clip("c1", 2.0, 7.0, "again")
    clip = store.clip("c1")
    assert (clip["status"], clip["t0"], clip["t1"], clip["text"]) == ("rendering", 2.0, 6.0, "trimmed")
    assert clip["rendered_span"] == [1.0, 9.0] and store.needs_render("c1")
    store.save_clip(ready_clip(room.id, "c1", 2.0, 6.0), None)
    clip = store.clip("c1")
    assert (clip["status"], clip["t0"], clip["t1"], clip["latency_s"]) == ("ready", 2.0, 6.0, 2.5)
    request = ClipRequest("c2", room.id, "room", 1.2, 8.8, "price_promo", None, "x", confidence=1.0)
    assert store.request_clip(request) and not store.request_clip(request)
    store.fail_clip("c2", room.id, 1.2, 8.8, "price_promo", "no")
    assert store.request_clip(request) and store.clip("c2")["status"] == "rendering"
    assert store.recorded_span(room.id) is None


# sessions --------------------------------------------------------------------------------------
def test_login_sets_a_hashed_expiring_http_only_session_and_logout_ends_it(world):
    client = world.client
    wrong = client.post("/api/login", json={"username": "alice", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "wrong username or password"}
    assert client.post("/api/login", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    assert client.get("/api/me").status_code == 401
    login = client.post("/api/login", json={"username": "alice", "password": PASSWORD})
    assert login.status_code == 200 and login.json() == {"username": "alice", "tenant": "brand-a", "role": "admin"}
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("livecut_session=") and "HttpOnly" in cookie and "Path=/" in cookie
    assert "samesite=lax" in cookie.lower() and "Max-Age=" in cookie
    session_id = client.cookies["livecut_session"]
    rows = world.store.db.query("SELECT id_hash, expires_at FROM sessions")
    assert [r["id_hash"] for r in rows] == [hashlib.sha256(session_id.encode()).hexdigest()]
    assert rows[0]["expires_at"] > time.time() + 3600
    assert client.get("/api/me").json() == {"username": "alice", "tenant": "brand-a", "role": "admin"}
    assert client.get("/api/rooms").status_code == 200
    assert client.get(f"/media/rooms/{world.rooms['a']}/clips/clipa.mp4").content == b"video of a"
    assert client.post("/api/logout").status_code == 200
    client.cookies.set("livecut_session", session_id)  # a stolen copy of the cookie
    assert client.get("/api/me").status_code == 401
    assert world.store.db.query("SELECT id_hash FROM sessions") == []


def test_a_new_password_ends_the_users_sessions(world):
    client = world.client
    assert client.post("/api/login", json={"username": "olga", "password": PASSWORD}).status_code == 200
    changed = world.post("/api/users/olga/password", "alice", {"password": "another long one"})
    assert changed.status_code == 200 and changed.json()["password"] is None
    assert client.get("/api/me").status_code == 401
    assert client.post("/api/login", json={"username": "olga", "password": "another long one"}).status_code == 200


# 401, 403, 404 ---------------------------------------------------------------------------------
def test_no_or_bad_credentials_are_401_and_too_low_a_role_403(world):
    client = world.client
    for path in ("/api/rooms", "/api/clips", f"/api/rooms/{world.rooms['a']}", "/api/events", "/media/rooms/x/y.mp4"):
        response = client.get(path)
        assert response.status_code == 401 and "detail" in response.json(), path
    assert client.get("/api/rooms", headers={"Authorization": "Bearer lc_made-up"}).status_code == 401
    assert client.post("/api/rooms", json={"name": "x", "source": {"type": "push"}}).status_code == 401
    viewer_writes = [
        ("/api/rooms", {"name": "x", "source": {"type": "push"}}),
        (f"/api/clips/{world.clips['a']}/review", {"action": "approve"}),
        ("/api/clips/review", {"clip_ids": [world.clips["a"]], "action": "approve"}),
        (f"/api/clips/{world.clips['a']}/trim", {"t0": 1.0, "t1": 5.0}),
        (f"/api/rooms/{world.rooms['a']}/stop", {}),
    ]
    for path, body in viewer_writes:
        response = world.post(path, "vic", body)
        assert response.status_code == 403 and "operator" in response.json()["detail"], path
    for path in ("/api/users", "/api/tokens", "/api/audit", "/api/grants"):
        assert world.get(path, "olga").status_code == 403, path
        assert world.get(path, "alice").status_code == 200, path
    assert world.get("/api/rooms", "vic").status_code == 200


def test_another_tenants_room_clip_and_media_are_404_like_missing_ones(world):
    b_room, b_clip = world.rooms["b"], world.clips["b"]
    missing = world.get("/api/rooms/nosuchroom", "alice")
    assert missing.status_code == 404 and missing.json() == {"detail": "room nosuchroom not found"}
    foreign = world.get(f"/api/rooms/{b_room}", "alice")
    assert foreign.status_code == 404 and foreign.json() == {"detail": f"room {b_room} not found"}
    assert world.get(f"/api/clips/{b_clip}", "alice").json() == {"detail": f"clip {b_clip} not found"}
    assert world.get("/api/clips/nosuchclip", "alice").json() == {"detail": "clip nosuchclip not found"}
    media = world.get(f"/media/rooms/{b_room}/clips/{b_clip}.mp4", "alice")
    absent = world.get(f"/media/rooms/{world.rooms['a']}/clips/nothing.mp4", "alice")
    assert (media.status_code, media.json()) == (absent.status_code, absent.json()) == (404, {"detail": "not found"})
    assert world.get(f"/media/rooms/{b_room}/index.m3u8", "alice").status_code == 404
    for path, body in [
        (f"/api/clips/{b_clip}/review", {"action": "approve"}),
        ("/api/clips/review", {"clip_ids": [world.clips["a"], b_clip], "action": "approve"}),
        (f"/api/clips/{b_clip}/trim", {"t0": 1.0, "t1": 5.0}),
        (f"/api/rooms/{b_room}/stop", {}),
        (f"/api/rooms/{b_room}/clips", {"t0": 1.0, "t1": 5.0, "label": "price_promo"}),
    ]:
        assert world.post(path, "alice", body).status_code == 404, path
    assert world.get(f"/api/rooms/{b_room}/utterances", "alice").status_code == 404
    assert world.store.clip(world.clips["a"])["status"] == "ready", "a refused bulk review changes nothing"
    assert [r["id"] for r in world.get("/api/rooms", "alice").json()] == [world.rooms["a"]]
    assert [c["clip_id"] for c in world.get("/api/clips", "alice").json()] == [world.clips["a"]]
    assert world.get(f"/api/clips?room={b_room}", "alice").json() == []
    assert world.get(f"/media/rooms/{b_room}/clips/{b_clip}.mp4", "bob").content == b"video of b"


def test_an_mcn_granted_a_brands_room_sees_and_reviews_it(world):
    b_room, b_clip = world.rooms["b"], world.clips["b"]
    assert world.get(f"/api/rooms/{b_room}", "mia").status_code == 404
    assert world.post("/api/grants", "bob", {"tenant": "brand-a", "room": b_room}).status_code == 422
    assert world.post("/api/grants", "alice", {"tenant": "mcn-m", "room": b_room}).status_code == 404
    granted = world.post("/api/grants", "bob", {"tenant": "mcn-m", "room": b_room})
    assert granted.status_code == 201 and granted.json()["owner"] == "brand-b"
    room = world.get(f"/api/rooms/{b_room}", "mia").json()
    assert room["tenant"] == "brand-b" and room["clips"] == 1 and room["latency_p50_s"] == 2.0
    assert "stream_key" in room, "an operator of the MCN runs the broadcast"
    assert [r["id"] for r in world.get("/api/rooms", "mia").json()] == [b_room]
    assert [c["clip_id"] for c in world.get("/api/clips", "mia").json()] == [b_clip]
    assert world.get(f"/media/rooms/{b_room}/clips/{b_clip}.mp4", "mia").content == b"video of b"
    assert world.post(f"/api/clips/{b_clip}/review", "mia", {"action": "approve"}).json()["status"] == "approved"
    assert world.get(f"/api/rooms/{world.rooms['a']}", "mia").status_code == 404
    entries = world.get("/api/audit", "bob").json()
    assert ("mia", "mcn-m", "clip.review") in {(e["username"], e["tenant"], e["action"]) for e in entries}
    assert world.client.delete(f"/api/grants/mcn-m/{b_room}", headers=world.auth("bob")).status_code == 200
    assert world.get(f"/api/rooms/{b_room}", "mia").status_code == 404


def test_a_viewer_does_not_get_the_stream_key(world):
    assert "stream_key" not in world.get(f"/api/rooms/{world.rooms['a']}", "vic").json()
    assert "stream_key" in world.get(f"/api/rooms/{world.rooms['a']}", "olga").json()


# tokens and secrets ----------------------------------------------------------------------------
def test_a_revoked_token_stops_working_at_once(world):
    made = world.post("/api/tokens", "alice", {"name": "ci", "username": "olga"})
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["id"]
    headers = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/api/me", headers=headers).json()["username"] == "olga"
    assert world.client.delete(f"/api/tokens/{token_id}", headers=world.auth("bob")).status_code == 404
    revoked = world.client.delete(f"/api/tokens/{token_id}", headers=world.auth("alice"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert world.client.get("/api/me", headers=headers).status_code == 401
    listed = {t["id"]: t for t in world.get("/api/tokens", "alice").json()}
    assert listed[token_id]["revoked_at"] and "token" not in json.dumps(listed[token_id]).replace('"token"', "")


def test_tokens_and_passwords_are_not_stored_in_clear(world):
    made = world.post("/api/tokens", "alice", {"name": "secret check"}).json()
    user = world.post("/api/users", "alice", {"username": "newbie", "role": "viewer"}).json()
    login = world.client.post("/api/login", json={"username": "newbie", "password": user["password"]})
    assert login.status_code == 200
    world.store.close()  # flush the WAL into the database file before reading its bytes
    raw = b"".join(p.read_bytes() for p in world.root.glob("livecut.db*"))
    db = sqlite3.connect(world.root / "livecut.db")
    token_rows = db.execute("SELECT token_hash FROM api_tokens").fetchall()
    assert (hashlib.sha256(made["token"].encode()).hexdigest(),) in token_rows
    password_hash = db.execute("SELECT password_hash FROM users WHERE username = 'newbie'").fetchone()[0]
    assert password_hash.startswith("scrypt$") and verify_password(user["password"], password_hash)
    session = world.client.cookies["livecut_session"]
    for secret in (made["token"], user["password"], PASSWORD, session, *world.tokens.values()):
        assert secret.encode() not in raw
    db.close()
    world.store = MetadataStore(world.root / "livecut.db")


# reviews and audit -----------------------------------------------------------------------------
def test_every_review_is_audited_and_approvals_become_examples(world):
    a_clip = world.clips["a"]
    second = ready_clip(world.rooms["a"], "clipa2", 12.0, 19.0)
    world.store.save_clip(second, 1.0)
    assert world.post(f"/api/clips/{a_clip}/review", "olga", {"action": "approve"}).status_code == 200
    relabel = {"action": "relabel", "label": "selling_point", "sublabel": "design"}
    assert world.post(f"/api/clips/{a_clip}/review", "olga", relabel).json()["sublabel"] == "design"
    assert world.post(f"/api/clips/{a_clip}/review", "olga", {"action": "reject"}).json()["status"] == "rejected"
    bulk = world.post("/api/clips/review", "olga", {"clip_ids": [a_clip, "clipa2"], "action": "approve"})
    assert bulk.status_code == 200 and [c["status"] for c in bulk.json()] == ["approved", "approved"]
    assert world.post("/api/clips/review", "olga", {"clip_ids": [], "action": "approve"}).status_code == 422
    entries = [e for e in world.get("/api/audit", "alice").json() if e["action"] == "clip.review"]
    assert len(entries) == 5 and {e["username"] for e in entries} == {"olga"}
    actions = [(e["target"], e["detail"]["action"], e["detail"].get("bulk", False)) for e in reversed(entries)]
    assert actions == [
        (f"clip:{a_clip}", "approve", False),
        (f"clip:{a_clip}", "relabel", False),
        (f"clip:{a_clip}", "reject", False),
        (f"clip:{a_clip}", "approve", True),
        ("clip:clipa2", "approve", True),
    ]
    assert all(e["at"] > 0 and e["tenant"] == "brand-a" and e["room"] == world.rooms["a"] for e in entries)
    assert len(world.store.reviews()) == 5
    examples = [json.loads(line) for line in (world.root / "reviews.jsonl").read_text().splitlines()]
    assert [(e["clip_id"], e["sublabel"], e["brand"]) for e in examples] == [
        (a_clip, "fabric", "brand-a"),
        (a_clip, "design", "brand-a"),
        (a_clip, "design", "brand-a"),
        ("clipa2", "fabric", "brand-a"),
    ]
    assert not [e for e in world.get("/api/audit", "bob").json() if e["action"] == "clip.review"]


def test_clip_json_has_its_words_and_filters(world):
    clip = world.get(f"/api/clips/{world.clips['a']}", "vic").json()
    assert clip["words"] == [
        {"t0": 1.0, "t1": 1.6, "text": "面料"},
        {"t0": 1.6, "t1": 2.0, "text": "是"},
        {"t0": 2.0, "t1": 3.5, "text": "新疆长绒棉"},
    ]
    assert clip["video_url"].startswith(f"/media/rooms/{world.rooms['a']}/clips/clipa.mp4?v=")
    assert world.get(clip["video_url"], "vic").content == b"video of a"
    for query, expected in [
        ("status=ready", 1),
        ("status=approved", 0),
        ("sublabel=fabric", 1),
        ("sublabel=fit", 0),
        ("min_confidence=0.7", 1),
        ("min_confidence=0.9", 0),
        ("max_confidence=0.5", 0),
        ("label=selling_point&max_confidence=0.85", 1),
    ]:
        assert len(world.get(f"/api/clips?{query}", "vic").json()) == expected, query
    assert world.get("/api/clips?status=bogus", "vic").status_code == 422
    assert world.get("/api/clips?min_confidence=2", "vic").status_code == 422


# trims and range clips, rendered for real ------------------------------------------------------
def record_fragments(world: World, fixtures: Path, room: str) -> None:
    """The sample's first RECORDED_S seconds as the room's fragments, as ingest would store them."""
    flv = world.root / "sample.flv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-t", str(RECORDED_S), "-i", str(fixtures / "zh_live.mp4")]
        + ["-c", "copy", "-f", "flv", str(flv)],
        check=True,
    )
    with av.open(str(flv), format="flv") as container:
        recorder = FragmentRecorder(room, world.media, list(container.streams))
        fragments = [f for packet in container.demux() for f in recorder.add(packet)] + recorder.close()
    for fragment in fragments:
        world.store.add_fragment(fragment)
    world.store.advance_timeline(room, fragments[-1].t1, fragments[-1].seq + 1)


def render_next(world: World, worker: StageRunner) -> None:
    """What the render worker of any process does with the next request on the bus."""
    room, request = asyncio.run(asyncio.wait_for(worker.subscription.get(), 5))
    assert room == request.room
    assert worker.stage.render(request) is not None
    worker.subscription.task_done()


def video_seconds(world: World, clip: dict) -> float:
    body = world.get(clip["video_url"], "olga").content
    with av.open(io.BytesIO(body)) as container:
        return float(container.duration / av.time_base)


def test_trim_and_range_clips_rerender_from_the_fragments(world, fixtures):
    room = world.rooms["a"]
    record_fragments(world, fixtures, room)
    services = LiveServices(load_config(), world.store, world.media, world.bus, None, None, None)
    worker = StageRunner(RenderStage(services), world.bus, world.store)
    made = world.post(
        f"/api/rooms/{room}/clips", "olga", {"t0": 0.5, "t1": 8.5, "label": "selling_point", "sublabel": "fabric"}
    )
    assert made.status_code == 202 and made.json()["status"] == "rendering"
    clip_id = made.json()["clip_id"]
    assert made.json()["text"] == "面料是新疆长绒棉" and len(made.json()["words"]) == 3
    again = world.post(
        f"/api/rooms/{room}/clips", "olga", {"t0": 0.5, "t1": 8.5, "label": "selling_point", "sublabel": "fabric"}
    )
    assert again.status_code == 202 and again.json()["clip_id"] == clip_id
    render_next(world, worker)
    clip = world.get(f"/api/clips/{clip_id}", "olga").json()
    assert clip["status"] == "ready" and clip["duration"] == pytest.approx(8.0, abs=0.15)
    assert video_seconds(world, clip) == pytest.approx(8.0, abs=0.15)
    assert clip["latency_s"] is None, "an operator's clip is no live latency"

    trimmed = world.post(f"/api/clips/{clip_id}/trim", "olga", {"t0": 2.0, "t1": 6.0})
    assert trimmed.status_code == 202
    body = trimmed.json()
    assert (body["status"], body["t0"], body["t1"], body["clip_id"]) == ("rendering", 2.0, 6.0, clip_id)
    assert body["text"] == "新疆长绒棉" and [w["text"] for w in body["words"]] == ["新疆长绒棉"]
    assert world.post(f"/api/clips/{clip_id}/trim", "olga", {"t0": 2.0, "t1": 7.0}).status_code == 409
    render_next(world, worker)
    after = world.get(f"/api/clips/{clip_id}", "olga").json()
    assert after["status"] == "ready" and (after["t0"], after["t1"]) == (2.0, 6.0)
    assert after["duration"] == pytest.approx(4.0, abs=0.15)
    assert after["video_url"] != clip["video_url"], "a new URL, so no browser shows the cached cut"
    assert video_seconds(world, after) == pytest.approx(4.0, abs=0.15)
    audit = [(e["action"], e["target"]) for e in world.get("/api/audit", "alice").json()]
    assert ("clip.trim", f"clip:{clip_id}") in audit and ("clip.create", f"clip:{clip_id}") in audit


def test_trim_and_range_bounds_are_validated(world, fixtures):
    room, clip_id = world.rooms["a"], world.clips["a"]
    assert world.post(f"/api/clips/{clip_id}/trim", "olga", {"t0": 1.0, "t1": 5.0}).json() == {
        "detail": f"room {room} has no recorded media yet"
    }
    record_fragments(world, fixtures, room)
    for span, words in [
        ({"t0": 5.0, "t1": 5.0}, "t1 must be after t0"),
        ({"t0": 5.0, "t1": 2.0}, "t1 must be after t0"),
        ({"t0": -1.0, "t1": 2.0}, "greater than or equal to 0"),
        ({"t0": 1.0, "t1": 1.5}, "a clip lasts 1 to 60 s"),
        ({"t0": 1.0, "t1": 30.0}, "outside the recorded"),
        ({"t0": "x", "t1": 2.0}, "valid number"),
    ]:
        response = world.post(f"/api/clips/{clip_id}/trim", "olga", span)
        assert response.status_code == 422 and words in json.dumps(response.json()), (span, response.json())
    long_span = {"t0": 0.0, "t1": 61.0, "label": "price_promo"}
    assert "a clip lasts" in world.post(f"/api/rooms/{room}/clips", "olga", long_span).json()["detail"]
    unknown = {"t0": 1.0, "t1": 5.0, "label": "gossip"}
    assert world.post(f"/api/rooms/{room}/clips", "olga", unknown).status_code == 422
    assert world.store.clip(clip_id)["status"] == "ready" and world.store.clip(clip_id)["t0"] == 1.0


# the event stream ------------------------------------------------------------------------------
def read_events(lines: Iterator[str], done: Callable[[list], bool], timeout: float) -> list[tuple[str, dict]]:
    """(event, data) pairs of an open stream's lines until `done` says so, the stream ends, or `timeout`."""
    events: list[tuple[str, dict]] = []
    kind = ""
    deadline = time.monotonic() + timeout
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((kind, json.loads(line.removeprefix("data: "))))
        if done(events) or time.monotonic() > deadline:
            break
    return events


def test_the_event_stream_carries_the_tenants_changes_and_none_of_another(world):
    a_room, b_room = world.rooms["a"], world.rooms["b"]
    with world.client.stream("GET", "/api/events", headers=world.auth("vic")) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        world.store.save_clip(ready_clip(b_room, "b-new"), 1.0)
        world.store.save_clip(ready_clip(a_room, "a-new"), 1.0)
        world.store.set_room_status(a_room, "live")
        world.store.set_room_status(b_room, "live")
        world.store.review_clip("b-new", "approve", "selling_point", "fabric")
        seen_at = []

        def done(events: list) -> bool:
            seen = {("clip", d.get("clip_id")) for _, d in events} | {("room", d.get("id")) for _, d in events}
            if {("clip", "a-new"), ("room", a_room)} <= seen and not seen_at:
                seen_at.append(time.monotonic())
            return bool(seen_at) and time.monotonic() - seen_at[0] > 1.5  # and a few polls more

        events = read_events(response.iter_lines(), done, timeout=15)
    clip_events = [d for kind, d in events if kind == "clip"]
    room_events = [d for kind, d in events if kind == "room"]
    assert [c["clip_id"] for c in clip_events] == ["a-new"]
    assert clip_events[0]["status"] == "ready" and clip_events[0]["video_url"].startswith("/media/")
    assert [r["id"] for r in room_events] == [a_room] and room_events[0]["status"] == "live"
    assert b_room not in json.dumps(events)


def test_the_event_stream_follows_reviews_and_ends_when_its_token_is_revoked(world, monkeypatch):
    monkeypatch.setattr(api_events, "RECHECK_S", 0.2)
    made = world.post("/api/tokens", "alice", {"name": "stream", "username": "vic"}).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    with world.client.stream("GET", "/api/events", headers=headers) as response:
        lines = response.iter_lines()
        world.post(f"/api/clips/{world.clips['a']}/review", "olga", {"action": "reject"})
        events = read_events(lines, lambda e: bool(e), timeout=10)
        assert events[0][0] == "clip" and events[0][1]["status"] == "rejected"
        world.store.revoke_token(made["id"])
        started = time.monotonic()
        read_events(lines, lambda e: False, timeout=10)
        assert time.monotonic() - started < 5, "the stream ends once its token is revoked"


# limits and errors -----------------------------------------------------------------------------
def test_bodies_over_the_limit_get_413_and_every_error_is_json(world):
    big = {"name": "x" * 70_000, "source": {"type": "push"}}
    response = world.post("/api/rooms", "olga", big)
    assert response.status_code == 413 and response.json() == {"detail": "request body over 65536 bytes"}

    def chunks():
        for _ in range(20):
            yield b"x" * 8192

    chunked = world.client.post("/api/rooms", headers=world.auth("olga"), content=chunks())
    assert chunked.status_code == 413 and chunked.json()["detail"]
    for method, path in [("GET", "/api/nope"), ("POST", "/api/nope/deeper"), ("GET", "/nope"), ("GET", "/")]:
        response = world.client.request(method, path, headers=world.auth("olga"))
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}, (method, path)
    invalid = world.client.post(
        "/api/rooms", headers={**world.auth("olga"), "Content-Type": "application/json"}, content=b"{not json"
    )
    assert invalid.status_code == 422 and invalid.json()["detail"]
    assert world.client.post("/api/login", content=b"[]").status_code == 422


def test_the_web_folder_is_served_after_the_api(tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<h1>livecut</h1>")
    store = MetadataStore(tmp_path / "livecut.db")
    try:
        app = make_app(store, LocalMediaStore(tmp_path / "media"), MemoryBus(), tmp_path, web_dir=web)
        with TestClient(app) as client:
            assert client.get("/").text == "<h1>livecut</h1>"
            assert client.get("/api/rooms").status_code == 401
            assert client.get("/api/nope").json() == {"detail": "Not Found"}
            assert client.get("/nope.js").json() == {"detail": "Not Found"}
            assert client.get("/docs").status_code == 200 and client.get("/openapi.json").status_code == 200
    finally:
        store.close()


# first start and the CLI -----------------------------------------------------------------------
def test_first_start_makes_one_admin(tmp_path):
    store = MetadataStore(tmp_path / "livecut.db")
    try:
        password = first_start_admin(store, {})
        assert password and first_start_admin(store, {}) is None
        user = store.user("admin")
        assert (user["tenant"], user["role"]) == ("default", "admin")
        assert store.tenant("default")["kind"] == "mcn"
        assert verify_password(password, store.password_hash("admin"))
    finally:
        store.close()
    other = MetadataStore(tmp_path / "other.db")
    try:
        assert first_start_admin(other, {"LIVECUT_ADMIN_PASSWORD": "from the environment"}) is None
        assert verify_password("from the environment", other.password_hash("admin"))
    finally:
        other.close()


def cli(capsys, config: Path, *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(config)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cli_users_tokens_and_grants(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n')
    code, out = cli(capsys, config, "user", "add", "carol", "--tenant", "acme", "--role", "admin")
    assert code == 0 and "brand tenant acme" in out
    password = out.split("password: ")[1].split()[0]
    code, out = cli(capsys, config, "user", "add", "carol", "--tenant", "acme")
    assert code == 2 and "taken" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("mcn password 1\n"))
    code, out = cli(
        capsys,
        config,
        "user",
        "add",
        "mo",
        "--tenant",
        "netw",
        "--tenant-kind",
        "mcn",
        "--role",
        "operator",
        "--password-stdin",
    )
    assert code == 0 and "password:" not in out
    code, out = cli(capsys, config, "user", "add", "zed", "--tenant", "netw", "--tenant-kind", "brand")
    assert code == 2 and "is a mcn" in out
    code, out = cli(capsys, config, "token", "create", "carol", "--name", "ci")
    assert code == 0
    token = out.strip().splitlines()[-1]
    token_id = out.split()[1]
    code, out = cli(capsys, config, "token", "list")
    assert token_id in out and "active" in out and token not in out

    store = MetadataStore(tmp_path / "data" / "livecut.db")
    try:
        room = store.create_room("acme live", "push", tenant="acme")
        with TestClient(make_app(store, LocalMediaStore(tmp_path / "media"), MemoryBus(), tmp_path)) as client:
            assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["tenant"] == "acme"
            login = client.post("/api/login", json={"username": "carol", "password": password})
            assert login.status_code == 200
            client.cookies.clear()
            mo = {"username": "mo", "password": "mcn password 1"}
            assert client.post("/api/login", json=mo).status_code == 200
            assert client.get(f"/api/rooms/{room.id}").status_code == 404
            code, out = cli(capsys, config, "tenant", "grant", "netw", room.id)
            assert code == 0 and "granted to netw" in out
            assert client.get(f"/api/rooms/{room.id}").json()["tenant"] == "acme"
            assert cli(capsys, config, "tenant", "grant", "acme", room.id)[0] == 2
            code, out = cli(capsys, config, "token", "revoke", token_id)
            assert code == 0 and "revoked" in out
            assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
            monkeypatch.setattr("sys.stdin", io.StringIO("a brand new one\n"))
            assert cli(capsys, config, "user", "passwd", "mo", "--password-stdin")[0] == 0
            assert client.get("/api/me").status_code == 401, "a new password ends the sessions"
        actions = [(e["username"], e["action"]) for e in store.audit_log()]
        assert ("(cli)", "token.revoke") in actions and ("(cli)", "grant.create") in actions
    finally:
        store.close()


# a real `livecut serve` ------------------------------------------------------------------------
def test_serve_prints_the_first_admin_once_and_ctrl_c_ends_an_open_event_stream(tmp_path, monkeypatch):
    monkeypatch.delenv("LIVECUT_ADMIN_PASSWORD")
    running = start_serve(tmp_path)
    try:
        line = _first_start_line(running["log"])
        password = line.split("password ")[1].split()[0]
        api = Api(running["api"].base, password=password)
        assert api.get("/api/me")[1]["role"] == "admin"
        request = urllib.request.Request(api.base + "/api/events", headers=api.auth())
        stream = urllib.request.urlopen(request, timeout=30)
        assert stream.readline().startswith(b"retry:")
        reader = threading.Thread(target=stream.read, daemon=True)
        reader.start()
        running["proc"].send_signal(signal.SIGINT)
        assert running["proc"].wait(timeout=60) == 0, running["log"].read_text()[-3000:]
        reader.join(timeout=10)
        assert not reader.is_alive(), "the stream ended with the server"
    finally:
        if running["proc"].poll() is None:
            running["proc"].kill()
    log = running["log"].read_text()
    assert log.count("first start") == 1 and "Traceback" not in log


def _first_start_line(log: Path) -> str | None:
    return next((line for line in log.read_text().splitlines() if "first start" in line), None)
