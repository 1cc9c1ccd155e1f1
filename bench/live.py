"""Live latency under load: N rooms, each publishing the Mandarin sample at real-time speed.

Starts `livecut serve` on free ports with a throwaway data folder, creates N push rooms,
publishes into all of them at once with ffmpeg `-re`, waits until every room is fully
processed, and prints p50/p95 of `latency_s` (last word received -> clip files complete)
and the CPU use of every livecut process, as a share of the whole machine. Each room's clips
are listed as start:label/sublabel:latency.

    .venv/bin/python bench/live.py --rooms 1 2 4
    .venv/bin/python bench/live.py --rooms 1 2 --workers 2
    .venv/bin/python bench/live.py --rooms 6 --same-start

Room i starts the sample i/N of the way in (on a keyframe) and plays it round to where it
started, so at any moment the rooms say different things, as real rooms do (rooms saying the
same sentence at the same instant would share Whisper windows as no real rooms do). Each
room's clips are then the sample's clips, rotated. --same-start publishes it unrotated.

--workers W runs the scale-out instead: tansu (Kafka protocol), SeaweedFS (S3) and
PostgreSQL started here on 127.0.0.1, `livecut serve --roles api,ingest`, and W
`livecut worker` processes each of transcribe and render, all on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "zh_live.mp4"
# The sample's keyframe interval: a stream copy can start only on one.
KEYFRAME_S = 2.0
TICKS = os.sysconf("SC_CLK_TCK")
# The throwaway server's first admin; `call` signs in with it.
ADMIN_PASSWORD = secrets.token_urlsafe(16)
_session: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **_signed_in(url)}
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60) as response:
        return json.load(response)


def _signed_in(url: str) -> dict[str, str]:
    """The session cookie of the server at `url` (signing in as its first admin once)."""
    base = url.split("/api/", 1)[0]
    if base not in _session:
        login = json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode()
        request = urllib.request.Request(f"{base}/api/login", data=login, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            _session[base] = response.headers["set-cookie"].split(";", 1)[0]
    return {"Cookie": _session[base]}


def cpu_seconds(pid: int) -> float:
    """User + system time of the process and of its finished children (the renderer's ffmpeg runs)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / TICKS


def start_cluster(root: Path, extra_config: str, workers: int, env: dict) -> tuple[list[subprocess.Popen], str]:
    """`livecut serve` (every role), or with workers: serve's API and ingest plus worker processes."""
    http_port, rtmp_port = free_port(), free_port()
    config = root / "config.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{root / "data"}"\n[server]\nport = {http_port}\n[rtmp]\nport = {rtmp_port}\n'
        + extra_config
    )
    env = {**os.environ, **env, "LIVECUT_ADMIN_PASSWORD": ADMIN_PASSWORD}
    serve = ["serve", "--roles", "api,ingest"] if workers else ["serve"]
    commands = [serve] + [["worker", "--role", r] for r in ("transcribe", "render") for _ in range(workers)]
    procs = []
    for i, command in enumerate(commands):
        log = (root / f"livecut-{i}.log").open("w")
        args = [sys.executable, "-m", "livecut.cli", *command, "--config", str(config)]
        procs.append(subprocess.Popen(args, stdout=log, stderr=log, env=env))
    base = f"http://127.0.0.1:{http_port}"
    for _ in range(480):
        try:
            call(f"{base}/api/rooms")
            # Workers join their consumer groups after loading models; give them that time.
            if all("running" in (root / f"livecut-{i}.log").read_text() for i in range(1, len(procs))):
                return procs, base
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"livecut did not start; see the logs in {root}")


def scale_out_services(root: Path, stack: contextlib.ExitStack) -> tuple[str, dict]:
    """tansu, SeaweedFS and PostgreSQL on 127.0.0.1 (the test suite's own starters); config TOML and env."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from servers.postgres import postgres_server
    from servers.seaweedfs import start_seaweedfs
    from servers.tansu import start_tansu

    broker = start_tansu(root)
    stack.callback(broker.stop)
    s3 = start_seaweedfs(root / "seaweedfs")
    stack.callback(s3.stop)
    bucket = s3.create_bucket("bench-media")
    database = stack.enter_context(postgres_server()).url
    config = (
        f'[bus]\nkind = "kafka"\nbootstrap_servers = "{broker.bootstrap_servers}"\npartitions = 8\n'
        f'[media]\nkind = "s3"\nbucket = "{bucket}"\nendpoint_url = "{s3.url}"\ncache_dir = "{root / "cache"}"\n'
        f'[store]\nurl = "{database}"\n'
    )
    return config, s3.env()


def settled(base: str, room_id: str) -> bool:
    """The room's stream ended and all of it is processed and rendered. A room still `waiting` is not:
    a publisher faster than real time can finish before the server has opened its stream."""
    room = call(f"{base}/api/rooms/{room_id}")
    return (
        room["status"] in ("reconnecting", "ended", "error")
        and room["processed_to"] >= room["duration_s"] - 0.01
        and room["counters"]["rendering"] == 0
    )


def start_publisher(url: str, room: int, rooms: int, same_start: bool, scratch: Path) -> subprocess.Popen:
    """ffmpeg sending the sample in real time, from room/rooms of the way in, then its beginning."""
    duration = float(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(SAMPLE)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    start = 0.0 if same_start else KEYFRAME_S * round(room * duration / rooms / KEYFRAME_S)
    source = ["-i", str(SAMPLE)]
    if start:
        # The concat demuxer keeps timestamps running across the seam (-stream_loop with -ss would
        # seek every loop to the same point).
        playlist = scratch / f"room-{room}.txt"
        playlist.write_text(f"file '{SAMPLE}'\ninpoint {start}\nfile '{SAMPLE}'\noutpoint {start}\n")
        source = ["-f", "concat", "-safe", "0", "-i", str(playlist)]
    return subprocess.Popen(["ffmpeg", "-v", "error", "-re", *source, "-c", "copy", "-f", "flv", url])


def run(rooms: int, extra_config: str, workers: int, same_start: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="livecut-bench-") as scratch, contextlib.ExitStack() as stack:
        root, env = Path(scratch), {}
        if workers:
            services, env = scale_out_services(root, stack)
            extra_config = services + extra_config
        procs, base = start_cluster(root, extra_config, workers, env)
        try:
            created = [
                call(f"{base}/api/rooms", {"name": f"bench {i}", "source": {"type": "push"}}) for i in range(rooms)
            ]
            cpu0, wall0 = [cpu_seconds(p.pid) for p in procs], time.time()
            publishers = [start_publisher(r["rtmp_url"], i, rooms, same_start, root) for i, r in enumerate(created)]
            for publisher in publishers:
                publisher.wait()
            while not all(settled(base, r["id"]) for r in created):
                time.sleep(1.0)
            used = [cpu_seconds(p.pid) - before for p, before in zip(procs, cpu0, strict=True)]
            cpu, wall = sum(used), time.time() - wall0
            per_room = [call(f"{base}/api/clips?room={r['id']}") for r in created]
            clips = [c for room_clips in per_room for c in room_clips]
            media_s = sum(call(f"{base}/api/rooms/{r['id']}")["duration_s"] for r in created)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            for proc in procs:
                proc.wait(timeout=300)
    latencies = sorted(c["latency_s"] for c in clips if c["status"] == "ready")
    return {
        "rooms": rooms,
        "clips": len(latencies),
        "failed": sum(c["status"] != "ready" for c in clips),
        "failures": sorted({str(c.get("error") or c.get("reason")) for c in clips if c["status"] != "ready"}),
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "max": latencies[-1],
        "cpu_percent_of_machine": 100 * cpu / wall / os.cpu_count(),
        "wall_s": wall,
        # Per role (scale-out only): CPU seconds of the transcribe and of the render workers.
        "transcribe_cpu_s": sum(used[1 : 1 + workers]),
        "render_cpu_s": sum(used[1 + workers :]),
        "media_s": media_s,
        # Each room's clips, as (t0, label, sublabel, latency) in time order: rooms of one sample match,
        # rotated by their start.
        "spans": [
            sorted((c["t0"], c["label"], c["sublabel"], c["latency_s"] or 0.0) for c in room_clips)
            for room_clips in per_room
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 2, 4], help="room counts to run, one run each")
    parser.add_argument("--config-extra", default="", help="TOML text appended to the server's config")
    parser.add_argument("--same-start", action="store_true", help="every room plays the sample from its start")
    parser.add_argument(
        "--workers", type=int, default=0, help="scale-out: this many transcribe and render worker processes each"
    )
    args = parser.parse_args()
    print(f"{'rooms':>5} {'clips':>5} {'failed':>6} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'cpu %':>6} {'wall s':>7}")
    for rooms in args.rooms:
        r = run(rooms, args.config_extra, args.workers, args.same_start)
        print(
            f"{r['rooms']:5d} {r['clips']:5d} {r['failed']:6d} {r['p50']:6.1f} {r['p95']:6.1f} {r['max']:6.1f} "
            f"{r['cpu_percent_of_machine']:6.0f} {r['wall_s']:7.0f}"
        )
        for failure in r["failures"]:
            print(f"      failed: {failure}")
        counts = sorted(len(spans) for spans in r["spans"])
        shown = r["spans"] if counts[0] != counts[-1] else r["spans"][:1]
        if counts[0] != counts[-1]:
            print(f"      clips per room differ: {counts}")
        for spans in shown:
            print("      " + " ".join(f"{t0:.1f}:{label}/{sub}:{late:.1f}s" for t0, label, sub, late in spans))
        if args.workers:
            print(
                f"      transcribe: {r['transcribe_cpu_s']:.0f} CPU s for {r['media_s']:.0f} s of media "
                f"({r['media_s'] / r['transcribe_cpu_s']:.1f} rooms per core); render: {r['render_cpu_s']:.0f} CPU s "
                f"for {r['clips']} clips ({60 * r['clips'] / r['render_cpu_s']:.0f} clips per minute per core)"
            )


if __name__ == "__main__":
    main()
