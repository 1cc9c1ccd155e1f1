-- Distribution: the accounts a tenant posts from, the posts planned for its approved clips, each
-- post's journal (the platform session a killed worker resumes), its attempts, the fingerprints
-- the near-duplicate check compares, and the metrics read back from the platforms.

-- `extra` is a JSON object of platform ids (Douyin open_id, a webhook URL), never secrets;
-- `windows` a JSON list of 'HH:MM-HH:MM'. `credentials` is Fernet ciphertext only.
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    platform TEXT NOT NULL,
    display_name TEXT NOT NULL,
    account_group TEXT NOT NULL DEFAULT '',
    windows TEXT NOT NULL,
    timezone TEXT NOT NULL,
    daily_cap INTEGER NOT NULL,
    min_spacing_s INTEGER NOT NULL,
    status TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    credentials BYTEA,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX accounts_by_tenant ON accounts (tenant, account_group);

-- One row per (clip, account): post_id is deterministic (distribution.post_id_for) and is the
-- idempotency key the posters send, so a replayed plan or event never makes a second video.
CREATE TABLE posts (
    post_id TEXT PRIMARY KEY,
    clip_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    retry_at DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    platform_id TEXT,
    url TEXT,
    reason TEXT,
    override_duplicate INTEGER NOT NULL DEFAULT 0,
    -- JSON {title, description, tags, product_url}: what is posted with the clip's video.
    caption TEXT NOT NULL DEFAULT '{}',
    -- A post being posted is held by a worker until then; after it, the scheduler hands it out again
    -- (the journal makes that resume, not repeat).
    lease_until DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    UNIQUE (clip_id, account_id)
);
CREATE INDEX posts_due ON posts (status, at);
CREATE INDEX posts_by_tenant ON posts (tenant, at);

CREATE TABLE post_journal (
    post_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE post_attempts (
    post_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    error_kind TEXT,
    platform_code TEXT,
    reason TEXT,
    PRIMARY KEY (post_id, attempt)
);

-- The PDQ hashes of a post's video (32 bytes a second), kept once it is posted.
CREATE TABLE post_fingerprints (
    post_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    account_id TEXT NOT NULL,
    posted_at DOUBLE PRECISION NOT NULL,
    hashes BYTEA NOT NULL
);
CREATE INDEX post_fingerprints_by_tenant ON post_fingerprints (tenant, posted_at);

CREATE TABLE post_metrics (
    post_id TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    plays INTEGER NOT NULL,
    likes INTEGER NOT NULL,
    comments INTEGER NOT NULL,
    shares INTEGER NOT NULL,
    PRIMARY KEY (post_id, at)
);
