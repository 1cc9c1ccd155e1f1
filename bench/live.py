"""Live latency under load: N rooms, each publishing the Mandarin sample at real-time speed.

Starts `livecut serve` on free ports with a throwaway data folder, creates N push rooms,
publishes into all of them at once with ffmpeg `-re`, waits until every room is fully
processed, and prints p50/p95 of `latency_s` (last word received -> clip files complete)
and the server's CPU use.

    .venv/bin/python bench/live.py --rooms 1 2 4
"""

from __future__ import annotations

import argparse
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
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_server(root: Path, extra_config: str) -> tuple[subprocess.Popen, str]:
    http_port, rtmp_port = free_port(), free_port()
    config = root / "config.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{root / "data"}"\n[server]\nport = {http_port}\n[rtmp]\nport = {rtmp_port}\n'
        + extra_config
    )
    log = (root / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "livecut.cli", "serve", "--config", str(config)],
        stdout=log,
        stderr=log,
        env={**os.environ, "LIVECUT_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    base = f"http://127.0.0.1:{http_port}"
    for _ in range(240):
        try:
            call(f"{base}/api/rooms")
            return proc, base
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"serve did not start; see {root / 'serve.log'}")


def settled(base: str, room_id: str) -> bool:
    room = call(f"{base}/api/rooms/{room_id}")
    return (
        room["status"] != "live"
        and room["processed_to"] >= room["duration_s"] - 0.01
        and room["counters"]["rendering"] == 0
    )


def run(rooms: int, extra_config: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="livecut-bench-") as scratch:
        proc, base = start_server(Path(scratch), extra_config)
        try:
            created = [
                call(f"{base}/api/rooms", {"name": f"bench {i}", "source": {"type": "push"}}) for i in range(rooms)
            ]
            cpu0, wall0 = cpu_seconds(proc.pid), time.time()
            publishers = [
                subprocess.Popen(
                    ["ffmpeg", "-v", "error", "-re", "-i", str(SAMPLE), "-c", "copy", "-f", "flv", r["rtmp_url"]]
                )
                for r in created
            ]
            for publisher in publishers:
                publisher.wait()
            while not all(settled(base, r["id"]) for r in created):
                time.sleep(1.0)
            cpu, wall = cpu_seconds(proc.pid) - cpu0, time.time() - wall0
            clips = [c for r in created for c in call(f"{base}/api/clips?room={r['id']}")]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=300)
    latencies = sorted(c["latency_s"] for c in clips if c["status"] == "ready")
    return {
        "rooms": rooms,
        "clips": len(latencies),
        "failed": sum(c["status"] != "ready" for c in clips),
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "max": latencies[-1],
        "cpu_percent_of_machine": 100 * cpu / wall / os.cpu_count(),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 2, 4], help="room counts to run, one run each")
    parser.add_argument("--config-extra", default="", help="TOML text appended to the server's config")
    args = parser.parse_args()
    print(f"{'rooms':>5} {'clips':>5} {'failed':>6} {'p50 s':>6} {'p95 s':>6} {'max s':>6} {'cpu %':>6} {'wall s':>7}")
    for rooms in args.rooms:
        r = run(rooms, args.config_extra)
        print(
            f"{r['rooms']:5d} {r['clips']:5d} {r['failed']:6d} {r['p50']:6.1f} {r['p95']:6.1f} {r['max']:6.1f} "
            f"{r['cpu_percent_of_machine']:6.0f} {r['wall_s']:7.0f}"
        )


if __name__ == "__main__":
    main()
