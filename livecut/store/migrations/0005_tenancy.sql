-- Tenancy and auth: tenants (a brand or an MCN) own rooms; users sign in with a password
-- (scrypt, salted) or an API token; only hashes of passwords, tokens and session ids are kept.
CREATE TABLE tenants (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE users (
    username TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);

-- An MCN tenant sees and works on a brand's room it was granted.
CREATE TABLE room_grants (
    tenant TEXT NOT NULL,
    room TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tenant, room)
);

-- Every write through the API or the CLI: who (and of which tenant), what, when. `room` names
-- the room written to, so its owner sees what a granted MCN did there. `detail` is a JSON object.
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    username TEXT NOT NULL,
    tenant TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    room TEXT,
    detail TEXT NOT NULL
);

CREATE INDEX audit_by_tenant ON audit (tenant, at);
CREATE INDEX audit_by_room ON audit (room, at);

-- Rooms made before tenancy belong to the tenant the first start creates.
ALTER TABLE rooms ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX rooms_by_tenant ON rooms (tenant);
