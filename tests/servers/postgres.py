"""A throwaway PostgreSQL server for tests, from Debian's `postgresql` package.

`initdb` makes a cluster in a fresh temp folder, `pg_ctl` starts it on 127.0.0.1 on a free
port (its unix socket stays in the temp folder) and stops it in teardown; the folder is then
removed. The cluster's superuser `livecut` has a random password, so URLs carry one the way
a real deployment's do; any process (a worker started by a test included) connects by URL.

In a test module:

    from servers.postgres import postgres_server_fixture, postgres_url_fixture

    postgres_server = postgres_server_fixture()  # one server for the session
    postgres_url = postgres_url_fixture()  # a fresh, empty database per test

initdb and postgres refuse to run as root: as root, the server runs as the `postgres` system
user the package creates. Without the server binaries the fixtures skip the test.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from support import free_port

SUPERUSER = "livecut"
START_ATTEMPTS = 3
SERVER_SETTINGS = {
    # Durability is worthless for a throwaway cluster and costs seconds per test.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "listen_addresses": "127.0.0.1",
}


@dataclass
class PostgresServer:
    root: Path
    bindir: Path
    port: int
    password: str
    host: str = "127.0.0.1"
    user: str = SUPERUSER
    databases: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The database made when the server started."""
        return self.database_url(self.databases[0])

    def database_url(self, name: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{name}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        name = name or f"test_{len(self.databases)}_{secrets.token_hex(3)}"
        with psycopg.connect(self.database_url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        self.databases.append(name)
        return self.database_url(name)


def find_bindir() -> Path | None:
    """The newest installed server's bin folder (Debian keeps them in /usr/lib/postgresql/N/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    return Path(found).parent if found else None


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running server with one database (`server.url`); stopped and deleted on exit."""
    bindir = find_bindir()
    if bindir is None:
        # In CI a missing server is a missing install step, never a reason to pass quietly.
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing("PostgreSQL server binaries not found (scripts/install.sh installs the postgresql package)")
    root = Path(tempfile.mkdtemp(prefix="livecut-pg-"))
    run_as = _server_user(root)
    server = PostgresServer(root=root, bindir=bindir, port=0, password=secrets.token_hex(12))
    started = False
    try:
        _initdb(server, run_as)
        started = _start(server, run_as)
        server.create_database("livecut")
        yield server
    finally:
        if started:
            _stop(server, run_as)
        shutil.rmtree(root, ignore_errors=True)


def postgres_server_fixture(scope: str = "session") -> Callable:
    """A fixture yielding a running PostgresServer, started once per `scope`."""

    @pytest.fixture(scope=scope)
    def fixture() -> Iterator[PostgresServer]:
        with postgres_server() as server:
            yield server

    return fixture


def postgres_url_fixture(server_fixture: str = "postgres_server") -> Callable:
    """A fixture yielding the URL of a fresh database on the server fixture named `server_fixture`."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest) -> str:
        return request.getfixturevalue(server_fixture).create_database()

    return fixture


def _server_user(root: Path) -> dict:
    """subprocess arguments that run the server as `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")
    os.chown(root, account.pw_uid, account.pw_gid)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _run(server: PostgresServer, run_as: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(server.bindir / args[0]), *args[1:]],
        cwd=server.root,
        capture_output=True,
        text=True,
        **run_as,
    )


def _initdb(server: PostgresServer, run_as: dict) -> None:
    password_file = server.root / "password"
    password_file.write_text(server.password)
    if run_as:
        os.chown(password_file, run_as["user"], run_as["group"])
    done = _run(
        server,
        run_as,
        "initdb",
        "--pgdata",
        str(server.root / "data"),
        "--username",
        server.user,
        "--pwfile",
        str(password_file),
        "--auth-local",
        "trust",
        "--auth-host",
        "scram-sha-256",
        "--encoding",
        "UTF8",
        "--no-locale",
        "--no-sync",
    )
    password_file.unlink()
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")


def _start(server: PostgresServer, run_as: dict) -> bool:
    """Start on a free port; retried because another process may take the port before postgres binds it."""
    log = server.root / "server.log"
    for _ in range(START_ATTEMPTS):
        server.port = free_port()
        options = " ".join(f"-c {key}={value}" for key, value in SERVER_SETTINGS.items())
        options += f" -p {server.port} -k {server.root}"
        done = _run(
            server,
            run_as,
            "pg_ctl",
            "-D",
            str(server.root / "data"),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode == 0:
            return True
    raise RuntimeError(f"postgres did not start:\n{done.stdout}\n{done.stderr}\n{log.read_text()[-3000:]}")


def _stop(server: PostgresServer, run_as: dict) -> None:
    data = str(server.root / "data")
    if _run(server, run_as, "pg_ctl", "-D", data, "-m", "fast", "-w", "stop").returncode != 0:
        _run(server, run_as, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
