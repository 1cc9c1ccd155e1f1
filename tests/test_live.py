"""Live rooms end to end: `livecut serve` in its own process, real ffmpeg publishers, real models."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import urllib.error
from pathlib import Path

import pytest
from support import (
    LIVECUT,
    TEST_BRAND,
    assert_no_clip_lost_or_duplicated,
    of_source,
    publish,
    settled,
    start_serve,
    twins,
    wait_for,
)

from stream.file_source import probe

DATASET = Path(__file__).resolve().parent.parent / "segmenter" / "data" / "utterances.jsonl"
# The re-cut at 32 s falls in the silence between sentences ending 30.86 s and starting 32.06 s.
RECONNECT_AT_S = 31.5


def assert_same_clips(live: list[dict], batch: list[dict]) -> None:
    """As many clips as the file run, each with its twin there (tests/support.py: the same topic, and
    the same span or, Whisper having heard a sentence a little differently, most of it)."""
    spans = sorted((c["label"], c["sublabel"], c["t0"], c["t1"]) for c in live)
    expected = sorted((c["label"], c["sublabel"], c["t0"], c["t1"]) for c in batch)
    assert len(spans) == len(expected), (spans, expected)
    for clip in batch:
        assert any(twins(c, clip) for c in live), (clip["label"], clip["sublabel"], clip["t0"], spans)


def test_clips_appear_while_the_host_is_still_talking(server, fixtures, clip_run):
    api = server["api"]
    room = api.create_push_room("zh real time")
    assert room["status"] == "waiting" and room["rtmp_url"].endswith("/live/" + room["stream_key"])
    publisher = publish(fixtures / "zh_live.mp4", room["rtmp_url"], realtime=True)
    try:
        first = wait_for(
            lambda: [c for c in api.clips(room["id"]) if c["label"] == "selling_point" and c["status"] == "ready"],
            timeout=120,
            what="the first selling-point clip",
        )
        assert publisher.poll() is None, "the first clip should arrive while the publisher is still live"
        assert api.room(room["id"])["status"] == "live"
    finally:
        publisher.wait(timeout=120)
    wait_for(lambda: settled(api, room["id"]), timeout=180, what="the room to settle")
    clips = api.clips(room["id"])
    assert_same_clips(clips, of_source(clip_run[3], "zh_live.mp4"))
    assert all(c["status"] == "ready" and 0 < c["latency_s"] < 60 for c in clips)
    assert first[0]["latency_s"] < 30
    created = [c["created_at"] for c in clips]
    assert created == sorted(created, reverse=True), "newest first"


@pytest.fixture
def ready_clip(server, fixtures) -> dict:
    """A rendered clip of this server: one made earlier, or one from a short publish now."""
    api = server["api"]
    ready = [c for c in api.get("/api/clips")[1] if c["status"] == "ready"]
    if not ready:
        room = api.create_push_room("one clip")
        assert publish(fixtures / "zh_live.mp4", room["rtmp_url"], extra=("-t", "24")).wait(timeout=60) == 0
        wait_for(lambda: settled(api, room["id"]), timeout=240, what="the room to settle")
        ready = [c for c in api.clips(room["id"]) if c["status"] == "ready"]
    return ready[0]


def test_media_is_served_with_range_requests_and_the_room_has_a_playlist(server, ready_clip):
    api = server["api"]
    clip = ready_clip
    status, body, headers = api.get(clip["video_url"], {"Range": "bytes=0-99"})
    assert status == 206 and len(body) == 100 and headers["content-range"].startswith("bytes 0-99/")
    status, playlist, _ = api.get(f"/media/rooms/{clip['room']}/index.m3u8")
    assert status == 200 and b"#EXTINF" in playlist
    assert api.get(f"/api/clips/{clip['clip_id']}")[1]["clip_id"] == clip["clip_id"]
    with pytest.raises(urllib.error.HTTPError) as missing:
        api.get("/media/../../etc/passwd")
    assert missing.value.code == 404


def test_wrong_key_is_refused_at_connect(server, fixtures):
    api = server["api"]
    room = api.create_push_room("guarded")
    wrong = room["rtmp_url"].replace(room["stream_key"], "not-the-key")
    publisher = publish(fixtures / "no_audio.mp4", wrong)
    assert publisher.wait(timeout=30) != 0
    after = api.room(room["id"])
    assert after["publishes"] == 0 and after["status"] == "waiting" and after["counters"]["fragments"] == 0
    assert "refused publisher" in server["log"].read_text()


def test_publisher_drop_and_reconnect_continues_the_timeline(server, fixtures, clip_run, zh_script):
    api = server["api"]
    room = api.create_push_room("flaky uplink")
    first = publish(fixtures / "zh_live.mp4", room["rtmp_url"], extra=("-t", "32"))
    assert first.wait(timeout=60) == 0
    wait_for(lambda: api.room(room["id"])["status"] == "reconnecting", timeout=60, what="reconnecting")
    half = api.room(room["id"])["duration_s"]
    assert half == pytest.approx(32.0, abs=0.5)
    second = publish(fixtures / "zh_live.mp4", room["rtmp_url"], extra=("-ss", "32"))
    assert second.wait(timeout=60) == 0
    wait_for(lambda: api.room(room["id"])["publishes"] == 2, timeout=30, what="the second publish")
    wait_for(lambda: settled(api, room["id"]), timeout=300, what="the room to settle")
    after = api.room(room["id"])
    # ffmpeg's stream-copy cut at 32 s re-sends a little media; the timeline continues after it, never back.
    shift = after["duration_s"] - probe(fixtures / "zh_live.mp4").duration
    assert 0.0 <= shift < 1.0
    utterances = api.get(f"/api/rooms/{room['id']}/utterances")[1]
    assert max(u["t1"] for u in utterances) > 70
    clips = api.clips(room["id"])

    def moved(t: float) -> float:
        return t + shift if t > RECONNECT_AT_S else t

    assert_no_clip_lost_or_duplicated(clips, of_source(clip_run[3], "zh_live.mp4"), zh_script, moved)
    playlist = api.get(f"/media/rooms/{room['id']}/index.m3u8")[1].decode()
    assert playlist.count("#EXT-X-DISCONTINUITY") == 1


def test_two_rooms_at_once_keep_their_own_speech(server, fixtures):
    api = server["api"]
    zh, en = api.create_push_room("zh"), api.create_push_room("en")
    publishers = [
        publish(fixtures / "zh_live.mp4", zh["rtmp_url"], extra=("-t", "30")),
        publish(fixtures / "en_live.mp4", en["rtmp_url"], extra=("-t", "30")),
    ]
    assert [p.wait(timeout=60) for p in publishers] == [0, 0]
    for room in (zh, en):
        wait_for(lambda room=room: settled(api, room["id"]), timeout=300, what=f"room {room['name']}")
    for room, lang in ((zh, "zh"), (en, "en")):
        utterances = api.get(f"/api/rooms/{room['id']}/utterances")[1]
        assert utterances and all(u["lang"] == lang for u in utterances)
        assert {c["sublabel"] for c in api.clips(room["id"])} >= {"fabric"}


def test_a_stream_without_audio_puts_the_room_in_error(server, fixtures):
    api = server["api"]
    room = api.create_push_room("silent")
    publish(fixtures / "no_audio.mp4", room["rtmp_url"]).wait(timeout=30)
    after = wait_for(lambda: (r := api.room(room["id"]))["status"] == "error" and r, timeout=30, what="the error state")
    assert "no audio" in after["error"]
    assert after["counters"]["fragments"] == 0 and api.clips(room["id"]) == []


def test_bad_requests_get_clear_errors(server):
    api = server["api"]
    status, body = api.post("/api/rooms", {"name": "x", "source": {"type": "pull", "url": "file:///etc/passwd"}})
    assert status == 422 and "url must be" in json.dumps(body)
    status, _ = api.post("/api/rooms", {"name": "", "source": {"type": "push"}})
    assert status == 422
    with pytest.raises(urllib.error.HTTPError) as missing:
        api.get("/api/rooms/nope")
    assert missing.value.code == 404


def test_ctrl_c_finishes_open_clips_and_leaves_nothing_half_written(tmp_path, fixtures):
    running = start_serve(tmp_path)
    api = running["api"]
    room = api.create_push_room("interrupted")
    publisher = publish(fixtures / "zh_live.mp4", room["rtmp_url"], realtime=True, extra=("-t", "40"))
    wait_for(lambda: api.room(room["id"])["duration_s"] > 26, timeout=90, what="26 s of broadcast")
    running["proc"].send_signal(signal.SIGINT)
    assert running["proc"].wait(timeout=180) == 0, running["log"].read_text()[-3000:]
    publisher.wait(timeout=60)
    db = sqlite3.connect(tmp_path / "data" / "livecut.db")
    media = tmp_path / "data" / "media"
    assert db.execute("SELECT status FROM rooms WHERE id = ?", (room["id"],)).fetchone()[0] == "ended"
    statuses = [row[0] for row in db.execute("SELECT status FROM clips")]
    assert statuses and set(statuses) <= {"ready", "failed"}
    assert "ready" in statuses
    for (record,) in db.execute("SELECT record FROM clips WHERE status = 'ready'"):
        assert (media / json.loads(record)["video"]).is_file()
    for (uri,) in db.execute("SELECT uri FROM fragments"):
        assert (media / uri).is_file()
    assert not [p for p in media.rglob("*") if p.name.startswith(".tmp")]
    assert "Traceback" not in running["log"].read_text()


def test_operator_reviews_update_clips_and_become_training_examples(server, ready_clip, tmp_path):
    api, root = server["api"], server["root"]
    clip_id = ready_clip["clip_id"]
    status, reviewed = api.post(f"/api/clips/{clip_id}/review", {"action": "relabel", "label": "price_promo"})
    assert status == 200 and (reviewed["label"], reviewed["sublabel"], reviewed["status"]) == (
        "price_promo",
        None,
        "approved",
    )
    assert api.get(f"/api/clips?label=price_promo&room={ready_clip['room']}")[1][0]["clip_id"] == clip_id
    assert api.post(f"/api/clips/{clip_id}/review", {"action": "relabel", "label": "gossip"})[0] == 422
    assert api.post(f"/api/clips/{clip_id}/review", {"action": "delete"})[0] == 422
    assert api.post("/api/clips/nope/review", {"action": "approve"})[0] == 404
    status, rejected = api.post(f"/api/clips/{clip_id}/review", {"action": "reject"})
    assert status == 200 and rejected["status"] == "rejected"
    exported = [json.loads(line) for line in (root / "reviews.jsonl").read_text().splitlines()]
    assert exported == [
        {"text": ready_clip["text"], "label": "price_promo", "sublabel": None, "clip_id": clip_id, "brand": TEST_BRAND}
    ]
    model = tmp_path / "with-reviews.npz"
    train = subprocess.run(
        [
            *LIVECUT,
            "train-classifier",
            str(DATASET),
            "--from-reviews",
            "--out",
            str(model),
            "--config",
            str(root / "config.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert train.returncode == 0, train.stderr
    assert model.is_file() and model.stat().st_size > 10_000
