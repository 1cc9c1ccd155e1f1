"""The metadata store's tenancy tables: tenants, users, API tokens, sessions, room grants, the audit log.

A mixin of MetadataStore (livecut/store.py). Secrets arrive here already hashed
(livecut/auth.py makes them); nothing in these tables can be used to sign in as it is.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from livecut.store.db import Database, Session

DEFAULT_TENANT = "default"
# The ids of the rooms a tenant sees: its own and those granted to it (two parameters: the tenant, twice).
VISIBLE_ROOMS = "(SELECT id FROM rooms WHERE tenant = ? UNION SELECT room FROM room_grants WHERE tenant = ?)"
USER_COLUMNS = "username, tenant, role, created_at"
TOKEN_COLUMNS = "t.id, t.username, t.name, t.created_at, t.revoked_at, u.tenant"


class GrantError(ValueError):
    """A grant the tenancy model does not allow: only a brand's room, only to an MCN tenant."""


class TenancyStore:
    """Tenants, users, credentials, grants and audit rows; see MetadataStore for the database."""

    db: Database

    # tenants -------------------------------------------------------------------------------
    def ensure_tenant(self, name: str, kind: str) -> dict[str, Any]:
        """The tenant named `name`, made with `kind` if it did not exist (an existing one keeps its kind)."""
        self.db.execute(
            "INSERT INTO tenants (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (name, kind, time.time()),
        )
        tenant = self.tenant(name)
        assert tenant is not None  # inserted just now or already there; tenants are never deleted
        return tenant

    def tenant(self, name: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT name, kind, created_at FROM tenants WHERE name = ?", (name,))
        return rows[0] if rows else None

    def tenants(self) -> list[dict[str, Any]]:
        return self.db.query("SELECT name, kind, created_at FROM tenants ORDER BY name")

    # users ---------------------------------------------------------------------------------
    def create_user(self, username: str, tenant: str, role: str, password_hash: str) -> bool:
        """False when the username is taken (usernames are unique across tenants)."""
        changed = self.db.execute(
            "INSERT INTO users (username, tenant, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (username) DO NOTHING",
            (username, tenant, role, password_hash, time.time()),
        )
        return changed == 1

    def user(self, username: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {USER_COLUMNS} FROM users WHERE username = ?", (username,))
        return rows[0] if rows else None

    def password_hash(self, username: str) -> str | None:
        rows = self.db.query("SELECT password_hash FROM users WHERE username = ?", (username,))
        return rows[0]["password_hash"] if rows else None

    def users(self, tenant: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE tenant = ? ", (tenant,)) if tenant is not None else ("", ())
        return self.db.query(f"SELECT {USER_COLUMNS} FROM users {where}ORDER BY username", params)

    def has_users(self) -> bool:
        return bool(self.db.query("SELECT username FROM users LIMIT 1"))

    def set_password(self, username: str, password_hash: str) -> bool:
        """A new password also ends the user's sessions."""
        return self.db.transaction(lambda session: _set_password(session, username, password_hash))

    def delete_user(self, username: str) -> bool:
        """Remove a user, its sessions and its tokens; false if there was none."""
        return self.db.transaction(lambda session: _delete_user(session, username))

    # API tokens ----------------------------------------------------------------------------
    def create_token(self, username: str, name: str, token_hash: str) -> dict[str, Any]:
        token_id = uuid.uuid4().hex[:12]
        self.db.execute(
            "INSERT INTO api_tokens (id, username, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (token_id, username, name, token_hash, time.time()),
        )
        token = self.token(token_id)
        if token is None:  # token() joins users: the user was deleted meanwhile (or never existed)
            raise LookupError(f"no user {username}: token {token_id} was made for nobody")
        return token

    def token(self, token_id: str) -> dict[str, Any] | None:
        rows = self.db.query(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.username = t.username WHERE t.id = ?",
            (token_id,),
        )
        return rows[0] if rows else None

    def tokens(self, tenant: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE u.tenant = ? ", (tenant,)) if tenant is not None else ("", ())
        return self.db.query(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.username = t.username "
            f"{where}ORDER BY t.created_at",
            params,
        )

    def revoke_token(self, token_id: str) -> bool:
        """False if there is no such token or it was revoked already."""
        changed = self.db.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), token_id)
        )
        return changed == 1

    def user_by_token(self, token_hash: str) -> dict[str, Any] | None:
        """The user a live (unrevoked) token belongs to."""
        rows = self.db.query(
            f"SELECT {', '.join('u.' + c for c in USER_COLUMNS.split(', '))} FROM api_tokens t "
            "JOIN users u ON u.username = t.username WHERE t.token_hash = ? AND t.revoked_at IS NULL",
            (token_hash,),
        )
        return rows[0] if rows else None

    # sessions ------------------------------------------------------------------------------
    def create_session(self, id_hash: str, username: str, ttl_s: float) -> None:
        now = time.time()
        self.db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
        self.db.execute(
            "INSERT INTO sessions (id_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (id_hash, username, now, now + ttl_s),
        )

    def user_by_session(self, id_hash: str) -> dict[str, Any] | None:
        """The user of an unexpired session."""
        rows = self.db.query(
            f"SELECT {', '.join('u.' + c for c in USER_COLUMNS.split(', '))} FROM sessions s "
            "JOIN users u ON u.username = s.username WHERE s.id_hash = ? AND s.expires_at > ?",
            (id_hash, time.time()),
        )
        return rows[0] if rows else None

    def delete_session(self, id_hash: str) -> None:
        self.db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))

    # grants --------------------------------------------------------------------------------
    def grant_room(self, tenant: str, room_id: str) -> bool:
        """Let MCN `tenant` see and work on a brand's room; false if it already could, GrantError if it
        may not. The room's row is touched, so the grantee's event stream announces the room."""
        return self.db.transaction(lambda session: _grant(session, tenant, room_id))

    def revoke_grant(self, tenant: str, room_id: str) -> bool:
        changed = self.db.execute("DELETE FROM room_grants WHERE tenant = ? AND room = ?", (tenant, room_id))
        return changed == 1

    def grants(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """Grants of the rooms `tenant` owns and grants to it; every grant without a tenant."""
        sql = (
            "SELECT g.tenant, g.room, g.created_at, r.tenant AS owner FROM room_grants g JOIN rooms r ON r.id = g.room"
        )
        if tenant is None:
            return self.db.query(f"{sql} ORDER BY g.created_at")
        return self.db.query(f"{sql} WHERE g.tenant = ? OR r.tenant = ? ORDER BY g.created_at", (tenant, tenant))

    def sees_room(self, tenant: str, room_id: str) -> bool:
        rows = self.db.query(
            f"SELECT 1 AS yes FROM rooms WHERE id = ? AND id IN {VISIBLE_ROOMS}", (room_id, tenant, tenant)
        )
        return bool(rows)

    # audit ---------------------------------------------------------------------------------
    def audit(
        self,
        username: str,
        tenant: str,
        action: str,
        target: str,
        detail: dict[str, Any] | None = None,
        room: str | None = None,
    ) -> None:
        """Record a write: `username` of `tenant` did `action` to `target` (in `room`, if any)."""
        detail_json = json.dumps(detail or {}, ensure_ascii=False)
        self.db.execute(
            "INSERT INTO audit (id, at, username, tenant, action, target, room, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, time.time(), username, tenant, action, target, room, detail_json),
        )

    def audit_log(
        self, tenant: str | None = None, since: float | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Audit rows, newest first; with `tenant`, what its users did and what anyone did in its rooms."""
        conditions: list[str] = []
        params: list[str | float] = []
        if tenant is not None:
            conditions.append("(tenant = ? OR room IN (SELECT id FROM rooms WHERE tenant = ?))")
            params += [tenant, tenant]
        if since is not None:
            conditions.append("at > ?")
            params.append(since)
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        rows = self.db.query(
            f"SELECT at, username, tenant, action, target, room, detail FROM audit {where}ORDER BY at DESC, id LIMIT ?",
            (*params, limit),
        )
        return [row | {"detail": json.loads(row["detail"])} for row in rows]


def _set_password(session: Session, username: str, password_hash: str) -> bool:
    if session.execute("UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)) != 1:
        return False
    session.execute("DELETE FROM sessions WHERE username = ?", (username,))
    return True


def _delete_user(session: Session, username: str) -> bool:
    session.execute("DELETE FROM sessions WHERE username = ?", (username,))
    session.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL", (time.time(), username)
    )
    return session.execute("DELETE FROM users WHERE username = ?", (username,)) == 1


def _grant(session: Session, tenant: str, room_id: str) -> bool:
    grantee = session.query("SELECT kind FROM tenants WHERE name = ?", (tenant,))
    if not grantee or grantee[0]["kind"] != "mcn":
        raise GrantError(f"{tenant} is not an MCN tenant: rooms are granted to MCN tenants")
    owner = session.query(
        "SELECT t.name, t.kind FROM rooms r JOIN tenants t ON t.name = r.tenant WHERE r.id = ?", (room_id,)
    )
    if not owner or owner[0]["kind"] != "brand":
        raise GrantError(f"room {room_id} is not a brand tenant's room: only a brand's rooms are granted")
    now = time.time()
    changed = session.execute(
        "INSERT INTO room_grants (tenant, room, created_at) VALUES (?, ?, ?) ON CONFLICT (tenant, room) DO NOTHING",
        (tenant, room_id, now),
    )
    session.execute("UPDATE rooms SET updated_at = ? WHERE id = ?", (now, room_id))
    return changed == 1
