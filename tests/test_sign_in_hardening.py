"""Sign-in and page hardening (issue 11, finding 7): login rate limits with backoff, failed sign-ins in
the audit log and the log, usernames of other tenants not revealed, security headers on every answer,
Secure cookies when configured. A real store and FastAPI's TestClient, as in test_auth.py.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_auth import PASSWORD, World, make_app, populate

from livecut.api.login_throttle import MAX_TRACKED, LoginLimits, LoginThrottle
from livecut.bus import MemoryBus
from livecut.config import ConfigError, load_config
from livecut.runtime.server import login_limits
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

WEB = Path(__file__).resolve().parents[1] / "livecut" / "web"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def build_world(tmp_path: Path, clock: FakeClock, **app_options) -> Iterator[World]:
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    bus = MemoryBus()
    app = make_app(store, media, bus, tmp_path, **app_options)
    app.state.login_throttle._clock = clock
    with TestClient(app) as client:
        world = World(client, store, media, bus, tmp_path)
        populate(world)
        yield world
    store.close()


@pytest.fixture
def world(tmp_path, clock) -> Iterator[World]:
    limits = LoginLimits(user_failures=3, address_failures=6, backoff_s=1.0, backoff_max_s=8.0)
    yield from build_world(tmp_path, clock, login_limits=limits)


def login(world: World, username: str, password: str):
    return world.client.post("/api/login", json={"username": username, "password": password})


def test_wrong_passwords_for_one_user_are_refused_with_a_doubling_retry_after(world, clock, caplog):
    with caplog.at_level(logging.WARNING, logger="livecut.api"):
        assert [login(world, "alice", f"guess {n}").status_code for n in range(3)] == [401, 401, 401]
        locked = login(world, "alice", PASSWORD)  # even the right password waits: it is not checked
        assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
        assert "try again in 1 s" in locked.json()["detail"]
        assert login(world, "olga", PASSWORD).status_code == 200, "other users are not locked out"
        clock.now += 1.1
        assert login(world, "alice", "guess 4").status_code == 401
        assert login(world, "alice", PASSWORD).headers["Retry-After"] == "2", "each failure past the bar doubles"
        clock.now += 2.1
        assert login(world, "alice", PASSWORD).status_code == 200
        assert login(world, "alice", "one typo").status_code == 401, "a success starts the count again"
    assert "failed sign-in for 'alice' from testclient" in caplog.text
    assert "locked out for 1 s" in caplog.text and "sign-in of 'alice' from testclient refused" in caplog.text
    failed = [e for e in world.store.audit_log("brand-a") if e["action"] == "login.failed"]
    assert len(failed) == 5 and {e["username"] for e in failed} == {"alice"}
    assert failed[-1]["detail"]["address"] == "testclient"


def test_one_address_guessing_many_usernames_is_refused(world, clock, caplog):
    names = ["vic", "bob", "nobody-1", "nobody-2", "mia", "max"]
    with caplog.at_level(logging.WARNING, logger="livecut.api"):
        assert {login(world, name, "wrong").status_code for name in names} == {401}
        refused = login(world, "olga", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "failed sign-in for unknown user 'nobody-1'" in caplog.text
    unknown = [e for e in world.store.audit_log() if e["target"] == "user:nobody-2"]
    assert unknown and unknown[0]["tenant"] == "" and unknown[0]["detail"]["known_user"] is False
    assert not [e for e in world.store.audit_log("brand-a") if "nobody" in e["target"]], "no tenant sees them"


def test_the_throttle_forgets_old_failures_and_stays_bounded():
    clock = FakeClock()
    throttle = LoginThrottle(LoginLimits(user_failures=2, address_failures=1000, forget_s=60), clock)
    throttle.failed("alice", "10.0.0.1")
    clock.now += 61
    assert throttle.failed("alice", "10.0.0.1") == 0, "a failure a minute ago is forgotten"
    for n in range(MAX_TRACKED + 50):
        throttle.failed(f"user-{n}", "10.0.0.2")
    assert all(len(table) <= MAX_TRACKED for table in throttle._tables.values())


def test_creating_a_user_does_not_reveal_another_tenants_usernames(world):
    own = world.post("/api/users", "alice", {"username": "olga"})  # olga is brand-a's
    other = world.post("/api/users", "alice", {"username": "bob"})  # bob is brand-b's
    assert own.status_code == other.status_code == 409
    assert own.json()["detail"].replace("olga", "NAME") == other.json()["detail"].replace("bob", "NAME")
    refused = [e for e in world.store.audit_log("brand-a") if e["action"] == "user.create.refused"]
    assert {e["target"] for e in refused} == {"user:olga", "user:bob"}
    assert world.store.user("bob")["tenant"] == "brand-b"


SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def assert_hardened(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    if "/docs" not in str(response.request.url):
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp


def test_every_page_and_api_answer_carries_the_security_headers(tmp_path, clock):
    for world in build_world(tmp_path, clock, web_dir=WEB):
        client = world.client
        answers = [
            client.get("/"),
            client.get("/app.js"),
            client.get("/api/me"),
            client.get("/api/nope"),
            login(world, "alice", "wrong"),
            world.get("/api/rooms", "alice"),
            world.get(f"/media/rooms/{world.rooms['a']}/clips/clipa.mp4", "alice"),
            client.post("/api/login", content=b"x" * (70 * 1024), headers={"content-type": "application/json"}),
            client.get("/docs"),
        ]
        assert [a.status_code for a in answers] == [200, 200, 401, 404, 401, 200, 200, 413, 200]
        for answer in answers:
            assert_hardened(answer)
        assert "strict-transport-security" not in answers[0].headers


def test_the_page_has_no_inline_script_or_handler_attribute():
    """The CSP refuses inline script, so the page must not rely on any."""
    html = (WEB / "index.html").read_text()
    for tag, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S):
        assert 'src="' in tag and not body.strip()
    assert not re.search(r"\son[a-z]+\s*=", html), "no onclick= and friends"
    assert "<style" not in html and " style=" not in html


def test_secure_cookies_when_configured(tmp_path, clock):
    for world in build_world(tmp_path, clock, secure_cookies=True):
        answer = login(world, "alice", PASSWORD)
        assert answer.status_code == 200
        assert "secure" in [part.strip().lower() for part in answer.headers["set-cookie"].split(";")]
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    plain = tmp_path / "plain"
    plain.mkdir()
    for world in build_world(plain, clock):
        cookie = login(world, "alice", PASSWORD).headers["set-cookie"].lower()
        assert "secure" not in [part.strip() for part in cookie.split(";")], "plain HTTP by default"


def test_login_limits_come_from_the_config_and_a_bad_one_names_its_key(tmp_path):
    config = load_config()
    assert login_limits(config["server"]) == LoginLimits() and config["server"]["secure_cookies"] is False
    user = tmp_path / "c.toml"
    user.write_text("[server]\nlogin_backoff_s = -1\n")
    with pytest.raises(ConfigError, match="server.login_backoff_s must be positive"):
        login_limits(load_config(user)["server"])
