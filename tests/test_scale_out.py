"""Scale-out on real servers: tansu (Kafka protocol), SeaweedFS (S3) and PostgreSQL.

The API and ingest run in `livecut serve --roles api,ingest`; transcription and rendering
run in separate `livecut worker` processes, two of each. Workers are killed with SIGKILL
mid-stream; every clip the recorded-file run makes must still exist exactly once and play.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import (
    LIVECUT,
    Api,
    assert_no_clip_lost_or_duplicated,
    free_port,
    listening,
    of_source,
    publish,
    settled,
    wait_for,
)

pytest_plugins = ["servers.tansu", "servers.seaweedfs"]
from servers.postgres import postgres_server_fixture  # noqa: E402

postgres_server = postgres_server_fixture()


@dataclass
class Process:
    name: str
    proc: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def metrics_url(self) -> str:
        match = re.search(r"metrics (http://\S+)", self.text())
        return match.group(1) if match else ""


class Cluster:
    """livecut processes sharing one config; all stopped at the end."""

    def __init__(self, root: Path, config: Path, env: dict[str, str]) -> None:
        self.root, self.config, self.env = root, config, env
        self.processes: list[Process] = []

    def start(self, name: str, *args: str) -> Process:
        log = self.root / f"{name}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [*LIVECUT, *args, "--config", str(self.config)], stdout=out, stderr=subprocess.STDOUT, env=self.env
            )
        process = Process(name, proc, log)
        self.processes.append(process)
        return process

    def worker(self, role: str, index: int) -> Process:
        name = f"{role}-{index}"
        return self.start(name, "worker", "--role", role, "--id", name)

    def stop(self) -> None:
        for process in self.processes:
            if process.proc.poll() is None:
                process.proc.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.proc.kill()
                process.proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.text()[-2500:]}" for p in self.processes)


def events_in(process: Process, topic: str) -> float:
    with urllib.request.urlopen(process.metrics_url(), timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        if family.name == "livecut_events_in":
            return sum(s.value for s in family.samples if s.labels.get("topic") == topic and s.name.endswith("_total"))
    return 0.0


def unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}-{time.monotonic_ns() % 10**8}"


def write_config(root: Path, ports: dict[str, int], tansu, seaweedfs=None, database_url: str = "") -> Path:
    """Kafka always; S3 media and PostgreSQL when given, else the local folder and SQLite."""
    text = (
        f'[paths]\ndata_dir = "{root / "data"}"\n'
        f"[server]\nport = {ports['http']}\n"
        f"[rtmp]\nport = {ports['rtmp']}\n"
        f'[logging]\nlevel = "INFO"\n'
        f'[ingest]\nlease_s = 6.0\npull_allow = ["127.0.0.1"]\n'  # the relay runs on this machine
        f'[bus]\nkind = "kafka"\nbootstrap_servers = "{tansu.bootstrap_servers}"\n'
        f'topic_prefix = "{unique("t")}."\npartitions = 4\n'
        f'[classifier]\nreviews_path = "{root / "reviews.jsonl"}"\n'
    )
    if seaweedfs is not None:
        bucket = seaweedfs.create_bucket(unique("media-"))
        text += f'[media]\nkind = "s3"\nbucket = "{bucket}"\nprefix = "livecut"\nendpoint_url = "{seaweedfs.url}"\n'
        text += f'cache_dir = "{root / "s3-cache"}"\n'
    if database_url:
        text += f'[store]\nurl = "{database_url}"\n'
    config = root / "config.toml"
    config.write_text(text)
    return config


@pytest.fixture
def cluster(tmp_path, tansu_factory, seaweedfs, postgres_server):
    """Durable tansu (its log in S3) + SeaweedFS + PostgreSQL, and the livecut processes of a test."""
    bucket = seaweedfs.create_bucket(unique("broker-"))
    broker = tansu_factory(storage=f"s3://{bucket}/", s3=seaweedfs)
    ports = {"http": free_port(), "rtmp": free_port()}
    config = write_config(tmp_path, ports, broker, seaweedfs, postgres_server.create_database())
    env = {**os.environ, **seaweedfs.env(), "HF_HUB_OFFLINE": "1"}
    running = Cluster(tmp_path, config, env)
    running.api = Api(f"http://127.0.0.1:{ports['http']}")
    running.broker = broker
    running.restart_broker = lambda: tansu_factory(storage=f"s3://{bucket}/", s3=seaweedfs, port=broker.port)
    yield running
    running.stop()


def started(process: Process) -> bool:
    assert process.proc.poll() is None, process.text()[-3000:]
    return "running; metrics" in process.text()


def answers(api: Api, process: Process) -> bool:
    """The process is up and its API answers a signed-in request."""
    assert process.proc.poll() is None, process.text()[-3000:]
    try:
        return api.get("/api/rooms")[0] == 200
    except OSError:
        return False


def plays(api: Api, clip: dict) -> float:
    """The clip's video, fetched over the API from S3, decodes; returns its duration."""
    status, body, _ = api.get(clip["video_url"])
    assert status == 200
    with av.open(io.BytesIO(body)) as container:
        frames = sum(1 for _ in container.decode(video=0))
        return frames / float(container.streams.video[0].average_rate)


def test_killed_workers_and_a_broker_restart_mid_stream_lose_and_duplicate_no_clip(
    cluster, fixtures, clip_run, zh_script
):
    front = cluster.start("serve", "serve", "--roles", "api,ingest")
    workers = [cluster.worker(role, i) for role in ("transcribe", "render") for i in (1, 2)]
    wait_for(lambda: answers(cluster.api, front), timeout=180, what="serve --roles api,ingest")
    for worker in workers:
        wait_for(lambda worker=worker: started(worker), timeout=240, what=f"worker {worker.name}")
    api = cluster.api
    rooms = [api.create_push_room(f"room {i}") for i in (1, 2)]
    publishers = [publish(fixtures / "zh_live.mp4", room["rtmp_url"], realtime=True) for room in rooms]

    def broadcast(seconds: float) -> None:
        wait_for(lambda: api.room(rooms[0]["id"])["duration_s"] > seconds, timeout=90, what=f"{seconds} s on air")

    broadcast(28)
    transcribe = [w for w in workers if w.name.startswith("transcribe")]
    busy = max(transcribe, key=lambda w: events_in(w, "fragments"))
    assert events_in(busy, "fragments") > 0
    busy.proc.send_signal(signal.SIGKILL)
    broadcast(40)
    render = [w for w in workers if w.name.startswith("render")]
    max(render, key=lambda w: events_in(w, "clip_requests")).proc.send_signal(signal.SIGKILL)
    broadcast(52)
    cluster.broker.stop()
    time.sleep(2.0)
    cluster.restart_broker()

    assert [p.wait(timeout=120) for p in publishers] == [0, 0]
    for room in rooms:
        wait_for(lambda room=room: settled(api, room["id"]), timeout=400, what=f"{room['name']} to settle")
    batch = of_source(clip_run[3], "zh_live.mp4")
    for room in rooms:
        clips = api.clips(room["id"])
        assert all(c["status"] == "ready" for c in clips), cluster.logs()
        assert_no_clip_lost_or_duplicated(clips, batch, zh_script)
        for clip in clips:
            assert plays(api, clip) == pytest.approx(clip["t1"] - clip["t0"], abs=0.2)
    assert "taken over" in "".join(w.text() for w in transcribe if w is not busy), cluster.logs()


RELAY_CONFIG = """
pid {root}/nginx.pid;
error_log {root}/nginx-error.log;
events {{ worker_connections 64; }}
rtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; record off; }} }} }}
"""


@pytest.fixture
def rtmp_relay(tmp_path):
    """A plain nginx-rtmp relay on 127.0.0.1: a live stream for pull rooms to pull from."""
    port = free_port()
    config = tmp_path / "relay.conf"
    config.write_text(RELAY_CONFIG.format(root=tmp_path, port=port))
    modules = "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;\n"
    config.write_text(modules + config.read_text())
    proc = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"])
    wait_for(lambda: listening(port), timeout=15, what="the nginx relay")
    yield f"rtmp://127.0.0.1:{port}/live"
    proc.terminate()
    proc.wait(timeout=15)


def test_a_dead_ingest_workers_pull_room_is_taken_over_and_its_timeline_continues(
    tmp_path, tansu, rtmp_relay, fixtures
):
    ports = {"http": free_port(), "rtmp": free_port()}
    config = write_config(tmp_path, ports, tansu)
    # Pull rooms only: two ingest workers on one machine would both bind the RTMP port.
    config.write_text(config.read_text().replace("[rtmp]\n", "[rtmp]\nenabled = false\n"))
    cluster = Cluster(tmp_path, config, {**os.environ, "HF_HUB_OFFLINE": "1"})
    api = Api(f"http://127.0.0.1:{ports['http']}")
    source = publish(fixtures / "zh_live.mp4", f"{rtmp_relay}/broadcast", realtime=True)
    try:
        front = cluster.start("serve", "serve", "--roles", "api,transcribe,render")
        ingest = [cluster.worker("ingest", i) for i in (1, 2)]
        for worker in ingest:
            wait_for(lambda worker=worker: started(worker), timeout=120, what=f"worker {worker.name}")
        wait_for(lambda: answers(api, front), timeout=180, what="serve --roles api,transcribe,render")
        status, room = api.post(
            "/api/rooms", {"name": "pulled", "source": {"type": "pull", "url": f"{rtmp_relay}/broadcast"}}
        )
        assert status == 201
        wait_for(lambda: api.room(room["id"])["duration_s"] > 12, timeout=60, what="12 s of the pulled stream")
        owner = next(w for w in ingest if "adopted by" in w.text())
        before = api.room(room["id"])["duration_s"]
        owner.proc.send_signal(signal.SIGKILL)
        heir = next(w for w in ingest if w is not owner)
        wait_for(lambda: api.room(room["id"])["publishes"] == 2, timeout=30, what="another worker to take the room")
        assert "adopted by" in heir.text()
        wait_for(lambda: api.room(room["id"])["duration_s"] > before + 10, timeout=60, what="the pull to go on")
        db = sqlite3.connect(tmp_path / "data" / "livecut.db")
        fragments = db.execute("SELECT seq, t0, t1 FROM fragments WHERE room = ? ORDER BY seq", (room["id"],))
        fragments = fragments.fetchall()
        # The dead worker may have numbered a fragment it never stored: numbers skip, never repeat.
        assert all(a[0] < b[0] for a, b in itertools.pairwise(fragments))
        # A split fragment's video can end up to the publisher's video lead (~0.3 s) after the next starts.
        assert all(b[1] > a[1] and b[1] >= a[2] - 0.5 for a, b in itertools.pairwise(fragments)), "timeline went back"
        assert fragments[-1][2] > before + 10
    finally:
        source.kill()
        cluster.stop()
