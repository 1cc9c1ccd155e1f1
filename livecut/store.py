"""Metadata store: rooms, fragments, utterances and clips in SQLite (the embedded default).

Writes are idempotent where events can be replayed: a clip row is keyed by its
deterministic clip id and a fragment by (room, seq), so a duplicated event updates
the same row instead of adding a second one.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livecut.events import ClipReady, ClipRequest, Fragment, Utterance

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source_type TEXT NOT NULL,
    url TEXT,
    stream_key TEXT UNIQUE,
    status TEXT NOT NULL,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    media_end REAL NOT NULL DEFAULT 0,
    next_seq INTEGER NOT NULL DEFAULT 0,
    publishes INTEGER NOT NULL DEFAULT 0,
    processed_to REAL NOT NULL DEFAULT 0,
    brand TEXT
);
CREATE TABLE IF NOT EXISTS fragments (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    t0 REAL NOT NULL,
    t1 REAL NOT NULL,
    uri TEXT NOT NULL,
    discontinuity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, seq)
);
CREATE TABLE IF NOT EXISTS utterances (
    room TEXT NOT NULL,
    t0 REAL NOT NULL,
    t1 REAL NOT NULL,
    text TEXT NOT NULL,
    lang TEXT,
    label TEXT,
    sublabel TEXT,
    confidence REAL,
    PRIMARY KEY (room, t0)
);
CREATE TABLE IF NOT EXISTS clips (
    clip_id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    status TEXT NOT NULL,
    t0 REAL NOT NULL,
    t1 REAL NOT NULL,
    label TEXT NOT NULL,
    sublabel TEXT,
    record TEXT NOT NULL,
    error TEXT,
    latency_s REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS clips_by_room ON clips (room, created_at);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    clip_id TEXT NOT NULL,
    room TEXT NOT NULL,
    action TEXT NOT NULL,
    label TEXT NOT NULL,
    sublabel TEXT,
    text TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

REVIEW_STATUS = {"approve": "approved", "reject": "rejected", "relabel": "approved"}

ROOM_STATUSES = ("waiting", "live", "reconnecting", "ended", "error")


@dataclass
class Room:
    id: str
    name: str
    source_type: str
    url: str | None
    stream_key: str | None
    status: str
    error: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    media_end: float
    next_seq: int
    publishes: int
    processed_to: float
    brand: str | None = None


class MetadataStore:
    """A thread-safe SQLite store; every method is short and transactional."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.Lock()
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(SCHEMA)
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        # A database made before rooms had a brand keeps its rows; the column is added empty.
        columns = {row["name"] for row in self.db.execute("PRAGMA table_info(rooms)")}
        if "brand" not in columns:
            self.db.execute("ALTER TABLE rooms ADD COLUMN brand TEXT")

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def _execute(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    # rooms ---------------------------------------------------------------------------------
    def create_room(self, name: str, source_type: str, url: str | None = None, brand: str | None = None) -> Room:
        room_id = uuid.uuid4().hex[:12]
        key = secrets.token_urlsafe(18) if source_type == "push" else None
        self._execute(
            "INSERT INTO rooms (id, name, source_type, url, stream_key, status, created_at, brand) "
            "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?)",
            (room_id, name, source_type, url, key, time.time(), brand),
        )
        return self.room(room_id)

    def room(self, room_id: str) -> Room | None:
        rows = self._execute("SELECT * FROM rooms WHERE id = ?", (room_id,))
        return Room(**dict(rows[0])) if rows else None

    def room_by_key(self, stream_key: str) -> Room | None:
        rows = self._execute("SELECT * FROM rooms WHERE stream_key = ?", (stream_key,))
        return Room(**dict(rows[0])) if rows else None

    def rooms(self) -> list[Room]:
        return [Room(**dict(r)) for r in self._execute("SELECT * FROM rooms ORDER BY created_at DESC")]

    def set_room_status(self, room_id: str, status: str, error: str | None = None) -> None:
        if status not in ROOM_STATUSES:
            raise ValueError(f"unknown room status {status!r}")
        now = time.time()
        self._execute(
            "UPDATE rooms SET status = ?, error = ?, "
            "started_at = CASE WHEN ? = 'live' AND started_at IS NULL THEN ? ELSE started_at END, "
            "ended_at = CASE WHEN ? IN ('ended', 'error') THEN ? ELSE ended_at END WHERE id = ?",
            (status, error, status, now, status, now, room_id),
        )

    def note_publish(self, room_id: str) -> None:
        self._execute("UPDATE rooms SET publishes = publishes + 1 WHERE id = ?", (room_id,))

    def advance_timeline(self, room_id: str, media_end: float, next_seq: int) -> None:
        self._execute(
            "UPDATE rooms SET media_end = MAX(media_end, ?), next_seq = MAX(next_seq, ?) WHERE id = ?",
            (media_end, next_seq, room_id),
        )

    def mark_processed(self, room_id: str, media_time: float) -> None:
        """Everything before `media_time` is transcribed and segmented (its clip requests are queued)."""
        self._execute("UPDATE rooms SET processed_to = MAX(processed_to, ?) WHERE id = ?", (media_time, room_id))

    # fragments -----------------------------------------------------------------------------
    def add_fragment(self, fragment: Fragment, discontinuity: bool = False) -> None:
        self._execute(
            "INSERT OR REPLACE INTO fragments (room, seq, t0, t1, uri, discontinuity) VALUES (?, ?, ?, ?, ?, ?)",
            (fragment.room, fragment.seq, fragment.t0, fragment.t1, fragment.uri, int(discontinuity)),
        )

    def fragments(self, room_id: str, t0: float | None = None, t1: float | None = None) -> list[Fragment]:
        rows = self._execute(
            "SELECT room, seq, t0, t1, uri FROM fragments WHERE room = ? AND t1 > ? AND t0 < ? ORDER BY seq",
            (room_id, -1e18 if t0 is None else t0, 1e18 if t1 is None else t1),
        )
        return [Fragment(**dict(r)) for r in rows]

    def discontinuities(self, room_id: str) -> set[int]:
        rows = self._execute("SELECT seq FROM fragments WHERE room = ? AND discontinuity = 1", (room_id,))
        return {r["seq"] for r in rows}

    # utterances ----------------------------------------------------------------------------
    def add_utterance(self, utterance: Utterance) -> None:
        self._execute(
            "INSERT OR REPLACE INTO utterances (room, t0, t1, text, lang, label, sublabel, confidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                utterance.room,
                utterance.t0,
                utterance.t1,
                utterance.text,
                utterance.lang,
                utterance.label,
                utterance.sublabel,
                utterance.confidence,
            ),
        )

    def utterances(self, room_id: str) -> list[dict[str, Any]]:
        rows = self._execute("SELECT * FROM utterances WHERE room = ? ORDER BY t0", (room_id,))
        return [dict(r) for r in rows]

    # clips ---------------------------------------------------------------------------------
    def save_clip(self, clip: ClipReady, latency_s: float | None) -> None:
        record = clip.to_record()
        self._execute(
            "INSERT INTO clips (clip_id, room, status, t0, t1, label, sublabel, record, latency_s, created_at) "
            "VALUES (?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(clip_id) DO UPDATE SET status = 'ready', record = excluded.record, error = NULL, "
            "latency_s = excluded.latency_s",
            (
                clip.clip_id,
                clip.room,
                clip.t0,
                clip.t1,
                clip.label,
                clip.sublabel,
                json.dumps(record, ensure_ascii=False),
                latency_s,
                time.time(),
            ),
        )

    def queue_clip(self, request: ClipRequest) -> None:
        """A clip is requested: it shows as `rendering` until the renderer finishes or fails it."""
        self._execute(
            "INSERT INTO clips (clip_id, room, status, t0, t1, label, sublabel, record, created_at) "
            "VALUES (?, ?, 'rendering', ?, ?, ?, ?, '{}', ?) ON CONFLICT(clip_id) DO NOTHING",
            (request.clip_id, request.room, request.t0, request.t1, request.label, request.sublabel, time.time()),
        )

    def fail_clip(self, clip_id: str, room: str, t0: float, t1: float, label: str, error: str) -> None:
        self._execute(
            "INSERT INTO clips (clip_id, room, status, t0, t1, label, record, error, created_at) "
            "VALUES (?, ?, 'failed', ?, ?, ?, '{}', ?, ?) "
            "ON CONFLICT(clip_id) DO UPDATE SET status = 'failed', error = excluded.error",
            (clip_id, room, t0, t1, label, error, time.time()),
        )

    def clip(self, clip_id: str) -> dict[str, Any] | None:
        rows = self._execute("SELECT * FROM clips WHERE clip_id = ?", (clip_id,))
        return _clip_row(rows[0]) if rows else None

    def clips(
        self, room: str | None = None, label: str | None = None, since: float | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        rows = self._execute(
            "SELECT * FROM clips WHERE (:room IS NULL OR room = :room) AND (:label IS NULL OR label = :label) "
            "AND (:since IS NULL OR created_at > :since) ORDER BY created_at DESC, t0 DESC LIMIT :limit",
            {"room": room, "label": label, "since": since, "limit": limit},
        )
        return [_clip_row(r) for r in rows]

    def review_clip(self, clip_id: str, action: str, label: str, sublabel: str | None) -> dict[str, Any]:
        """Apply an operator's review to a clip and keep it as a labeled example; returns the example."""
        clip = self.clip(clip_id)
        if clip is None:
            raise KeyError(clip_id)
        example = {"clip_id": clip_id, "room": clip["room"], "action": action, "label": label}
        example |= {"sublabel": sublabel, "text": clip.get("text", ""), "created_at": time.time()}
        with self.lock:
            self.db.execute("BEGIN")
            self.db.execute(
                "UPDATE clips SET status = ?, label = ?, sublabel = ? WHERE clip_id = ?",
                (REVIEW_STATUS[action], label, sublabel, clip_id),
            )
            self.db.execute(
                "INSERT INTO reviews (clip_id, room, action, label, sublabel, text, created_at) "
                "VALUES (:clip_id, :room, :action, :label, :sublabel, :text, :created_at)",
                example,
            )
            self.db.execute("COMMIT")
        return example

    def reviews(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._execute("SELECT * FROM reviews ORDER BY id")]

    def room_counters(self, room_id: str) -> dict[str, Any]:
        rows = self._execute(
            "SELECT COUNT(*) AS clips, SUM(status = 'failed') AS failed, SUM(status = 'rendering') AS rendering, "
            "AVG(latency_s) AS mean_latency_s "
            "FROM clips WHERE room = ?",
            (room_id,),
        )
        counts = dict(rows[0])
        counts["fragments"] = self._execute("SELECT COUNT(*) AS n FROM fragments WHERE room = ?", (room_id,))[0]["n"]
        counts["failed"] = counts["failed"] or 0
        counts["rendering"] = counts["rendering"] or 0
        return counts


def _clip_row(row: sqlite3.Row) -> dict[str, Any]:
    record = json.loads(row["record"])
    record.update(
        clip_id=row["clip_id"],
        room=row["room"],
        status=row["status"],
        t0=row["t0"],
        t1=row["t1"],
        label=row["label"],
        sublabel=row["sublabel"],
        latency_s=row["latency_s"],
        created_at=row["created_at"],
        error=row["error"],
    )
    return record
