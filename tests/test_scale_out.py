"""Scale-out on real servers: tansu (Kafka protocol), SeaweedFS (S3) and PostgreSQL.

The API and ingest run in `livecut serve --roles api,ingest`; transcription and rendering
run in separate `livecut worker` processes, two of each. Workers are killed with SIGKILL
mid-stream; every clip the recorded-file run makes must still exist exactly once and play.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from conftest import LIVECUT, Api, assert_no_clip_lost_or_duplicated, free_port, of_source, publish, settled, wait_for
from prometheus_client.parser import text_string_to_metric_families

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
    import urllib.request

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
        f"[ingest]\nlease_s = 6.0\n"
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
def cluster(tmp_path, tansu, seaweedfs, postgres_server):
    ports = {"http": free_port(), "rtmp": free_port()}
    config = write_config(tmp_path, ports, tansu, seaweedfs, postgres_server.create_database())
    env = {**os.environ, **seaweedfs.env(), "HF_HUB_OFFLINE": "1"}
    running = Cluster(tmp_path, config, env)
    running.api = Api(f"http://127.0.0.1:{ports['http']}")
    yield running
    running.stop()


def started(process: Process) -> bool:
    assert process.proc.poll() is None, process.text()[-3000:]
    return "running; metrics" in process.text()


def plays(api: Api, clip: dict) -> float:
    """The clip's video, fetched over the API from S3, decodes; returns its duration."""
    status, body, _ = api.get(clip["video_url"])
    assert status == 200
    with av.open(io.BytesIO(body)) as container:
        frames = sum(1 for _ in container.decode(video=0))
        return frames / float(container.streams.video[0].average_rate)


def test_workers_killed_mid_stream_lose_and_duplicate_no_clip(cluster, fixtures, clip_run, zh_script):
    front = cluster.start("serve", "serve", "--roles", "api,ingest")
    workers = [cluster.worker(role, i) for role in ("transcribe", "render") for i in (1, 2)]
    wait_for(lambda: started(front) or "RTMP" in front.text(), timeout=120, what="serve --roles api,ingest")
    for worker in workers:
        wait_for(lambda worker=worker: started(worker), timeout=240, what=f"worker {worker.name}")
    api = cluster.api
    rooms = [api.create_push_room(f"room {i}") for i in (1, 2)]
    publishers = [publish(fixtures / "zh_live.mp4", room["rtmp_url"], realtime=True) for room in rooms]
    wait_for(lambda: api.room(rooms[0]["id"])["duration_s"] > 35, timeout=90, what="35 s of broadcast")

    transcribe = [w for w in workers if w.name.startswith("transcribe")]
    busy = max(transcribe, key=lambda w: events_in(w, "fragments"))
    assert events_in(busy, "fragments") > 0
    busy.proc.send_signal(signal.SIGKILL)
    wait_for(lambda: api.room(rooms[0]["id"])["duration_s"] > 50, timeout=60, what="50 s of broadcast")
    render = [w for w in workers if w.name.startswith("render")]
    victim = max(render, key=lambda w: events_in(w, "clip_requests"))
    victim.proc.send_signal(signal.SIGKILL)

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


def test_a_broker_restart_mid_stream_loses_no_clip(tmp_path, tansu_factory, seaweedfs, fixtures, clip_run, zh_script):
    bucket = seaweedfs.create_bucket(unique("broker-"))
    broker = tansu_factory(storage=f"s3://{bucket}/", s3=seaweedfs)
    ports = {"http": free_port(), "rtmp": free_port()}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cluster = Cluster(tmp_path, write_config(tmp_path, ports, broker), env)
    api = Api(f"http://127.0.0.1:{ports['http']}")
    try:
        serve = cluster.start("serve", "serve")
        wait_for(lambda: started(serve) or "RTMP" in serve.text(), timeout=180, what="serve on Kafka")
        room = api.create_push_room("broker restart")
        publisher = publish(fixtures / "zh_live.mp4", room["rtmp_url"], realtime=True)
        wait_for(lambda: api.room(room["id"])["duration_s"] > 30, timeout=90, what="30 s of broadcast")
        broker.stop()
        time.sleep(3.0)
        tansu_factory(storage=f"s3://{bucket}/", s3=seaweedfs, port=broker.port)
        assert publisher.wait(timeout=120) == 0
        wait_for(lambda: settled(api, room["id"]), timeout=400, what="the room to settle")
        clips = api.clips(room["id"])
        assert clips and all(c["status"] == "ready" for c in clips), cluster.logs()
        assert_no_clip_lost_or_duplicated(clips, of_source(clip_run[3], "zh_live.mp4"), zh_script)
    finally:
        cluster.stop()
