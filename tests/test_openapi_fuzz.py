"""schemathesis against the API's own OpenAPI schema: no generated request may get a 5xx.

The app is create_app over a real SQLite store, media folder and memory bus, with two
tenants' rooms, clips and media in it, called in-process as an admin with a bearer token.
Path parameters and body ids are often swapped for ones that exist (ours and the other
tenant's), so requests get past "not found" into the routes' work.
GET /api/events is left out: it is an endless stream (tests/test_auth.py reads it).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from livecut.api import create_app
from livecut.auth import hash_password, hash_secret, new_token
from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.contracts import ClipReady, Fragment
from livecut.reviews import ReviewLog
from livecut.store import MetadataStore
from segmenter.taxonomy import load_taxonomy
from stream.media_store import LocalMediaStore

# Per operation; about 25 operations, a minute or so in all.
EXAMPLES = 25
ROOT = Path(tempfile.mkdtemp(prefix="livecut-fuzz-"))
STORE = MetadataStore(ROOT / "livecut.db")
MEDIA = LocalMediaStore(ROOT / "media")


class StubIngest:
    """The RoomManager calls the API makes, without RTMP: every stream key is refused."""

    front_pull_url = "rtmp://127.0.0.1:1936/live/{key}"  # never used: no key is accepted

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    async def authorize(self, app: str, stream_key: str) -> str | None:
        return None

    def start_pull(self, room) -> bool:
        return True

    async def stop_room(self, room_id: str) -> None:
        self.store.set_room_status(room_id, "ended")


# Ids that exist, by the name of the parameter or body field that takes them.
KNOWN: dict[str, list[str]] = {"room_id": [], "clip_id": [], "key": [], "token_id": [], "tenant": ["mcn-m"]}
KNOWN["username"] = ["admin", "olga", "other"]


def seeded_token() -> str:
    """Tenants with a room, a recording and a rendered clip each, and an admin's bearer token."""
    for tenant, kind in (("brand-a", "brand"), ("mcn-m", "mcn")):
        STORE.ensure_tenant(tenant, kind)
    for username, tenant, role in (("admin", "brand-a", "admin"), ("olga", "brand-a", "operator")):
        STORE.create_user(username, tenant, role, hash_password("fuzz password"))
    STORE.create_user("other", "mcn-m", "operator", hash_password("fuzz password"))
    for tenant in ("brand-a", "mcn-m"):
        room = STORE.create_room(f"{tenant} room", "push", tenant=tenant)
        clip = ReadyClip.of(room.id)
        STORE.save_clip(clip, 1.0)
        MEDIA.put_bytes(clip.video, b"not really a video")
        STORE.add_fragment(Fragment(room.id, 0, 0.0, 30.0, f"rooms/{room.id}/fragments/000000.ts"))
        KNOWN["room_id"].append(room.id)
        KNOWN["clip_id"].append(clip.clip_id)
        KNOWN["key"] += [clip.video, f"rooms/{room.id}/index.m3u8"]
    KNOWN["token_id"].append(STORE.create_token("olga", "revocable", hash_secret(new_token()))["id"])
    token = new_token()
    STORE.create_token("admin", "fuzz", hash_secret(token))
    return token


class ReadyClip:
    @staticmethod
    def of(room: str) -> ClipReady:
        files = f"rooms/{room}/clips/{room}c"
        return ClipReady(
            clip_id=f"{room}c",
            room=room,
            source=f"room:{room}",
            t0=1.0,
            t1=9.0,
            label="price_promo",
            sublabel=None,
            text="今天只要九十九元",
            video=f"{files}.mp4",
            captions=f"{files}.srt",
            captions_vtt=f"{files}.vtt",
            thumbnail=f"{files}.jpg",
            duration=8.0,
        )


def build_app():
    config = load_config()
    classes = {(c.label, c.sublabel) for c in load_taxonomy(config["taxonomy"])}
    reviews = ReviewLog(ROOT / "reviews.jsonl", classes)
    return create_app(
        STORE, MEDIA, StubIngest(STORE), "rtmp://127.0.0.1:1935/live", reviews, bus=MemoryBus(), web_dir=None
    )


TOKEN = seeded_token()
schema = schemathesis.openapi.from_asgi("/openapi.json", build_app()).exclude(path="/api/events")


def known_or(name: str, value: object) -> st.SearchStrategy:
    """The generated value, or one that exists."""
    return st.one_of(st.just(value), st.sampled_from(KNOWN[name])) if name in KNOWN else st.just(value)


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict | None) -> st.SearchStrategy:
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    return st.fixed_dictionaries({name: known_or(name, value) for name, value in path_parameters.items()})


@schema.hook
def flatmap_body(context, body: object) -> st.SearchStrategy:
    if not isinstance(body, dict):
        return st.just(body)
    fields = {"room": "room_id", "tenant": "tenant", "username": "username"}
    swapped = {key: known_or(fields.get(key, ""), value) for key, value in body.items()}
    if isinstance(body.get("clip_ids"), list):
        swapped["clip_ids"] = st.one_of(
            st.just(body["clip_ids"]), st.lists(st.sampled_from(KNOWN["clip_id"]), min_size=1)
        )
    return st.fixed_dictionaries(swapped)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    STORE.close()
    shutil.rmtree(ROOT, ignore_errors=True)


def test_the_schema_documents_every_route():
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert len(operations) >= 20
    assert ("POST", "/api/clips/{clip_id}/trim") in operations and ("GET", "/media/{key}") in operations


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None, print_blob=True)
def test_no_request_gets_a_server_error(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
