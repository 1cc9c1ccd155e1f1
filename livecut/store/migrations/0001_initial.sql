-- The schema as it was before migrations. IF NOT EXISTS: a SQLite database made by livecut
-- before migrations existed already has these tables (perhaps without reviews) and keeps its rows.
-- DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes, too coarse for Unix timestamps;
-- SQLite reads both as REAL.
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source_type TEXT NOT NULL,
    url TEXT,
    stream_key TEXT UNIQUE,
    status TEXT NOT NULL,
    error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    ended_at DOUBLE PRECISION,
    media_end DOUBLE PRECISION NOT NULL DEFAULT 0,
    next_seq INTEGER NOT NULL DEFAULT 0,
    publishes INTEGER NOT NULL DEFAULT 0,
    processed_to DOUBLE PRECISION NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS fragments (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    t0 DOUBLE PRECISION NOT NULL,
    t1 DOUBLE PRECISION NOT NULL,
    uri TEXT NOT NULL,
    discontinuity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, seq)
);

CREATE TABLE IF NOT EXISTS utterances (
    room TEXT NOT NULL,
    t0 DOUBLE PRECISION NOT NULL,
    t1 DOUBLE PRECISION NOT NULL,
    text TEXT NOT NULL,
    lang TEXT,
    label TEXT,
    sublabel TEXT,
    confidence DOUBLE PRECISION,
    PRIMARY KEY (room, t0)
);

CREATE TABLE IF NOT EXISTS clips (
    clip_id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    status TEXT NOT NULL,
    t0 DOUBLE PRECISION NOT NULL,
    t1 DOUBLE PRECISION NOT NULL,
    label TEXT NOT NULL,
    sublabel TEXT,
    record TEXT NOT NULL,
    error TEXT,
    latency_s DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX IF NOT EXISTS clips_by_room ON clips (room, created_at);

-- No AUTOINCREMENT (SQLite only) and no identity column (PostgreSQL only): the store numbers
-- reviews itself (MetadataStore.review_clip).
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    clip_id TEXT NOT NULL,
    room TEXT NOT NULL,
    action TEXT NOT NULL,
    label TEXT NOT NULL,
    sublabel TEXT,
    text TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
