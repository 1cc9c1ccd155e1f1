"""Accounts, plans and posts over the API: a real SQLite store behind FastAPI's TestClient, two tenants.

No platform is called here (tests/test_distribution_e2e.py posts to a local Douyin stand-in).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from livecut.api import create_app
from livecut.auth import hash_password, hash_secret, new_token
from livecut.bus import MemoryBus
from livecut.cli import main
from livecut.contracts import ClipReady
from livecut.reviews import ReviewLog
from livecut.runtime.posting import DistributionSettings
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

USERS = {"alice": ("brand-a", "admin"), "olga": ("brand-a", "operator"), "vic": ("brand-a", "viewer")}
USERS |= {"bob": ("brand-b", "admin")}


@dataclass
class World:
    client: TestClient
    store: MetadataStore
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)
    clips: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, user: str, body: dict | None = None):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.client.request(method, path, headers=headers, json=body)


def ready_clip(room: str, clip_id: str) -> ClipReady:
    return ClipReady(
        clip_id=clip_id,
        room=room,
        source=f"room:{room}",
        t0=1.0,
        t1=9.0,
        label="selling_point",
        sublabel="fabric",
        text="面料是新疆长绒棉",
        video=f"rooms/{room}/clips/{clip_id}.mp4",
        captions=f"rooms/{room}/clips/{clip_id}.srt",
        captions_vtt=f"rooms/{room}/clips/{clip_id}.vtt",
        thumbnail=f"rooms/{room}/clips/{clip_id}.jpg",
        duration=8.0,
    )


def around_now(hours: int = 3) -> str:
    """A UTC window from `hours` before now to `hours` after (it may run past midnight)."""
    now = datetime.now(UTC)
    return f"{now - timedelta(hours=hours):%H:%M}-{now + timedelta(hours=hours):%H:%M}"


def account_body(account_id: str, group: str = "g1", **fields) -> dict:
    return {
        "account_id": account_id,
        "platform": "douyin",
        "display_name": f"{account_id} 旗舰店",
        "group": group,
        "windows": [around_now()],
        "timezone": "UTC",
        "daily_cap": 5,
        "min_spacing_s": 600,
        "extra": {"open_id": f"open-{account_id}"},
        **fields,
    }


@pytest.fixture
def world(tmp_path, monkeypatch) -> Iterator[World]:
    monkeypatch.setenv("LIVECUT_TEST_SECRET_KEY", Fernet.generate_key().decode())
    settings = DistributionSettings(secret_key_env="LIVECUT_TEST_SECRET_KEY", handoff_dir=tmp_path / "handoff")
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    reviews = ReviewLog(tmp_path / "reviews.jsonl", set())
    app = create_app(store, media, None, "", reviews, bus=MemoryBus(), web_dir=None, distribution=settings)
    with TestClient(app) as client:
        built = World(client, store, tmp_path)
        for tenant in ("brand-a", "brand-b"):
            store.ensure_tenant(tenant, "brand")
        hashed = hash_password("correct horse battery")
        for username, (tenant, role) in USERS.items():
            store.create_user(username, tenant, role, hashed)
            token = new_token()
            store.create_token(username, "test", hash_secret(token))
            built.tokens[username] = token
        for key, tenant in (("a", "brand-a"), ("a2", "brand-a"), ("b", "brand-b")):
            room = store.create_room(f"room {key}", "push", tenant=tenant)
            store.save_clip(ready_clip(room.id, f"clip-{key}"), 1.0)
            built.clips[key] = f"clip-{key}"
        yield built
    store.close()


def test_accounts_are_the_tenants_own_and_credentials_are_write_only(world):
    made = world.call(
        "POST",
        "/api/accounts",
        "alice",
        account_body("acc-1")
        | {"credentials": {"access_token": "S3CRET", "refresh_token": "R3FRESH", "expires_in": 3600}},
    )
    assert made.status_code == 201, made.text
    assert made.json()["has_credentials"] is True and made.json()["tenant"] == "brand-a"
    for reply in (made, world.call("GET", "/api/accounts", "vic"), world.call("GET", "/api/accounts/acc-1", "vic")):
        assert "S3CRET" not in reply.text and "R3FRESH" not in reply.text
    cipher = world.store.account_credentials("acc-1")
    assert b"S3CRET" not in cipher, "stored encrypted"
    assert world.call("GET", "/api/accounts/acc-1", "bob").status_code == 404, "another tenant's account"
    assert world.call("GET", "/api/accounts", "bob").json() == []
    assert world.call("PATCH", "/api/accounts/acc-1", "bob", {"daily_cap": 1}).status_code == 404
    assert world.call("DELETE", "/api/accounts/acc-1", "bob").status_code == 404
    assert world.call("POST", "/api/accounts", "bob", account_body("acc-1")).status_code == 409, "ids are unique"
    assert world.call("POST", "/api/accounts", "olga", account_body("acc-9")).status_code == 403, "admins add accounts"
    changed = world.call("PATCH", "/api/accounts/acc-1", "alice", {"daily_cap": 2, "windows": ["09:00-12:00"]})
    assert (
        changed.status_code == 200 and changed.json()["daily_cap"] == 2 and changed.json()["windows"] == ["09:00-12:00"]
    )
    assert [a["action"] for a in world.store.audit_log("brand-a")][:2] == ["account.update", "account.create"]
    assert world.call("DELETE", "/api/accounts/acc-1", "alice").status_code == 200
    assert world.call("GET", "/api/accounts/acc-1", "alice").status_code == 404


BAD_FIELDS = [
    ({"platform": "myspace"}, "platform"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"windows": ["25:00-26:00"]}, "windows"),
    ({"windows": ["10:00-10:00"]}, "windows"),
    ({"daily_cap": -1}, "daily_cap"),
    ({"account_id": "bad id/with slash"}, "account_id"),
]


def test_a_bad_account_field_is_a_422_naming_it_and_nothing_is_stored(world):
    for change, field_name in BAD_FIELDS:
        reply = world.call("POST", "/api/accounts", "alice", account_body("acc-x") | change)
        assert reply.status_code == 422, (change, reply.text)
        assert field_name in reply.text, (change, reply.text)
    assert world.store.accounts("brand-a") == []


def test_credentials_without_the_secret_key_are_a_409_naming_it_and_nothing_is_stored(world, monkeypatch):
    monkeypatch.delenv("LIVECUT_TEST_SECRET_KEY")
    body = account_body("acc-1") | {"credentials": {"access_token": "tok"}}
    reply = world.call("POST", "/api/accounts", "alice", body)
    assert reply.status_code == 409 and "LIVECUT_TEST_SECRET_KEY" in reply.json()["detail"]
    assert world.store.account("acc-1") is None, "no account without its credentials"
    assert world.call("POST", "/api/accounts", "alice", account_body("acc-1")).status_code == 201
    put = world.call("PUT", "/api/accounts/acc-1/credentials", "alice", {"access_token": "tok"})
    assert put.status_code == 409 and "livecut secret-key" in put.json()["detail"]
    monkeypatch.setenv("LIVECUT_TEST_SECRET_KEY", "not-a-fernet-key")
    put = world.call("PUT", "/api/accounts/acc-1/credentials", "alice", {"access_token": "tok"})
    assert put.status_code == 409 and "not a Fernet key" in put.json()["detail"]
    assert world.store.account_credentials("acc-1") is None


def test_a_plan_takes_approved_clips_to_at_most_k_accounts_of_the_group_once(world):
    for n in range(4):
        world.call("POST", "/api/accounts", "alice", account_body(f"acc-{n}"))
    world.call("POST", "/api/accounts", "alice", account_body("acc-other", group="g2"))
    day = datetime.now(UTC).date().isoformat()
    body = {"clip_ids": [world.clips["a"]], "group": "g1", "day": day}
    refused = world.call("POST", "/api/plans", "olga", body)
    assert refused.status_code == 422 and "approved" in refused.json()["detail"], "a clip not yet approved"
    world.call("POST", f"/api/clips/{world.clips['a']}/review", "olga", {"action": "approve"})
    planned = world.call("POST", "/api/plans", "olga", body | {"caption": {"title": "新品 面料", "tags": ["好物"]}})
    assert planned.status_code == 201, planned.text
    posts = planned.json()
    assert len(posts) == 3, "K = 3 accounts of the group"
    assert {p["account_id"] for p in posts} < {"acc-0", "acc-1", "acc-2", "acc-3"}
    assert all(p["status"] == "planned" and p["caption"]["title"] == "新品 面料" for p in posts)
    assert world.call("POST", "/api/plans", "olga", body).json() == [], "planned again: nothing new"
    assert world.call("POST", "/api/plans", "olga", body | {"day": "2026-02-30"}).status_code == 422
    other = world.call("POST", "/api/plans", "bob", {"clip_ids": [world.clips["a"]], "group": "g1", "day": day})
    assert other.status_code == 404, "another tenant's clip"
    assert world.call("GET", "/api/posts", "bob").json() == []
    listed = world.call("GET", "/api/posts", "vic").json()
    assert len(listed) == 3 and all(p["attempt_log"] == [] for p in listed)
    assert world.call("GET", f"/api/posts/{posts[0]['post_id']}", "bob").status_code == 404


def test_approve_and_schedule_in_one_action_then_move_cancel_and_pause(world):
    world.call("POST", "/api/accounts", "alice", account_body("acc-1"))
    reply = world.call("POST", f"/api/clips/{world.clips['a']}/schedule", "olga", {"group": "g1"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["clip"]["status"] == "approved"
    (post,) = reply.json()["posts"]
    assert world.store.clip(world.clips["a"])["status"] == "approved"
    (example,) = [json.loads(line) for line in (world.root / "reviews.jsonl").read_text().splitlines()]
    assert example["clip_id"] == world.clips["a"], "the approval is a training example like any other"
    post_id = post["post_id"]
    outside = world.call("POST", f"/api/posts/{post_id}/move", "olga", {"at": time.time() + 12 * 3600})
    assert outside.status_code == 422 and "outside the windows" in outside.json()["detail"]
    soon = time.time() + 60
    moved = world.call("POST", f"/api/posts/{post_id}/move", "olga", {"at": soon})
    assert moved.status_code == 200 and moved.json()["at"] == pytest.approx(soon)
    paused = world.call("POST", "/api/accounts/acc-1/pause", "olga")
    assert paused.json()["status"] == "paused" and world.store.post(post_id)["status"] == "paused"
    assert world.call("POST", "/api/accounts/acc-1/resume", "olga").json()["status"] == "active"
    assert world.store.post(post_id)["status"] == "planned", "its time is still ahead"
    assert world.call("POST", f"/api/posts/{post_id}/cancel", "vic").status_code == 403
    cancelled = world.call("POST", f"/api/posts/{post_id}/cancel", "olga")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert world.call("POST", f"/api/posts/{post_id}/cancel", "olga").status_code == 409
    again = world.call("POST", f"/api/clips/{world.clips['a']}/schedule", "olga", {"group": "g1"})
    assert [p["post_id"] for p in again.json()["posts"]] == [post_id], "a cancelled post is planned again"
    bad = world.call("POST", f"/api/clips/{world.clips['b']}/schedule", "olga", {"group": "g1"})
    assert bad.status_code == 404


def test_a_handed_off_post_is_marked_posted_by_hand(world):
    world.call("POST", "/api/accounts", "alice", account_body("xhs-1", platform="xiaohongshu", extra={}))
    (post,) = world.call("POST", f"/api/clips/{world.clips['a']}/schedule", "olga", {"group": "g1"}).json()["posts"]
    post_id = post["post_id"]
    early = world.call("POST", f"/api/posts/{post_id}/mark-posted", "olga", {"url": "https://xhs.example/1"})
    assert early.status_code == 409, "only a handed-off post"
    package = world.root / "handoff" / "brand-a" / "xhs-1" / post_id
    package.mkdir(parents=True)
    (package / "manifest.json").write_text(json.dumps({"post_id": post_id, "status": "ready"}))
    world.store.set_post_status(post_id, "handed_off")
    done = world.call("POST", f"/api/posts/{post_id}/mark-posted", "olga", {"url": "https://xhs.example/1"})
    assert (
        done.status_code == 200 and done.json()["status"] == "posted" and done.json()["url"] == "https://xhs.example/1"
    )
    assert json.loads((package / "manifest.json").read_text())["status"] == "posted"


# the command line ----------------------------------------------------------------------------------
def cli(capsys, config: Path, *args: str) -> tuple[int, str]:
    code = main([*args, "--config", str(config)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cli_secret_key_and_accounts(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[distribution]\nsecret_key_env = "LC_CLI_KEY"\n')
    code, out = cli(capsys, config, "secret-key")
    key = out.strip()
    assert code == 0 and Fernet(key.encode())
    add = ["account", "add", "dy-1", "--tenant", "brand-a", "--platform", "douyin", "--name", "旗舰店"]
    add += ["--window", "09:00-12:00", "--extra", "open_id=open-1", "--credentials-stdin"]
    monkeypatch.setattr("sys.stdin", io.StringIO('{"access_token": "S3CRET", "expires_in": 3600}'))
    code, out = cli(capsys, config, *add)
    assert code == 2 and "LC_CLI_KEY" in out, "no key: refused, nothing stored"
    monkeypatch.setenv("LC_CLI_KEY", key)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"access_token": "S3CRET", "expires_in": 3600}'))
    code, out = cli(capsys, config, *add)
    assert code == 0 and "with credentials" in out, out
    monkeypatch.setattr("sys.stdin", io.StringIO('{"token": "x"}'))
    code, out = cli(capsys, config, *add[:2], "dy-2", *add[3:])
    assert code == 2 and "access_token" in out
    code, out = cli(capsys, config, "account", "add", "x-1", "--tenant", "t", "--platform", "myspace", "--name", "x")
    assert code == 2 and "platform" in out
    code, out = cli(
        capsys,
        config,
        "account",
        "add",
        "x-1",
        "--tenant",
        "t",
        "--platform",
        "douyin",
        "--name",
        "x",
        "--extra",
        "novalue",
    )
    assert code == 2 and "KEY=VALUE" in out
    code, out = cli(capsys, config, "account", "list", "--tenant", "brand-a")
    assert code == 0 and "dy-1" in out and "connected" in out and "S3CRET" not in out and "dy-2" not in out
    store = MetadataStore(tmp_path / "data" / "livecut.db")
    try:
        assert b"S3CRET" not in store.account_credentials("dy-1")
        assert store.account("dy-1")["extra"] == {"open_id": "open-1"}
    finally:
        store.close()
    code, out = cli(capsys, config, "account", "remove", "dy-1")
    assert code == 0 and "removed" in out
    code, out = cli(capsys, config, "account", "remove", "dy-1")
    assert code == 2 and "no account" in out
