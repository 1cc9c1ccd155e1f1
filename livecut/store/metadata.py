"""Metadata store: rooms, fragments, utterances, clips and reviews, in SQLite or PostgreSQL.

SQLite (a file under paths.data_dir) is the embedded default; PostgreSQL (store.url) lets
several machines share one store. The SQL here is written once for both (livecut/store_db.py
adapts it) and the schema comes from the numbered files in livecut/migrations.

Writes are idempotent where events can be replayed: a clip row is keyed by its
deterministic clip id and a fragment by (room, seq), so a duplicated event updates
the same row instead of adding a second one.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from livecut.config import ConfigError, expand_path
from livecut.contracts import (
    ACTIVE_ROOM_STATUSES,
    DONE_CLIP_STATUSES,
    ClipReady,
    ClipRequest,
    Fragment,
    RoomStatus,
    Utterance,
    Word,
)
from livecut.store.catalog import CatalogStore
from livecut.store.db import POSTGRES_SCHEMES, Session, StoreError, migrate, open_database
from livecut.store.dead_letters import DeadLetterStore
from livecut.store.detail_pages import DetailPageStore
from livecut.store.distribution import DistributionStore
from livecut.store.tenancy import DEFAULT_TENANT, VISIBLE_ROOMS, TenancyStore

__all__ = ["MetadataStore", "Room", "StoreError", "build_metadata_store"]

REVIEW_STATUS = {"approve": "approved", "reject": "rejected", "relabel": "approved"}

ROOM_STATUSES = tuple(RoomStatus)
# Concurrent reviews on PostgreSQL may pick the same next id; the loser takes the one after.
REVIEW_ID_ATTEMPTS = 20


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
    # The ingest worker that holds the room, and until when (Unix time); see acquire_room.
    lease_owner: str | None = None
    lease_until: float | None = None
    # Where a transcribe worker taking the room over starts replaying; see mark_processed.
    resume_from: float | None = None
    # The tenant that owns the room (others see it only through a grant), and the row's last change.
    tenant: str = DEFAULT_TENANT
    updated_at: float = 0.0


ROOM_COLUMNS = ", ".join(f.name for f in fields(Room))
LEASE_IS_OURS_OR_FREE = "(lease_owner IS NULL OR lease_until < ? OR lease_owner = ?)"
FRAGMENT_COLUMNS = "room, seq, t0, t1, uri, keyframe"


def build_metadata_store(config: dict[str, Any]) -> MetadataStore:
    """The store that config's [store] section names: PostgreSQL at store.url, else SQLite in paths.data_dir."""
    url = config["store"]["url"]
    if not url:
        return MetadataStore(expand_path(config["paths"]["data_dir"]) / "livecut.db")
    if not url.startswith(POSTGRES_SCHEMES):
        raise ConfigError('store.url must be "" (SQLite in paths.data_dir) or a postgresql:// URL')
    return MetadataStore(url)


class MetadataStore(TenancyStore, DeadLetterStore, DistributionStore, CatalogStore, DetailPageStore):
    """A thread-safe store; every method is short and transactional.

    `target` is a SQLite file path (or ":memory:") or a postgresql:// URL. Opening applies
    the migrations the database lacks; `migrations_applied` names them.
    """

    def __init__(self, target: Path | str) -> None:
        self.db = open_database(target)
        try:
            self.migrations_applied = migrate(self.db)
        except Exception:
            self.db.close()
            raise

    @property
    def dialect(self) -> str:
        """The database behind the store: sqlite or postgresql."""
        return self.db.dialect

    def close(self) -> None:
        self.db.close()

    def _rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return self.db.query(sql, params)

    def _execute(self, sql: str, params: tuple = ()) -> int:
        return self.db.execute(sql, params)

    # rooms ---------------------------------------------------------------------------------
    def create_room(
        self,
        name: str,
        source_type: str,
        url: str | None = None,
        brand: str | None = None,
        tenant: str = DEFAULT_TENANT,
        room_id: str | None = None,
    ) -> Room:
        room_id = room_id or uuid.uuid4().hex[:12]
        key = secrets.token_urlsafe(18) if source_type == "push" else None
        now = time.time()
        self._execute(
            "INSERT INTO rooms (id, name, source_type, url, stream_key, status, created_at, brand, tenant, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?)",
            (room_id, name, source_type, url, key, now, brand, tenant, now),
        )
        room = self.room(room_id)
        assert room is not None  # inserted just now; rooms are never deleted
        return room

    def room(self, room_id: str) -> Room | None:
        rows = self._rows(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE id = ?", (room_id,))
        return Room(**rows[0]) if rows else None

    def room_by_key(self, stream_key: str) -> Room | None:
        rows = self._rows(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE stream_key = ?", (stream_key,))
        return Room(**rows[0]) if rows else None

    def rooms(self, tenant: str | None = None) -> list[Room]:
        """Every room, newest first; with `tenant`, only the rooms it owns or was granted."""
        where, params = (f"WHERE id IN {VISIBLE_ROOMS} ", (tenant, tenant)) if tenant is not None else ("", ())
        rows = self._rows(f"SELECT {ROOM_COLUMNS} FROM rooms {where}ORDER BY created_at DESC", params)
        return [Room(**r) for r in rows]

    def changed_rooms(self, tenant: str, since: float) -> list[Room]:
        """The rooms `tenant` sees whose row changed after `since` (Unix time), oldest change first."""
        rows = self._rows(
            f"SELECT {ROOM_COLUMNS} FROM rooms WHERE updated_at > ? AND id IN {VISIBLE_ROOMS} ORDER BY updated_at",
            (since, tenant, tenant),
        )
        return [Room(**r) for r in rows]

    def set_room_status(self, room_id: str, status: str, error: str | None = None) -> None:
        if status not in ROOM_STATUSES:
            raise ValueError(f"unknown room status {status!r}")
        now = time.time()
        assignments, params = ["status = ?", "error = ?", "updated_at = ?"], [status, error, now]
        if status == "live":
            assignments.append("started_at = COALESCE(started_at, ?)")
            params.append(now)
        if status in ("ended", "error"):
            assignments.append("ended_at = ?")
            params.append(now)
        self._execute(f"UPDATE rooms SET {', '.join(assignments)} WHERE id = ?", (*params, room_id))

    def note_skipped_packets(self, room_id: str, count: int) -> None:
        """Ingest left `count` more corrupt packets out of the room's recording."""
        self._execute("UPDATE rooms SET skipped_packets = skipped_packets + ? WHERE id = ?", (count, room_id))

    def note_publish(self, room_id: str) -> None:
        self._execute("UPDATE rooms SET publishes = publishes + 1, updated_at = ? WHERE id = ?", (time.time(), room_id))

    def advance_timeline(self, room_id: str, media_end: float, next_seq: int) -> None:
        self._execute(
            f"UPDATE rooms SET media_end = {_at_least('media_end')}, next_seq = {_at_least('next_seq')}, "
            "updated_at = ? WHERE id = ?",
            (media_end, media_end, next_seq, next_seq, time.time(), room_id),
        )

    def mark_processed(self, room_id: str, media_time: float, resume_from: float | None = None) -> None:
        """Everything before `media_time` is transcribed and segmented (its clip requests are queued).

        `resume_from`, when given, is where a transcribe worker taking the room over starts replaying.
        """
        self._execute(
            f"UPDATE rooms SET processed_to = {_at_least('processed_to')}, "
            "resume_from = COALESCE(?, resume_from), updated_at = ? WHERE id = ?",
            (media_time, media_time, resume_from, time.time(), room_id),
        )

    # ingest leases -------------------------------------------------------------------------
    def acquire_room(self, room_id: str, worker_id: str, ttl_s: float) -> bool:
        """Take or renew `worker_id`'s lease on a room for `ttl_s` seconds from now.

        True if the room was free, its lease had expired or was already this worker's; false
        if another worker holds it (or there is no such room). One UPDATE checks and takes the
        lease, so of workers racing for a room exactly one wins. Lease times are the workers'
        clocks: keep machines in NTP sync, far tighter than ttl_s.
        """
        now = time.time()
        changed = self._execute(
            f"UPDATE rooms SET lease_owner = ?, lease_until = ? WHERE id = ? AND {LEASE_IS_OURS_OR_FREE}",
            (worker_id, now + ttl_s, room_id, now, worker_id),
        )
        return changed == 1

    def release_room(self, room_id: str, worker_id: str) -> bool:
        """Give up `worker_id`'s lease so another worker may take the room at once; false if it was not ours."""
        changed = self._execute(
            "UPDATE rooms SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
            (room_id, worker_id),
        )
        return changed == 1

    def rooms_to_ingest(self, worker_id: str) -> list[Room]:
        """Active pull rooms `worker_id` may acquire, oldest first: free, expired, or already its own.

        Its own are listed so that a worker restarted under the same id picks its rooms up again
        at once; a worker skips the rooms it is already running.
        """
        placeholders = ", ".join("?" * len(ACTIVE_ROOM_STATUSES))
        rows = self._rows(
            f"SELECT {ROOM_COLUMNS} FROM rooms WHERE source_type = 'pull' AND status IN ({placeholders}) "
            f"AND {LEASE_IS_OURS_OR_FREE} ORDER BY created_at",
            (*ACTIVE_ROOM_STATUSES, time.time(), worker_id),
        )
        return [Room(**r) for r in rows]

    # fragments -----------------------------------------------------------------------------
    def add_fragment(self, fragment: Fragment, discontinuity: bool = False) -> None:
        self._execute(
            "INSERT INTO fragments (room, seq, t0, t1, uri, discontinuity, keyframe) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (room, seq) DO UPDATE SET t0 = excluded.t0, t1 = excluded.t1, uri = excluded.uri, "
            "discontinuity = excluded.discontinuity, keyframe = excluded.keyframe",
            (
                fragment.room,
                fragment.seq,
                fragment.t0,
                fragment.t1,
                fragment.uri,
                int(discontinuity),
                int(fragment.keyframe),
            ),
        )

    def fragments(self, room_id: str, t0: float | None = None, t1: float | None = None) -> list[Fragment]:
        """The room's fragments overlapping [t0, t1] (all of them without bounds), in seq order."""
        rows = self._rows(
            f"SELECT {FRAGMENT_COLUMNS} FROM fragments WHERE room = ? AND t1 > ? AND t0 < ? ORDER BY seq",
            (room_id, -1e18 if t0 is None else t0, 1e18 if t1 is None else t1),
        )
        return [_fragment(r) for r in rows]

    def span_fragments(self, room_id: str, t0: float, t1: float) -> list[Fragment]:
        """The fragments to decode [t0, t1] of the room's video from: those overlapping it, and before
        them those back to the last fragment that starts at a keyframe at or before t0."""
        rows = self._rows(
            f"SELECT {FRAGMENT_COLUMNS} FROM fragments WHERE room = ? AND t0 < ? AND (t1 > ? OR seq >= "
            "(SELECT MAX(seq) FROM fragments WHERE room = ? AND keyframe = 1 AND t0 <= ?)) ORDER BY seq",
            (room_id, t1, t0, room_id, t0),
        )
        return [_fragment(r) for r in rows]

    def discontinuities(self, room_id: str) -> set[int]:
        rows = self._rows("SELECT seq FROM fragments WHERE room = ? AND discontinuity = 1", (room_id,))
        return {r["seq"] for r in rows}

    def recorded_span(self, room_id: str) -> tuple[float, float] | None:
        """The media time from the room's first stored fragment to the end of its last; None before any."""
        rows = self._rows("SELECT MIN(t0) AS t0, MAX(t1) AS t1 FROM fragments WHERE room = ?", (room_id,))
        return None if rows[0]["t0"] is None else (rows[0]["t0"], rows[0]["t1"])

    # utterances ----------------------------------------------------------------------------
    def add_utterance(self, utterance: Utterance) -> None:
        """Insert an utterance, replacing any of the room's that it mostly overlaps.

        A transcribe worker that takes a room over replays the audio its predecessor had
        not finished; the replay may time the same sentence a few milliseconds apart.
        """
        self.db.transaction(lambda session: _replace_utterance(session, utterance))

    def utterances(self, room_id: str) -> list[dict[str, Any]]:
        return self._rows(f"SELECT {UTTERANCE_COLUMNS} FROM utterances WHERE room = ? ORDER BY t0", (room_id,))

    def words(self, room_id: str, t0: float, t1: float) -> list[Word]:
        """The room's words overlapping [t0, t1], in order. An utterance stored without word timings
        (before they were kept) counts as one word spanning it."""
        rows = self._rows(
            "SELECT t0, t1, text, words FROM utterances WHERE room = ? AND t1 > ? AND t0 < ? ORDER BY t0",
            (room_id, t0, t1),
        )
        words = []
        for row in rows:
            timed = [Word(*w) for w in json.loads(row["words"])] if row["words"] else []
            words += timed or [Word(row["t0"], row["t1"], row["text"])]
        return [w for w in words if w.t1 > t0 and w.t0 < t1]

    # clips ---------------------------------------------------------------------------------
    def save_clip(self, clip: ClipReady, latency_s: float | None) -> None:
        """Record a rendered clip as `ready`, with its bounds (a trim re-renders a clip under its id).

        A re-render without a latency (a trim) keeps the latency the live pipeline measured.
        """
        record = clip.to_record()
        now = time.time()
        self._execute(
            "INSERT INTO clips (clip_id, room, status, t0, t1, label, sublabel, record, latency_s, created_at, "
            "updated_at, confidence, product) VALUES (?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (clip_id) DO UPDATE SET status = 'ready', record = excluded.record, error = NULL, "
            "t0 = excluded.t0, t1 = excluded.t1, latency_s = COALESCE(excluded.latency_s, clips.latency_s), "
            "updated_at = excluded.updated_at, confidence = excluded.confidence, product = excluded.product",
            (
                clip.clip_id,
                clip.room,
                clip.t0,
                clip.t1,
                clip.label,
                clip.sublabel,
                json.dumps(record, ensure_ascii=False),
                latency_s,
                now,
                now,
                clip.confidence,
                clip.product,
            ),
        )

    def queue_clip(self, request: ClipRequest) -> bool:
        """Record a requested clip as `rendering`; False when it needs no rendering.

        A request seen before (same id, or the same label over mostly the same span, as a
        replay after a worker died makes) is not queued twice: once that clip is rendered
        the request is dropped; while it is still pending the newer request replaces it.
        """
        return self.db.transaction(lambda session: _queue_clip(session, request))

    def requeue_clip(self, clip_id: str, t0: float, t1: float, text: str) -> bool:
        """Ask for a done clip again over new bounds (a trim): `rendering`, same id, same label.

        False when there is no such clip or it is still rendering (a second request for it
        could be overtaken by the first one's result).
        """
        return self.db.transaction(lambda session: _requeue_clip(session, clip_id, t0, t1, text))

    def request_clip(self, request: ClipRequest) -> bool:
        """Queue a clip an operator asked for over any range; False if that clip exists and is not failed.

        Unlike queue_clip, a clip overlapping others of the same label is made all the same.
        """
        record = json.dumps({"text": request.text, "source": request.source}, ensure_ascii=False)
        now = time.time()
        changed = self._execute(
            "INSERT INTO clips (clip_id, room, status, t0, t1, label, sublabel, record, created_at, updated_at, "
            "confidence, product) VALUES (?, ?, 'rendering', ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (clip_id) DO UPDATE SET status = 'rendering', error = NULL, updated_at = excluded.updated_at "
            "WHERE clips.status = 'failed'",
            (
                request.clip_id,
                request.room,
                request.t0,
                request.t1,
                request.label,
                request.sublabel,
                record,
                now,
                now,
                request.confidence,
                request.product,
            ),
        )
        return changed == 1

    def needs_render(self, clip_id: str) -> bool:
        """Whether a clip request is still wanted: queued, or failed and asked for again."""
        rows = self._rows("SELECT status FROM clips WHERE clip_id = ?", (clip_id,))
        return bool(rows) and rows[0]["status"] in ("rendering", "failed")

    def fail_clip(self, clip_id: str, room: str, t0: float, t1: float, label: str, error: str) -> None:
        now = time.time()
        self._execute(
            "INSERT INTO clips (clip_id, room, status, t0, t1, label, record, error, created_at, updated_at) "
            "VALUES (?, ?, 'failed', ?, ?, ?, '{}', ?, ?, ?) "
            "ON CONFLICT (clip_id) DO UPDATE SET status = 'failed', error = excluded.error, "
            "updated_at = excluded.updated_at",
            (clip_id, room, t0, t1, label, error, now, now),
        )

    def clip(self, clip_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM clips WHERE clip_id = ?", (clip_id,))
        return _clip_row(rows[0]) if rows else None

    def clips(
        self,
        room: str | None = None,
        label: str | None = None,
        since: float | None = None,
        limit: int = 500,
        *,
        tenant: str | None = None,
        sublabel: str | None = None,
        status: str | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        product: str | None = None,
    ) -> list[dict[str, Any]]:
        """Clips, newest first, filtered by what is given; with `tenant`, only those of rooms it sees."""
        # Only the filters given: PostgreSQL cannot type a parameter that is only tested for NULL.
        filters = [
            ("room = ?", room),
            ("label = ?", label),
            ("sublabel = ?", sublabel),
            ("status = ?", status),
            ("created_at > ?", since),
            ("confidence >= ?", min_confidence),
            ("confidence <= ?", max_confidence),
            ("product = ?", product),
        ]
        conditions = [condition for condition, value in filters if value is not None]
        params = [value for _, value in filters if value is not None]
        if tenant is not None:
            conditions.append(f"room IN {VISIBLE_ROOMS}")
            params += [tenant, tenant]
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        rows = self._rows(f"SELECT * FROM clips {where}ORDER BY created_at DESC, t0 DESC LIMIT ?", (*params, limit))
        return [_clip_row(r) for r in rows]

    def changed_clips(self, tenant: str, since: float) -> list[dict[str, Any]]:
        """The clips of rooms `tenant` sees whose row changed after `since` (Unix time), oldest change first."""
        rows = self._rows(
            f"SELECT * FROM clips WHERE updated_at > ? AND room IN {VISIBLE_ROOMS} ORDER BY updated_at",
            (since, tenant, tenant),
        )
        return [_clip_row(r) for r in rows]

    def latencies(self, room_id: str) -> list[float]:
        """latency_s of the room's rendered clips (reviewed ones included), in no order."""
        placeholders = ", ".join("?" * len(DONE_CLIP_STATUSES))
        rows = self._rows(
            f"SELECT latency_s FROM clips WHERE room = ? AND status IN ({placeholders}) AND latency_s IS NOT NULL",
            (room_id, *DONE_CLIP_STATUSES),
        )
        return [r["latency_s"] for r in rows]

    def review_clip(self, clip_id: str, action: str, label: str, sublabel: str | None) -> dict[str, Any]:
        """Apply an operator's review to a clip and keep it as a labeled example; returns the example."""
        clip = self.clip(clip_id)
        if clip is None:
            raise KeyError(clip_id)
        example = {"clip_id": clip_id, "room": clip["room"], "action": action, "label": label}
        example |= {"sublabel": sublabel, "text": clip.get("text", ""), "created_at": time.time()}
        self.db.transaction(lambda session: _write_review(session, example, REVIEW_STATUS[action]))
        return example

    def reviews(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM reviews ORDER BY id")

    def room_counters(self, room_id: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT COUNT(*) AS clips, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, "
            "SUM(CASE WHEN status = 'rendering' THEN 1 ELSE 0 END) AS rendering, AVG(latency_s) AS mean_latency_s "
            "FROM clips WHERE room = ?",
            (room_id,),
        )
        counts = rows[0]
        counts["fragments"] = self._rows("SELECT COUNT(*) AS n FROM fragments WHERE room = ?", (room_id,))[0]["n"]
        skipped = self._rows("SELECT skipped_packets FROM rooms WHERE id = ?", (room_id,))
        counts["skipped_packets"] = skipped[0]["skipped_packets"] if skipped else 0
        counts["failed"] = counts["failed"] or 0
        counts["rendering"] = counts["rendering"] or 0
        return counts


def _fragment(row: dict[str, Any]) -> Fragment:
    return Fragment(**{**row, "keyframe": bool(row["keyframe"])})


def _at_least(column: str) -> str:
    """`column` raised to a parameter, never lowered (SQLite's MAX(a, b) is PostgreSQL's GREATEST)."""
    return f"CASE WHEN {column} > ? THEN {column} ELSE ? END"


def _write_review(session: Session, example: dict[str, Any], status: str) -> None:
    session.execute(
        "UPDATE clips SET status = ?, label = ?, sublabel = ?, updated_at = ? WHERE clip_id = ?",
        (status, example["label"], example["sublabel"], time.time(), example["clip_id"]),
    )
    columns = ("clip_id", "room", "action", "label", "sublabel", "text", "created_at")
    values = tuple(example[c] for c in columns)
    # Numbered here, the same way on both databases (the migrations say why); WHERE true lets
    # SQLite parse ON CONFLICT after a SELECT.
    insert = (
        f"INSERT INTO reviews (id, {', '.join(columns)}) "
        f"SELECT COALESCE(MAX(id), 0) + 1, {', '.join('?' * len(columns))} FROM reviews WHERE true "
        "ON CONFLICT (id) DO NOTHING"
    )
    for _ in range(REVIEW_ID_ATTEMPTS):
        if session.execute(insert, values) == 1:
            return
    raise StoreError(f"could not number a review of clip {example['clip_id']}: too many concurrent reviews")


def _replace_utterance(session: Session, utterance: Utterance) -> None:
    u = utterance
    session.execute(
        f"DELETE FROM utterances WHERE room = ? AND {_OVERLAP} > 0.5 * (? - ?)",
        (u.room, u.t1, u.t1, u.t0, u.t0, u.t1, u.t0),
    )
    words = json.dumps([[round(w.t0, 3), round(w.t1, 3), w.text] for w in u.words], ensure_ascii=False)
    session.execute(
        "INSERT INTO utterances (room, t0, t1, text, lang, label, sublabel, confidence, words, product) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (room, t0) DO UPDATE SET t1 = excluded.t1, text = excluded.text, lang = excluded.lang, "
        "label = excluded.label, sublabel = excluded.sublabel, confidence = excluded.confidence, "
        "words = excluded.words, product = excluded.product",
        (u.room, u.t0, u.t1, u.text, u.lang, u.label, u.sublabel, u.confidence, words if u.words else None, u.product),
    )


UTTERANCE_COLUMNS = "room, t0, t1, text, lang, label, sublabel, confidence, product"
# Seconds by which a row's [t0, t1] overlaps a given (t1, t1, t0, t0) span, in SQL both databases run.
_OVERLAP = "(CASE WHEN t1 < ? THEN t1 ELSE ? END) - (CASE WHEN t0 > ? THEN t0 ELSE ? END)"


def _queue_clip(session: Session, request: ClipRequest) -> bool:
    r = request
    same = session.query(
        "SELECT clip_id, status FROM clips WHERE room = ? AND label = ? AND "
        f"(clip_id = ? OR {_OVERLAP} > 0.5 * (? - ?))",
        (r.room, r.label, r.clip_id, r.t1, r.t1, r.t0, r.t0, r.t1, r.t0),
    )
    if any(row["status"] in DONE_CLIP_STATUSES for row in same):
        return False
    for row in same:
        if row["clip_id"] != r.clip_id:
            session.execute("DELETE FROM clips WHERE clip_id = ?", (row["clip_id"],))
    now = time.time()
    session.execute(
        "INSERT INTO clips (clip_id, room, status, t0, t1, label, sublabel, record, created_at, updated_at, "
        "confidence, product) VALUES (?, ?, 'rendering', ?, ?, ?, ?, '{}', ?, ?, ?, ?) "
        "ON CONFLICT (clip_id) DO NOTHING",
        (r.clip_id, r.room, r.t0, r.t1, r.label, r.sublabel, now, now, r.confidence, r.product),
    )
    return True


def _requeue_clip(session: Session, clip_id: str, t0: float, t1: float, text: str) -> bool:
    rows = session.query("SELECT record FROM clips WHERE clip_id = ? AND status <> 'rendering'", (clip_id,))
    if not rows:
        return False
    record = json.loads(rows[0]["record"]) | {"text": text}
    session.execute(
        "UPDATE clips SET status = 'rendering', t0 = ?, t1 = ?, record = ?, error = NULL, updated_at = ? "
        "WHERE clip_id = ?",
        (t0, t1, json.dumps(record, ensure_ascii=False), time.time(), clip_id),
    )
    return True


def _clip_row(row: dict[str, Any]) -> dict[str, Any]:
    record = json.loads(row["record"])
    # The record's bounds are those of the rendered files; the row's change first when a trim re-renders.
    rendered = [record["t0"], record["t1"]] if "t0" in record and "video" in record else None
    record.update(
        rendered_span=rendered,
        clip_id=row["clip_id"],
        room=row["room"],
        status=row["status"],
        t0=row["t0"],
        t1=row["t1"],
        label=row["label"],
        sublabel=row["sublabel"],
        latency_s=row["latency_s"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        error=row["error"],
        product=row["product"],
    )
    return record
