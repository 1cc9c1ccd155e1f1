"""Distribution's rows in the metadata store, on SQLite and on a real PostgreSQL server alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers.postgres import postgres_server_fixture, postgres_url_fixture

from livecut.store import MetadataStore
from livecut.store.distribution import StoreJournal

postgres_server = postgres_server_fixture()
postgres_url = postgres_url_fixture()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    target = str(tmp_path / "livecut.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = MetadataStore(target)
    yield opened
    opened.close()


def account(account_id: str = "acc-1", tenant: str = "brand-a", **fields) -> dict:
    return {
        "account_id": account_id,
        "tenant": tenant,
        "platform": "douyin",
        "display_name": "旗舰店",
        "group": "g1",
        "windows": ["09:00-12:00", "20:00-23:30"],
        "extra": {"open_id": "open-1"},
        **fields,
    }


def planned(post_id: str, clip_id: str = "c1", account_id: str = "acc-1", at: float = 100.0) -> dict:
    return {"post_id": post_id, "clip_id": clip_id, "account_id": account_id, "at": at, "caption": {"title": "新品"}}


def test_accounts_round_trip_and_credentials_stay_ciphertext_only(store):
    assert store.create_account(account())
    assert not store.create_account(account(display_name="again")), "an id is taken once"
    row = store.account("acc-1")
    assert row["group"] == "g1" and row["windows"] == ["09:00-12:00", "20:00-23:30"]
    assert row["extra"] == {"open_id": "open-1"} and row["has_credentials"] is False
    assert "credentials" not in row
    store.set_account_credentials("acc-1", b"gAAAA-ciphertext")
    assert store.account("acc-1")["has_credentials"] is True
    assert store.account_credentials("acc-1") == b"gAAAA-ciphertext"
    with pytest.raises(TypeError, match="credentials"):
        store.set_account_credentials("acc-1", "clear text")  # type: ignore[arg-type]
    store.update_account(account(display_name="改名", daily_cap=3))
    assert store.account("acc-1")["display_name"] == "改名" and store.account("acc-1")["daily_cap"] == 3
    store.create_account(account("acc-2", tenant="brand-b"))
    assert [a["account_id"] for a in store.accounts("brand-a")] == ["acc-1"]
    assert store.accounts("brand-a", group="other") == []


def test_posts_are_one_per_clip_and_account_and_a_cancelled_one_is_planned_again(store):
    store.create_account(account())
    assert store.add_posts("brand-a", [planned("p1"), planned("p2", clip_id="c2")]) == ["p1", "p2"]
    assert store.add_posts("brand-a", [planned("p1", at=500.0)]) == [], "a replayed plan adds nothing"
    assert store.post("p1")["at"] == 100.0 and store.post("p1")["caption"] == {"title": "新品"}
    assert store.set_post_status("p1", "cancelled", only_from=("planned",))
    assert not store.set_post_status("p1", "cancelled", only_from=("planned",))
    assert store.add_posts("brand-a", [planned("p1", at=700.0)]) == ["p1"]
    assert store.post("p1")["status"] == "planned" and store.post("p1")["at"] == 700.0
    assert store.move_post("p1", 800.0) and store.post("p1")["at"] == 800.0
    assert [p["post_id"] for p in store.posts("brand-a")] == ["p2", "p1"]
    assert sorted(p["post_id"] for p in store.group_posts("brand-a", "g1")) == ["p1", "p2"]
    assert store.group_posts("brand-a", "g2") == [] and store.group_posts("brand-b", "g1") == []
    assert store.posts("brand-b") == []


def test_due_posts_are_claimed_once_and_a_dead_workers_lease_runs_out(store):
    store.create_account(account())
    store.create_account(account("acc-paused", status="paused"))
    store.add_posts(
        "brand-a", [planned("p1"), planned("p2", clip_id="c2", at=10_000.0), planned("p3", account_id="acc-paused")]
    )
    claimed = store.claim_due_posts(now=200.0, lease_s=60.0)
    assert [p["post_id"] for p in claimed] == ["p1"], "not due yet, and a paused account's post, are left"
    assert claimed[0]["status"] == "posting" and claimed[0]["lease_until"] == 260.0
    assert store.claim_due_posts(now=201.0, lease_s=60.0) == [], "held by the first claim"
    again = store.claim_due_posts(now=261.0, lease_s=60.0)
    assert [p["post_id"] for p in again] == ["p1"], "the lease ran out: handed out again"


def test_an_attempt_and_the_outcome_are_written_together_and_retries_come_due(store):
    store.create_account(account())
    store.add_posts("brand-a", [planned("p1")])
    store.claim_due_posts(now=200.0, lease_s=60.0)
    store.record_attempt(
        "p1",
        {"attempt": 1, "started_at": 200.0, "status": "retry_wait", "error_kind": "retryable", "platform_code": 500},
        {"status": "retry_wait", "retry_at": 230.0, "reason": "douyin upload_video: HTTP 500"},
    )
    post = store.post("p1")
    assert (post["status"], post["retry_at"], post["attempts"], post["lease_until"]) == ("retry_wait", 230.0, 1, None)
    assert store.claim_due_posts(now=229.0, lease_s=60.0) == []
    assert [p["post_id"] for p in store.claim_due_posts(now=231.0, lease_s=60.0)] == ["p1"]
    store.record_attempt(
        "p1", {"attempt": 2, "started_at": 231.0, "status": "posted"}, {"status": "posted", "platform_id": "@item"}
    )
    post = store.post("p1")
    assert (post["status"], post["platform_id"], post["attempts"], post["reason"]) == ("posted", "@item", 2, None)
    attempts = store.post_attempts("p1")
    assert [(a["attempt"], a["status"], a["platform_code"]) for a in attempts] == [
        (1, "retry_wait", "500"),
        (2, "posted", None),
    ]


def test_the_journal_fingerprints_metrics_and_hand_off(store):
    journal = StoreJournal(store)
    assert journal.load("p1") == {}
    journal.save("p1", {"video_id": "v-1", "parts_done": [1, 2]})
    journal.save("p1", {"video_id": "v-1", "parts_done": [1, 2, 3]})
    assert journal.load("p1") == {"video_id": "v-1", "parts_done": [1, 2, 3]}
    store.add_fingerprint("p1", "brand-a", "acc-1", 100.0, bytes(range(64)))
    store.add_fingerprint("p1", "brand-a", "acc-1", 100.0, b"\x00" * 32)
    assert store.fingerprints("brand-a", since=50.0)[0]["hashes"] == bytes(range(64))
    assert store.fingerprints("brand-a", since=150.0) == [] and store.fingerprints("brand-b", since=0.0) == []
    store.add_post_metrics("p1", 10.0, 1000, 10, 1, 2)
    assert store.post_metrics("p1") == [{"at": 10.0, "plays": 1000, "likes": 10, "comments": 1, "shares": 2}]
    store.create_account(account())
    store.add_posts("brand-a", [planned("p1")])
    assert not store.mark_posted("p1", "x", "https://example.invalid/x"), "only a handed-off post is marked"
    store.set_post_status("p1", "handed_off")
    assert store.mark_posted("p1", "xhs-1", "https://www.xiaohongshu.com/explore/1")
    assert store.post("p1")["status"] == "posted" and store.post("p1")["url"].endswith("/1")


def test_removing_an_account_cancels_its_posts_not_yet_sent(store):
    store.create_account(account())
    store.add_posts("brand-a", [planned("p1"), planned("p2", clip_id="c2")])
    store.set_post_status("p2", "posted")
    store.delete_account("acc-1")
    assert store.account("acc-1") is None
    assert (store.post("p1")["status"], store.post("p1")["reason"]) == ("cancelled", "account removed")
    assert store.post("p2")["status"] == "posted"
