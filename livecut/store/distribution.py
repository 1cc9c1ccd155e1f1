"""Distribution's rows: accounts, posts, each post's journal, attempts, fingerprints and metrics. A mixin of
MetadataStore.

Plain dicts in and out: the store does not import the distribution package (the post stage and the
API turn rows into its types). Credentials are kept as ciphertext only and never returned with an
account; `account_credentials` is the one way to read them, for the post stage.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

from livecut.store.db import Database, Session

# Columns of an account as the API shows it (`group` is a reserved word in SQL: account_group).
ACCOUNT_COLUMNS = (
    "account_id, tenant, platform, display_name, account_group, windows, timezone, daily_cap, min_spacing_s, "
    "status, extra, created_at, updated_at, credentials IS NOT NULL AS has_credentials"
)
POST_COLUMNS = (
    "post_id, clip_id, account_id, tenant, at, priority, status, retry_at, attempts, platform_id, url, reason, "
    "override_duplicate, caption, lease_until, created_at, updated_at"
)
# Posts a worker may take: planned ones whose time came, failed attempts whose retry time came, and
# posts whose worker's lease ran out (it died; the journal lets the next one resume).
DUE = (
    "((p.status = 'planned' AND p.at <= ?) OR (p.status = 'retry_wait' AND p.retry_at <= ?) "
    "OR (p.status = 'posting' AND p.lease_until < ?))"
)


class DistributionStore:
    db: Database

    # accounts ------------------------------------------------------------------------------
    def create_account(self, record: dict[str, Any]) -> bool:
        """Add an account (fields as distribution.Account); False when its id is taken."""
        now = time.time()
        changed = self.db.execute(
            "INSERT INTO accounts (account_id, tenant, platform, display_name, account_group, windows, timezone, "
            "daily_cap, min_spacing_s, status, extra, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING",
            (*_account_values(record), now, now),
        )
        return changed == 1

    def update_account(self, record: dict[str, Any]) -> None:
        """Replace an account's fields (not its tenant, platform or credentials)."""
        values = _account_values(record)
        self.db.execute(
            "UPDATE accounts SET display_name = ?, account_group = ?, windows = ?, timezone = ?, daily_cap = ?, "
            "min_spacing_s = ?, status = ?, extra = ?, updated_at = ? WHERE account_id = ?",
            (*values[3:], time.time(), record["account_id"]),
        )

    def account(self, account_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?", (account_id,))
        return _account_row(rows[0]) if rows else None

    def accounts(self, tenant: str, group: str | None = None) -> list[dict[str, Any]]:
        where, params = ("AND account_group = ? ", (tenant, group)) if group is not None else ("", (tenant,))
        rows = self.db.query(
            f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE tenant = ? {where}ORDER BY account_id", params
        )
        return [_account_row(r) for r in rows]

    def delete_account(self, account_id: str) -> None:
        """Remove an account; its posts not yet sent are cancelled."""

        def body(session: Session) -> None:
            session.execute(
                "UPDATE posts SET status = 'cancelled', reason = 'account removed', updated_at = ? "
                "WHERE account_id = ? AND status IN ('planned', 'retry_wait', 'waiting_reauth', 'paused')",
                (time.time(), account_id),
            )
            session.execute("DELETE FROM accounts WHERE account_id = ?", (account_id,))

        self.db.transaction(body)

    def set_account_status(self, account_id: str, status: str) -> None:
        self.db.execute(
            "UPDATE accounts SET status = ?, updated_at = ? WHERE account_id = ?", (status, time.time(), account_id)
        )

    def set_account_credentials(self, account_id: str, ciphertext: bytes) -> None:
        """Store encrypted credentials (Fernet ciphertext; the store never sees them in the clear)."""
        if not isinstance(ciphertext, bytes):
            raise TypeError("credentials: ciphertext bytes only")
        self.db.execute(
            "UPDATE accounts SET credentials = ?, updated_at = ? WHERE account_id = ?",
            (ciphertext, time.time(), account_id),
        )

    def account_credentials(self, account_id: str) -> bytes | None:
        rows = self.db.query("SELECT credentials FROM accounts WHERE account_id = ?", (account_id,))
        value = rows[0]["credentials"] if rows else None
        return bytes(value) if value is not None else None

    # posts ---------------------------------------------------------------------------------
    def add_posts(self, tenant: str, posts: list[dict[str, Any]]) -> list[str]:
        """Store planned posts (post_id, clip_id, account_id, at, priority, caption); the ids added.

        A post id names one (clip, account): one already stored is left alone unless it was
        cancelled, when it is planned again.
        """

        def body(session: Session) -> list[str]:
            added, now = [], time.time()
            for post in posts:
                caption = json.dumps(post.get("caption", {}), ensure_ascii=False)
                changed = session.execute(
                    f"INSERT INTO posts ({POST_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'planned', NULL, 0, NULL, NULL, NULL, ?, ?, NULL, ?, ?) "
                    "ON CONFLICT (post_id) DO UPDATE SET status = 'planned', at = excluded.at, "
                    "priority = excluded.priority, caption = excluded.caption, retry_at = NULL, attempts = 0, "
                    "reason = NULL, updated_at = excluded.updated_at WHERE posts.status = 'cancelled'",
                    (
                        post["post_id"],
                        post["clip_id"],
                        post["account_id"],
                        tenant,
                        post["at"],
                        post.get("priority", 0),
                        int(bool(post.get("override_duplicate", False))),
                        caption,
                        now,
                        now,
                    ),
                )
                if changed == 1:
                    added.append(post["post_id"])
            return added

        return self.db.transaction(body)

    def post(self, post_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {POST_COLUMNS} FROM posts WHERE post_id = ?", (post_id,))
        return _post_row(rows[0]) if rows else None

    def posts(
        self,
        tenant: str,
        *,
        status: str | None = None,
        account_id: str | None = None,
        clip_id: str | None = None,
        since: float | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """A tenant's posts by time, filtered by what is given."""
        filters: list[tuple[str, Any]] = [("status = ?", status), ("account_id = ?", account_id)]
        filters.append(("clip_id = ?", clip_id))
        filters.append(("at >= ?", since))
        conditions = ["tenant = ?"] + [c for c, v in filters if v is not None]
        params = [tenant] + [v for _, v in filters if v is not None]
        rows = self.db.query(
            f"SELECT {POST_COLUMNS} FROM posts WHERE {' AND '.join(conditions)} ORDER BY at, post_id LIMIT ?",
            (*params, limit),
        )
        return [_post_row(r) for r in rows]

    def group_posts(self, tenant: str, group: str) -> list[dict[str, Any]]:
        """Every post of the tenant's accounts in `group` (what a plan for the group must respect), lean rows."""
        return self.db.query(
            "SELECT p.post_id, p.clip_id, p.account_id, p.at, p.priority, p.status FROM posts p JOIN accounts a "
            "ON a.account_id = p.account_id WHERE p.tenant = ? AND a.tenant = ? AND a.account_group = ?",
            (tenant, tenant, group),
        )

    def claim_due_posts(self, now: float, lease_s: float, limit: int = 100) -> list[dict[str, Any]]:
        """Mark due posts of active accounts `posting`, held until now + lease_s; returns them.

        The scheduler calls this and announces each one on the bus; a post is claimed by one
        scheduler only (the update is conditional on the row it read).
        """

        def body(session: Session) -> list[str]:
            rows = session.query(
                f"SELECT p.post_id, p.status, p.lease_until FROM posts p JOIN accounts a "
                f"ON a.account_id = p.account_id WHERE a.status = 'active' AND {DUE} ORDER BY p.at LIMIT ?",
                (now, now, now, limit),
            )
            claimed = []
            for row in rows:
                changed = session.execute(
                    "UPDATE posts SET status = 'posting', lease_until = ?, updated_at = ? "
                    "WHERE post_id = ? AND status = ? AND (lease_until IS NULL OR lease_until = ?)",
                    (now + lease_s, now, row["post_id"], row["status"], row["lease_until"]),
                )
                if changed == 1:
                    claimed.append(row["post_id"])
            return claimed

        return [post for post_id in self.db.transaction(body) if (post := self.post(post_id)) is not None]

    def set_post_status(
        self, post_id: str, status: str, *, reason: str | None = None, only_from: tuple[str, ...] = ()
    ) -> bool:
        """Change a post's status (only from one of `only_from`, when given); False when it did not change."""
        guard, params = "", cast(tuple[str, ...], ())
        if only_from:
            guard, params = f" AND status IN ({', '.join('?' * len(only_from))})", only_from
        changed = self.db.execute(
            f"UPDATE posts SET status = ?, reason = COALESCE(?, reason), lease_until = NULL, updated_at = ? "
            f"WHERE post_id = ?{guard}",
            (status, reason, time.time(), post_id, *params),
        )
        return changed == 1

    def move_post(self, post_id: str, at: float) -> bool:
        """A planned (or paused) post's new time; False when it is no longer planned."""
        changed = self.db.execute(
            "UPDATE posts SET at = ?, updated_at = ? WHERE post_id = ? AND status IN ('planned', 'paused')",
            (at, time.time(), post_id),
        )
        return changed == 1

    def set_override_duplicate(self, post_id: str, override: bool) -> None:
        self.db.execute(
            "UPDATE posts SET override_duplicate = ?, updated_at = ? WHERE post_id = ?",
            (int(override), time.time(), post_id),
        )

    def record_attempt(self, post_id: str, attempt: dict[str, Any], post: dict[str, Any]) -> None:
        """One attempt's record and the post's new state (status, retry_at, attempts, platform_id, url,
        reason), written together: the platform id is stored before the event is acknowledged."""

        def body(session: Session) -> None:
            session.execute(
                "INSERT INTO post_attempts (post_id, attempt, started_at, finished_at, status, error_kind, "
                "platform_code, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, attempt) DO UPDATE "
                "SET finished_at = excluded.finished_at, status = excluded.status, error_kind = excluded.error_kind, "
                "platform_code = excluded.platform_code, reason = excluded.reason",
                (
                    post_id,
                    attempt["attempt"],
                    attempt["started_at"],
                    attempt.get("finished_at", time.time()),
                    attempt["status"],
                    attempt.get("error_kind"),
                    None if attempt.get("platform_code") is None else str(attempt["platform_code"]),
                    attempt.get("reason"),
                ),
            )
            session.execute(
                "UPDATE posts SET status = ?, retry_at = ?, attempts = ?, platform_id = COALESCE(?, platform_id), "
                "url = COALESCE(?, url), reason = ?, lease_until = NULL, updated_at = ? WHERE post_id = ?",
                (
                    post["status"],
                    post.get("retry_at"),
                    attempt["attempt"],
                    post.get("platform_id") or None,
                    post.get("url") or None,
                    post.get("reason") or None,
                    time.time(),
                    post_id,
                ),
            )

        self.db.transaction(body)

    def mark_posted(self, post_id: str, platform_id: str, url: str) -> bool:
        """An operator uploaded a hand-off package: the post is posted; False unless it was handed off."""
        changed = self.db.execute(
            "UPDATE posts SET status = 'posted', platform_id = ?, url = ?, reason = NULL, updated_at = ? "
            "WHERE post_id = ? AND status = 'handed_off'",
            (platform_id or None, url or None, time.time(), post_id),
        )
        return changed == 1

    def post_attempts(self, post_id: str) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT attempt, started_at, finished_at, status, error_kind, platform_code, reason FROM post_attempts "
            "WHERE post_id = ? ORDER BY attempt",
            (post_id,),
        )

    # the journal (distribution.PostJournal) --------------------------------------------------
    def load_post_state(self, post_id: str) -> dict[str, Any]:
        rows = self.db.query("SELECT state FROM post_journal WHERE post_id = ?", (post_id,))
        return json.loads(rows[0]["state"]) if rows else {}

    def save_post_state(self, post_id: str, state: dict[str, Any]) -> None:
        """Durable on return: autocommit on both databases."""
        self.db.execute(
            "INSERT INTO post_journal (post_id, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (post_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (post_id, json.dumps(state, ensure_ascii=False), time.time()),
        )

    # fingerprints and metrics ----------------------------------------------------------------
    def add_fingerprint(self, post_id: str, tenant: str, account_id: str, posted_at: float, hashes: bytes) -> None:
        self.db.execute(
            "INSERT INTO post_fingerprints (post_id, tenant, account_id, posted_at, hashes) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (post_id) DO NOTHING",
            (post_id, tenant, account_id, posted_at, hashes),
        )

    def fingerprints(self, tenant: str, since: float) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT post_id, account_id, posted_at, hashes FROM post_fingerprints WHERE tenant = ? AND posted_at >= ?",
            (tenant, since),
        )
        return [{**r, "hashes": bytes(r["hashes"])} for r in rows]

    def add_post_metrics(self, post_id: str, at: float, plays: int, likes: int, comments: int, shares: int) -> None:
        self.db.execute(
            "INSERT INTO post_metrics (post_id, at, plays, likes, comments, shares) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (post_id, at) DO NOTHING",
            (post_id, at, plays, likes, comments, shares),
        )

    def posted_since(self, since: float, platform: str) -> list[dict[str, Any]]:
        """Posts of `platform` accounts posted (with a platform id) since `since`, for reading metrics."""
        return self.db.query(
            "SELECT p.post_id, p.account_id, p.platform_id FROM posts p JOIN accounts a ON a.account_id = p.account_id "
            "WHERE p.status = 'posted' AND p.platform_id IS NOT NULL AND p.updated_at >= ? AND a.platform = ? "
            "ORDER BY p.account_id, p.post_id",
            (since, platform),
        )

    def post_metrics(self, post_id: str) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT at, plays, likes, comments, shares FROM post_metrics WHERE post_id = ? ORDER BY at", (post_id,)
        )


class StoreJournal:
    """distribution.PostJournal on the metadata store: a resumed post continues on any machine."""

    def __init__(self, store: DistributionStore) -> None:
        self.store = store

    def load(self, post_id: str) -> dict[str, Any]:
        return self.store.load_post_state(post_id)

    def save(self, post_id: str, state: dict[str, Any]) -> None:
        self.store.save_post_state(post_id, state)


def _account_values(record: dict[str, Any]) -> tuple:
    return (
        record["account_id"],
        record["tenant"],
        record["platform"],
        record["display_name"],
        record.get("group", ""),
        json.dumps(list(record.get("windows", ["08:00-23:00"]))),
        record.get("timezone", "Asia/Shanghai"),
        record.get("daily_cap", 10),
        record.get("min_spacing_s", 1800),
        record.get("status", "active"),
        json.dumps(record.get("extra", {}), ensure_ascii=False),
    )


def _account_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["group"] = out.pop("account_group")
    out["windows"] = json.loads(out["windows"])
    out["extra"] = json.loads(out["extra"])
    out["has_credentials"] = bool(out["has_credentials"])
    return out


def _post_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["caption"] = json.loads(out["caption"])
    out["override_duplicate"] = bool(out["override_duplicate"])
    return out
