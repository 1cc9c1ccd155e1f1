"""The databases under the metadata store: SQLite (embedded default) and PostgreSQL (several machines).

Both run the store's portable SQL, written with `?` placeholders, and return rows as dicts.
Each holds one connection in autocommit mode behind a lock, so a store can be shared by
threads; `transaction` runs a function in one transaction under that lock. The schema comes
from the numbered SQL files in livecut/store/migrations, applied in order by `migrate`.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

T = TypeVar("T")
Rows = list[dict[str, Any]]
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S = 10
# Any fixed number: every livecut process takes this advisory lock to apply migrations.
MIGRATION_LOCK_KEY = 0x6C69766563757401
MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.sql$")


class StoreError(RuntimeError):
    """The metadata database cannot be opened, reached or migrated."""


class Session(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...


class Database(ABC):
    """One connection behind a lock. `query` returns rows, `execute` the number of rows changed."""

    dialect = ""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with self.lock:
            return self._statement(lambda: self._query(sql, params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.lock:
            return self._statement(lambda: self._execute(sql, params))

    def _statement(self, run: Callable[[], T]) -> T:
        return run()

    @abstractmethod
    def transaction(self, body: Callable[[Session], T]) -> T:
        """Each database kind provides it."""

    @abstractmethod
    def close(self) -> None:
        """Each database kind provides it."""

    def lock_migrations(self, session: Session) -> None:  # noqa: B027 - a no-op by default: SQLite needs no lock
        """Keep other processes from migrating until this transaction ends."""

    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any]) -> Rows:
        """Each database kind provides it."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        """Each database kind provides it."""


class _Unlocked:
    """What a transaction body gets: the database's statements, run under the lock it already holds."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        return self.database._query(sql, params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.database._execute(sql, params)


WAL_ATTEMPTS = 20


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self._use_wal()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {path}: {exc}") from exc

    def _use_wal(self) -> None:
        # Switching to WAL needs a moment alone with the file and does not wait for the busy
        # timeout: when several processes open it at once, the others are told "locked".
        for attempt in range(WAL_ATTEMPTS):
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _query(self, sql: str, params: Sequence[Any]) -> Rows:
        return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        return self.conn.execute(sql, params).rowcount

    def transaction(self, body: Callable[[Session], T]) -> T:
        with self.lock:
            # IMMEDIATE takes the write lock at once, so two processes migrating one file take turns.
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = body(_Unlocked(self))
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return result

    def close(self) -> None:
        with self.lock:
            self.conn.close()


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.where = describe_url(url)
        self._committing = False
        self.conn = self._connect()

    def _connect(self) -> Any:
        options: dict[str, Any] = (
            {} if "connect_timeout" in _conninfo(self.url) else {"connect_timeout": CONNECT_TIMEOUT_S}
        )
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row, **options)
        except psycopg.Error as exc:
            reason = _without_password(str(exc).strip(), self.url)
            raise StoreError(f"cannot connect to PostgreSQL at {self.where}: {reason}") from None

    def _query(self, sql: str, params: Sequence[Any]) -> Rows:
        return self._cursor(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        return self._cursor(sql, params).rowcount

    def _cursor(self, sql: str, params: Sequence[Any]) -> Any:
        # Without parameters psycopg sends the text as it is (migration files may hold a ? or a %).
        return self.conn.execute(_pg(sql), params) if params else self.conn.execute(sql)

    def _statement(self, run: Callable[[], T]) -> T:
        """Run a statement; if the server dropped the connection (restart, network), reconnect and run it once more.

        A statement sent just before the drop may then run twice: the store's writes are
        idempotent (upserts keyed by deterministic ids) except a room's publish counter.
        """
        if self.conn.broken:
            self._reconnect()
        try:
            return run()
        except psycopg.OperationalError:
            if not self.conn.broken:
                raise
        self._reconnect()
        return run()

    def _reconnect(self) -> None:
        self.conn.close()
        self.conn = self._connect()

    def transaction(self, body: Callable[[Session], T]) -> T:
        with self.lock:
            if self.conn.broken:
                self._reconnect()
            try:
                return self._transaction_once(body)
            except psycopg.OperationalError:
                # Lost before COMMIT was sent: nothing was written, so the body may run again.
                if self._committing or not self.conn.broken:
                    raise
            self._reconnect()
            return self._transaction_once(body)

    def _transaction_once(self, body: Callable[[Session], T]) -> T:
        self._committing = False
        with self.conn.transaction():
            result = body(_Unlocked(self))
            self._committing = True
        return result

    def lock_migrations(self, session: Session) -> None:  # noqa: B027 - a no-op by default: SQLite needs no lock
        session.query("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def open_database(target: Path | str) -> Database:
    """PostgreSQL for a postgresql:// URL, else SQLite at the path (or ":memory:")."""
    if str(target).startswith(POSTGRES_SCHEMES):
        return PostgresDatabase(str(target))
    return SqliteDatabase(target)


def describe_url(url: str) -> str:
    """host:port/database of a PostgreSQL URL, for messages: never the password."""
    params = _conninfo(url)
    host = params.get("host") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    database = params.get("dbname") or os.environ.get("PGDATABASE") or params.get("user") or ""
    return f"{host}:{port}/{database}"


def _conninfo(url: str) -> dict[str, Any]:
    try:
        return conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise StoreError(f"invalid PostgreSQL URL: {_without_password(str(exc), url)}") from None


def _without_password(message: str, url: str) -> str:
    secrets = [os.environ.get("PGPASSWORD")]
    match = re.match(r"^[a-z]+://[^:/@]*:([^@]*)@", url)
    secrets.append(match.group(1) if match else None)
    for secret in filter(None, secrets):
        message = message.replace(secret, "***")
    return message


def _pg(sql: str) -> str:
    """psycopg's placeholders are %s, and a literal % must be doubled."""
    return sql.replace("%", "%%").replace("?", "%s")


# migrations -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file's statements, split where SQLite sees a complete one (quotes and comments respected)."""
        statements, pending = [], ""
        for line in self.sql.splitlines(keepends=True):
            pending += line
            if sqlite3.complete_statement(pending):
                statements.append(pending.strip())
                pending = ""
        if _strip_comments(pending):
            statements.append(pending.strip())
        return statements


def migrations() -> list[Migration]:
    """livecut/store/migrations/NNNN_name.sql, in order of NNNN.

    Each file serves both databases, so it holds SQL both accept: TEXT, INTEGER and DOUBLE
    PRECISION (PostgreSQL's REAL has 4 bytes, too few for Unix times), no AUTOINCREMENT or
    SERIAL, no ADD COLUMN IF NOT EXISTS (SQLite lacks it), no $$-quoted bodies.
    """
    folder = resources.files("livecut.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"two migrations share a number in {folder}: {[m.name for m in found]}")
    return found


def migrate(database: Database) -> list[str]:
    """Apply the migrations this database lacks, each in its own transaction; returns their names."""
    database.transaction(lambda session: _create_migrations_table(session, database))
    applied = []
    for migration in migrations():
        if database.transaction(functools.partial(_apply, database=database, migration=migration)):
            applied.append(migration.name)
    return applied


def _create_migrations_table(session: Session, database: Database) -> None:
    # Under the lock: PostgreSQL's CREATE TABLE IF NOT EXISTS fails when two sessions race on it.
    database.lock_migrations(session)
    adopted = _adopt_pre_migration_sqlite(session) if database.dialect == "sqlite" else []
    session.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
    )
    for version, name in adopted:
        session.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", (version, name, time.time())
        )


def _apply(session: Session, database: Database, migration: Migration) -> bool:
    database.lock_migrations(session)
    # Checked under the lock: another process may have applied it since this one looked.
    if session.query("SELECT version FROM schema_migrations WHERE version = ?", (migration.version,)):
        return False
    for statement in migration.statements():
        session.execute(statement)
    session.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        (migration.version, migration.name, time.time()),
    )
    return True


def _adopt_pre_migration_sqlite(session: Session) -> list[tuple[int, str]]:
    """A SQLite database made before migrations existed: the migrations its schema already holds.

    0001 creates tables only if missing, so it may run on such a database; 0002 adds the brand
    column, which databases made just before migrations existed already have.
    """
    tables = {row["name"] for row in session.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_migrations" in tables or "rooms" not in tables:
        return []
    columns = {row["name"] for row in session.query("PRAGMA table_info(rooms)")}
    return [(2, "0002_room_brand.sql")] if "brand" in columns else []


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()
