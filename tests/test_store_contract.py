"""The metadata store's contract, run on SQLite and on a real PostgreSQL server alike."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from servers.postgres import postgres_server_fixture, postgres_url_fixture

from livecut.config import ConfigError, load_config
from livecut.contracts import ClipReady, ClipRequest, Fragment, Utterance
from livecut.store.db import migrations
from livecut.store.metadata import MetadataStore, StoreError, build_metadata_store

postgres_server = postgres_server_fixture()
postgres_url = postgres_url_fixture()

ALL_MIGRATIONS = [m.name for m in migrations()]
LEASE_S = 30.0


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: a SQLite file, or a fresh PostgreSQL database (the server starts only when needed)."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "livecut.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(target: str):
    opened = MetadataStore(target)
    yield opened
    opened.close()


def request_for(room: str, clip_id: str, t0: float = 0.0, label: str = "price_promo") -> ClipRequest:
    return ClipRequest(
        clip_id=clip_id,
        room=room,
        source="live",
        t0=t0,
        t1=t0 + 8.0,
        label=label,
        sublabel=None,
        text="今天只要九十九元",
    )


def ready_clip(room: str, clip_id: str, t0: float = 0.0, label: str = "price_promo") -> ClipReady:
    return ClipReady(
        clip_id=clip_id,
        room=room,
        source="live",
        t0=t0,
        t1=t0 + 8.0,
        label=label,
        sublabel=None,
        text="今天只要九十九元",
        video=f"rooms/{room}/clips/{clip_id}.mp4",
        captions=f"rooms/{room}/clips/{clip_id}.srt",
        captions_vtt=f"rooms/{room}/clips/{clip_id}.vtt",
        thumbnail=f"rooms/{room}/clips/{clip_id}.jpg",
        duration=8.0,
    )


def utterance(room: str, t0: float, t1: float, text: str, lang: str, label: str, sublabel, confidence) -> Utterance:
    return Utterance(
        room=room, t0=t0, t1=t1, text=text, lang=lang, label=label, sublabel=sublabel, confidence=confidence
    )


def open_in_threads(count: int, opener):
    """Run `opener` in `count` threads released at once; their results, in no order."""
    barrier, results, errors = threading.Barrier(count), [], []

    def run() -> None:
        barrier.wait()
        try:
            results.append(opener())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


# rooms ---------------------------------------------------------------------------------------
def test_rooms_with_and_without_brand(store):
    push = store.create_room("morning show", "push")
    pull = store.create_room("acme live", "pull", url="rtmp://example.com/live/x", brand="acme")
    assert (push.status, push.brand, push.url, push.source_type) == ("waiting", None, None, "push")
    assert push.stream_key and pull.stream_key is None
    assert (pull.brand, pull.url) == ("acme", "rtmp://example.com/live/x")
    assert store.room(pull.id) == pull
    assert store.room_by_key(push.stream_key) == push
    assert store.room("nope") is None and store.room_by_key("nope") is None
    assert [room.id for room in store.rooms()] == [pull.id, push.id]
    assert isinstance(push.created_at, float) and abs(push.created_at - time.time()) < 60


def test_status_transitions_set_their_timestamps(store):
    room = store.create_room("r", "push")
    assert room.started_at is None and room.ended_at is None
    store.set_room_status(room.id, "live")
    started = store.room(room.id).started_at
    assert started is not None and store.room(room.id).status == "live"
    store.set_room_status(room.id, "reconnecting")
    store.set_room_status(room.id, "live")
    assert store.room(room.id).started_at == started, "going live again keeps the first start"
    store.set_room_status(room.id, "ended")
    ended = store.room(room.id)
    assert ended.status == "ended" and ended.ended_at >= started and ended.error is None
    store.set_room_status(room.id, "error", "not a stream")
    assert (store.room(room.id).status, store.room(room.id).error) == ("error", "not a stream")
    with pytest.raises(ValueError, match="unknown room status"):
        store.set_room_status(room.id, "paused")


def test_timeline_and_processing_only_move_forward(store):
    room = store.create_room("r", "push")
    store.advance_timeline(room.id, 4.5, 3)
    store.advance_timeline(room.id, 2.0, 1)
    store.mark_processed(room.id, 3.25)
    store.mark_processed(room.id, 1.0)
    store.note_publish(room.id)
    store.note_publish(room.id)
    after = store.room(room.id)
    assert (after.media_end, after.next_seq, after.processed_to, after.publishes) == (4.5, 3, 3.25, 2)


# fragments and utterances --------------------------------------------------------------------
def test_fragments_are_idempotent_by_room_and_seq(store):
    room = store.create_room("r", "push")
    for seq in range(4):
        store.add_fragment(Fragment(room.id, seq, seq * 2.0, seq * 2.0 + 2.0, f"rooms/{room.id}/{seq}.ts"))
    store.add_fragment(Fragment(room.id, 1, 2.0, 4.0, "replayed.ts"), discontinuity=True)
    store.add_fragment(Fragment("other", 0, 0.0, 2.0, "other.ts"))
    fragments = store.fragments(room.id)
    assert [f.seq for f in fragments] == [0, 1, 2, 3] and fragments[1].uri == "replayed.ts"
    assert fragments[0] == Fragment(room.id, 0, 0.0, 2.0, f"rooms/{room.id}/0.ts")
    assert [f.seq for f in store.fragments(room.id, 3.0, 5.0)] == [1, 2]
    assert [f.seq for f in store.fragments(room.id, t0=5.5)] == [2, 3]
    assert store.discontinuities(room.id) == {1}
    assert store.room_counters(room.id)["fragments"] == 4


def test_a_span_reaches_back_to_the_fragment_that_starts_at_a_keyframe(store):
    room = store.create_room("r", "push")
    # Keyframes every 2 s, fragments split every 0.5 s between them (stream.recorder, split_s).
    for seq in range(8):
        t0 = seq * 0.5
        store.add_fragment(Fragment(room.id, seq, t0, t0 + 0.5, f"rooms/{room.id}/{seq}.ts", keyframe=seq % 4 == 0))
    assert [f.keyframe for f in store.fragments(room.id)] == [True, False, False, False] * 2
    assert [f.seq for f in store.fragments(room.id, 2.6, 3.2)] == [5, 6]
    assert [f.seq for f in store.span_fragments(room.id, 2.6, 3.2)] == [4, 5, 6]
    assert [f.seq for f in store.span_fragments(room.id, 1.2, 2.2)] == [0, 1, 2, 3, 4]
    assert [f.seq for f in store.span_fragments(room.id, 2.0, 2.4)] == [4]


def test_utterances_are_replaced_by_room_and_start(store):
    room = store.create_room("r", "push")
    store.add_utterance(utterance(room.id, 5.0, 7.0, "second", "en", "chitchat", None, 0.5))
    store.add_utterance(utterance(room.id, 1.0, 3.0, "面料是新疆长绒棉", "zh", "selling_point", "fabric", 0.9))
    store.add_utterance(utterance(room.id, 5.0, 7.5, "second, again", "en", "call_to_action", None, 0.7))
    rows = store.utterances(room.id)
    assert [(u["t0"], u["text"]) for u in rows] == [(1.0, "面料是新疆长绒棉"), (5.0, "second, again")]
    assert rows[0] | {} == {
        "room": room.id,
        "t0": 1.0,
        "t1": 3.0,
        "text": "面料是新疆长绒棉",
        "lang": "zh",
        "label": "selling_point",
        "sublabel": "fabric",
        "confidence": 0.9,
        "product": None,
    }
    assert store.utterances("other") == []


def test_a_replayed_utterance_timed_slightly_apart_replaces_the_first(store):
    room = store.create_room("r", "push")
    store.add_utterance(utterance(room.id, 10.0, 13.0, "面料很有质感", "zh", "selling_point", "fabric", 0.9))
    store.add_utterance(utterance(room.id, 13.5, 15.0, "真丝", "zh", "selling_point", "fabric", 0.9))
    store.add_utterance(utterance(room.id, 10.03, 12.98, "面料很有质感。", "zh", "selling_point", "fabric", 0.9))
    assert [(u["t0"], u["text"]) for u in store.utterances(room.id)] == [(10.03, "面料很有质感。"), (13.5, "真丝")]


def test_a_replayed_clip_request_is_queued_once(store):
    room = store.create_room("r", "push")
    assert store.queue_clip(request_for(room.id, "first", t0=10.0))
    # The same span timed 40 ms apart after a worker died: the pending request is replaced.
    assert store.queue_clip(request_for(room.id, "replayed", t0=10.04))
    assert [c["clip_id"] for c in store.clips(room=room.id)] == ["replayed"]
    assert not store.needs_render("first") and store.needs_render("replayed")
    store.save_clip(ready_clip(room.id, "replayed", t0=10.04), latency_s=1.0)
    assert not store.needs_render("replayed")
    # Once rendered, a replay of it is dropped; a clip next to it, or of another label, is not.
    assert not store.queue_clip(request_for(room.id, "again", t0=9.98))
    assert not store.queue_clip(request_for(room.id, "replayed", t0=10.04))
    assert store.queue_clip(request_for(room.id, "next", t0=17.0))
    assert store.queue_clip(request_for(room.id, "other label", t0=10.0, label="call_to_action"))
    assert sorted(c["clip_id"] for c in store.clips(room=room.id)) == ["next", "other label", "replayed"]


def test_a_failed_clip_asked_for_again_is_rendered_again(store):
    room = store.create_room("r", "push")
    store.queue_clip(request_for(room.id, "c1"))
    store.fail_clip("c1", room.id, 0.0, 8.0, "price_promo", "ffmpeg exited 1")
    assert store.queue_clip(request_for(room.id, "c1")) and store.needs_render("c1")


def test_the_resume_point_is_kept_per_room(store):
    room, other = store.create_room("r", "push"), store.create_room("o", "push")
    assert store.room(room.id).resume_from is None
    store.mark_processed(room.id, 40.0, resume_from=42.5)
    assert (store.room(room.id).resume_from, store.room(other.id).resume_from) == (42.5, None)
    store.mark_processed(room.id, 41.0)
    assert (store.room(room.id).processed_to, store.room(room.id).resume_from) == (41.0, 42.5)


# clips and reviews ---------------------------------------------------------------------------
def test_a_clip_goes_from_queued_to_saved_once(store):
    room = store.create_room("r", "push")
    store.queue_clip(request_for(room.id, "c1"))
    assert store.clip("c1")["status"] == "rendering"
    store.save_clip(ready_clip(room.id, "c1"), latency_s=1.5)
    store.save_clip(ready_clip(room.id, "c1"), latency_s=2.5)
    store.queue_clip(request_for(room.id, "c1"))
    clip = store.clip("c1")
    assert (clip["status"], clip["latency_s"], clip["error"]) == ("ready", 2.5, None)
    assert (clip["video"], clip["text"], clip["t1"]) == (f"rooms/{room.id}/clips/c1.mp4", "今天只要九十九元", 8.0)
    assert [c["clip_id"] for c in store.clips(room=room.id)] == ["c1"]
    assert store.clip("nope") is None


def test_failed_clips_and_counters(store):
    room = store.create_room("r", "push")
    store.queue_clip(request_for(room.id, "rendering", t0=20.0))
    store.queue_clip(request_for(room.id, "broken", t0=10.0))
    store.fail_clip("broken", room.id, 10.0, 18.0, "price_promo", "ffmpeg exited 1")
    store.fail_clip("never-queued", room.id, 30.0, 38.0, "chitchat", "no fragments")
    store.save_clip(ready_clip(room.id, "ok"), latency_s=3.0)
    assert (store.clip("broken")["status"], store.clip("broken")["error"]) == ("failed", "ffmpeg exited 1")
    assert store.clip("never-queued")["status"] == "failed"
    counters = store.room_counters(room.id)
    expected = {"clips": 4, "failed": 2, "rendering": 1, "mean_latency_s": 3.0, "fragments": 0, "skipped_packets": 0}
    assert counters == expected
    store.note_skipped_packets(room.id, 3)
    store.note_skipped_packets(room.id, 2)
    assert store.room_counters(room.id)["skipped_packets"] == 5
    empty = store.room_counters("no-such-room")
    assert empty == {
        "clips": 0,
        "failed": 0,
        "rendering": 0,
        "mean_latency_s": None,
        "fragments": 0,
        "skipped_packets": 0,
    }


def test_clips_filter_by_room_label_and_time(store):
    first, second = store.create_room("a", "push"), store.create_room("b", "push")
    store.save_clip(ready_clip(first.id, "a1", t0=0.0), 1.0)
    store.save_clip(ready_clip(first.id, "a2", t0=10.0, label="call_to_action"), 1.0)
    since = time.time()
    time.sleep(0.01)
    store.save_clip(ready_clip(second.id, "b1"), 1.0)
    assert [c["clip_id"] for c in store.clips()] == ["b1", "a2", "a1"]
    assert [c["clip_id"] for c in store.clips(room=first.id)] == ["a2", "a1"]
    assert [c["clip_id"] for c in store.clips(label="call_to_action")] == ["a2"]
    assert [c["clip_id"] for c in store.clips(room=first.id, label="price_promo")] == ["a1"]
    assert [c["clip_id"] for c in store.clips(since=since)] == ["b1"]
    assert len(store.clips(limit=2)) == 2


def test_reviews_update_the_clip_and_are_kept_in_order(store):
    room = store.create_room("r", "push", brand="acme")
    store.save_clip(ready_clip(room.id, "c1"), 1.0)
    store.save_clip(ready_clip(room.id, "c2", t0=10.0), 1.0)
    example = store.review_clip("c1", "relabel", "selling_point", "design")
    assert example | {"created_at": 0} == {
        "clip_id": "c1",
        "room": room.id,
        "action": "relabel",
        "label": "selling_point",
        "sublabel": "design",
        "text": "今天只要九十九元",
        "created_at": 0,
    }
    store.review_clip("c2", "reject", "price_promo", None)
    clip = store.clip("c1")
    assert (clip["status"], clip["label"], clip["sublabel"]) == ("approved", "selling_point", "design")
    assert store.clip("c2")["status"] == "rejected"
    reviews = store.reviews()
    assert [(r["id"], r["clip_id"], r["action"]) for r in reviews] == [(1, "c1", "relabel"), (2, "c2", "reject")]
    assert reviews[0]["created_at"] == example["created_at"]
    with pytest.raises(KeyError):
        store.review_clip("nope", "approve", "price_promo", None)


def test_concurrent_reviews_from_several_connections_get_distinct_ids(store, target):
    # Different clips, so that no row lock on a clip puts the reviews in line.
    room = store.create_room("r", "push")
    reviewers = [MetadataStore(target) for _ in range(6)]
    for number in range(len(reviewers)):
        store.save_clip(ready_clip(room.id, f"c{number}", t0=10.0 * number), 1.0)
    try:
        turns = iter(enumerate(reviewers))

        def review() -> None:
            number, reviewer = next(turns)
            reviewer.review_clip(f"c{number}", "approve", "price_promo", None)

        open_in_threads(len(reviewers), review)
    finally:
        for reviewer in reviewers:
            reviewer.close()
    reviews = store.reviews()
    assert [r["id"] for r in reviews] == list(range(1, len(reviewers) + 1))
    assert sorted(r["clip_id"] for r in reviews) == [f"c{n}" for n in range(len(reviewers))]


def test_one_store_is_safe_to_share_between_threads(store):
    room = store.create_room("r", "push")
    counter = iter(range(1000))

    def write_some() -> None:
        for _ in range(25):
            seq = next(counter)
            store.add_fragment(Fragment(room.id, seq, float(seq), seq + 1.0, f"{seq}.ts"))
            store.advance_timeline(room.id, seq + 1.0, seq + 1)

    open_in_threads(8, write_some)
    assert len(store.fragments(room.id)) == 200 and store.room(room.id).next_seq == 200


# migrations ----------------------------------------------------------------------------------
def test_a_fresh_database_gets_every_migration_and_reopening_applies_none(store, target):
    assert store.migrations_applied == ALL_MIGRATIONS
    assert ALL_MIGRATIONS[:3] == ["0001_initial.sql", "0002_room_brand.sql", "0003_room_lease.sql"]
    room = store.create_room("kept", "push", brand="acme")
    store.close()
    reopened = MetadataStore(target)
    try:
        assert reopened.migrations_applied == []
        assert reopened.room(room.id) == room
        recorded = reopened.db.query("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [r["name"] for r in recorded] == ALL_MIGRATIONS
    finally:
        reopened.close()


def test_processes_opening_one_database_at_once_apply_each_migration_once(target, tmp_path):
    go = tmp_path / "go"
    opener = (
        "import json, sys, time, pathlib\n"
        "from livecut.store.metadata import MetadataStore\n"
        "while not pathlib.Path(sys.argv[2]).exists(): time.sleep(0.002)\n"
        "print(json.dumps(MetadataStore(sys.argv[1]).migrations_applied))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", opener, target, str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    time.sleep(1.0)  # let them all import and wait on the go file
    go.touch()
    applied = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        applied += json.loads(out)
    assert sorted(applied) == ALL_MIGRATIONS


def test_an_sqlite_database_from_before_brands_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "data" / "livecut.db"
    path.parent.mkdir()
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_BEFORE_BRANDS)
    old.execute(
        "INSERT INTO rooms (id, name, source_type, status, created_at, media_end) "
        "VALUES ('old1', 'old room', 'push', 'ended', 1.5, 42.0)"
    )
    old.execute(
        "INSERT INTO reviews (clip_id, room, action, label, text, created_at) "
        "VALUES ('c0', 'old1', 'approve', 'price_promo', 'x', 2.0)"
    )
    old.commit()
    old.close()
    store = MetadataStore(path)
    try:
        assert store.migrations_applied == ALL_MIGRATIONS
        room = store.room("old1")
        assert (room.name, room.media_end, room.brand, room.lease_owner) == ("old room", 42.0, None, None)
        store.create_room("new", "push", brand="acme")
        store.save_clip(ready_clip("old1", "c1"), 1.0)
        store.review_clip("c1", "approve", "price_promo", None)
        assert [r["id"] for r in store.reviews()] == [1, 2]
    finally:
        store.close()


def test_an_sqlite_database_made_just_before_migrations_is_adopted(tmp_path):
    path = tmp_path / "livecut.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_BEFORE_BRANDS)
    old.execute("ALTER TABLE rooms ADD COLUMN brand TEXT")
    old.execute(
        "INSERT INTO rooms (id, name, source_type, status, created_at, brand) "
        "VALUES ('b1', 'branded', 'push', 'waiting', 1.0, 'acme')"
    )
    old.commit()
    old.close()
    store = MetadataStore(path)
    try:
        assert "0002_room_brand.sql" not in store.migrations_applied
        assert store.room("b1").brand == "acme"
        recorded = store.db.query("SELECT name FROM schema_migrations ORDER BY version")
        assert [r["name"] for r in recorded] == ALL_MIGRATIONS
    finally:
        store.close()


# leases --------------------------------------------------------------------------------------
def test_only_one_worker_holds_a_room_until_it_expires_or_is_released(store):
    room = store.create_room("pulled", "pull", url="rtmp://example.com/live/x")
    assert store.acquire_room(room.id, "w1", ttl_s=0.5)
    assert not store.acquire_room(room.id, "w2", ttl_s=LEASE_S)
    assert store.acquire_room(room.id, "w1", ttl_s=0.5), "renewing our own lease"
    assert store.room(room.id).lease_owner == "w1"
    assert [r.id for r in store.rooms_to_ingest("w2")] == []
    assert [r.id for r in store.rooms_to_ingest("w1")] == [room.id]
    time.sleep(0.6)
    assert [r.id for r in store.rooms_to_ingest("w2")] == [room.id], "an expired lease is up for grabs"
    assert store.acquire_room(room.id, "w2", ttl_s=LEASE_S)
    assert not store.acquire_room(room.id, "w1", ttl_s=LEASE_S)
    assert not store.release_room(room.id, "w1"), "only the owner releases"
    assert store.release_room(room.id, "w2")
    assert store.room(room.id).lease_owner is None
    assert store.acquire_room(room.id, "w1", ttl_s=LEASE_S)
    assert not store.acquire_room("no-such-room", "w1", ttl_s=LEASE_S)


def test_rooms_to_ingest_lists_active_pull_rooms_without_a_live_lease(store):
    waiting = store.create_room("waiting", "pull", url="rtmp://a/live/1")
    live = store.create_room("live", "pull", url="rtmp://a/live/2")
    store.set_room_status(live.id, "live")
    ended = store.create_room("ended", "pull", url="rtmp://a/live/3")
    store.set_room_status(ended.id, "ended")
    store.create_room("push", "push")
    held = store.create_room("held", "pull", url="rtmp://a/live/4")
    store.acquire_room(held.id, "other", ttl_s=LEASE_S)
    assert [r.id for r in store.rooms_to_ingest("me")] == [waiting.id, live.id]


def test_racing_workers_leave_exactly_one_owner(store, target):
    room = store.create_room("contested", "pull", url="rtmp://example.com/live/x")
    workers = [MetadataStore(target) for _ in range(8)]
    try:
        ids = iter(enumerate(workers))

        def race() -> bool:
            number, worker = next(ids)
            return worker.acquire_room(room.id, f"w{number}", ttl_s=LEASE_S)

        assert sorted(open_in_threads(len(workers), race)) == [False] * 7 + [True]
    finally:
        for worker in workers:
            worker.close()
    assert store.room(room.id).lease_owner.startswith("w")


# opening -------------------------------------------------------------------------------------
def test_build_metadata_store_follows_the_store_section(target, tmp_path):
    user = tmp_path / "config.toml"
    url = "" if target.endswith(".db") else target
    user.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[store]\nurl = "{url}"\n')
    store = build_metadata_store(load_config(user))
    try:
        assert store.dialect == ("sqlite" if not url else "postgresql")
        store.create_room("r", "push")
    finally:
        store.close()
    assert (tmp_path / "data" / "livecut.db").exists() == (not url)


def test_a_store_url_that_is_not_postgresql_is_a_config_error(tmp_path):
    user = tmp_path / "config.toml"
    user.write_text('[store]\nurl = "mysql://db/livecut"\n')
    with pytest.raises(ConfigError, match="store.url"):
        build_metadata_store(load_config(user))


def test_an_unreachable_server_is_a_clear_error_without_the_password(postgres_server):
    with pytest.raises(StoreError) as refused:
        MetadataStore("postgresql://livecut:s3cret-pw@127.0.0.1:1/livecut")
    assert "127.0.0.1:1/livecut" in str(refused.value) and "s3cret-pw" not in str(refused.value)
    wrong = postgres_server.url.replace(postgres_server.password, "not-the-password")
    with pytest.raises(StoreError, match="password authentication failed") as denied:
        MetadataStore(wrong)
    assert f"127.0.0.1:{postgres_server.port}" in str(denied.value) and "not-the-password" not in str(denied.value)


def test_a_dropped_postgresql_connection_is_reopened(postgres_url):
    store = MetadataStore(postgres_url)
    try:
        room = store.create_room("r", "push")
        store.save_clip(ready_clip(room.id, "c1"), 1.0)
        for operation in (lambda: store.room(room.id), lambda: store.review_clip("c1", "approve", "price_promo", None)):
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            assert operation()
        assert len(store.reviews()) == 1
    finally:
        store.close()


# The schema livecut made before migrations and brands (commit 500c82d).
SCHEMA_BEFORE_BRANDS = """
CREATE TABLE rooms (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, source_type TEXT NOT NULL, url TEXT, stream_key TEXT UNIQUE,
    status TEXT NOT NULL, error TEXT, created_at REAL NOT NULL, started_at REAL, ended_at REAL,
    media_end REAL NOT NULL DEFAULT 0, next_seq INTEGER NOT NULL DEFAULT 0,
    publishes INTEGER NOT NULL DEFAULT 0, processed_to REAL NOT NULL DEFAULT 0
);
CREATE TABLE fragments (
    room TEXT NOT NULL, seq INTEGER NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL, uri TEXT NOT NULL,
    discontinuity INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (room, seq)
);
CREATE TABLE utterances (
    room TEXT NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL, text TEXT NOT NULL, lang TEXT, label TEXT,
    sublabel TEXT, confidence REAL, PRIMARY KEY (room, t0)
);
CREATE TABLE clips (
    clip_id TEXT PRIMARY KEY, room TEXT NOT NULL, status TEXT NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL,
    label TEXT NOT NULL, sublabel TEXT, record TEXT NOT NULL, error TEXT, latency_s REAL, created_at REAL NOT NULL
);
CREATE INDEX clips_by_room ON clips (room, created_at);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, clip_id TEXT NOT NULL, room TEXT NOT NULL, action TEXT NOT NULL,
    label TEXT NOT NULL, sublabel TEXT, text TEXT NOT NULL, created_at REAL NOT NULL
);
"""
