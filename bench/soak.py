"""Soak: one room fed a looped sample for hours of media; memory must stay flat and no clip be lost.

Starts `livecut serve` (every role, one process) on free ports with a throwaway data folder,
creates a push room and publishes tests/fixtures/zh_live.mp4 looped with ffmpeg at --speed
times real time (-readrate) until --hours of media went in. Every --every-min minutes of media
it prints the RSS of each livecut process, the room's fragments, utterances and clips, and the
lag (media received minus media transcribed). At the end: the RSS trend over the second half
(MB per hour of media; flat is about 0), the clips per loop of the sample, and the clips that
failed.

    .venv/bin/python bench/soak.py                       # 2 h of media at 4x: about 30 min
    .venv/bin/python bench/soak.py --hours 0.5 --speed 8
    .venv/bin/python bench/soak.py --config-extra $'[ingest]\nsplit_s = 0.5\n'
"""

from __future__ import annotations

import argparse
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live import SAMPLE, call, start_cluster  # noqa: E402

from stream.file_source import probe  # noqa: E402

HEADER = f"{'media min':>9} {'RSS MB':>7} {'fragments':>9} {'utterances':>10} {'clips':>6} {'failed':>6} {'lag s':>7}"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def publisher(rtmp_url: str, loops: int, speed: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *("ffmpeg", "-v", "error", "-readrate", str(speed), "-stream_loop", str(loops - 1)),
            *("-i", str(SAMPLE), "-c", "copy", "-f", "flv", rtmp_url),
        ]
    )


def sample_row(base: str, room_id: str, procs: list[subprocess.Popen]) -> dict:
    room = call(f"{base}/api/rooms/{room_id}")
    utterances = call(f"{base}/api/rooms/{room_id}/utterances")
    return {
        "media_min": room["duration_s"] / 60,
        "rss": [rss_mb(p.pid) for p in procs],
        "fragments": room["counters"]["fragments"],
        "utterances": len(utterances),
        "clips": room["counters"]["clips"],
        "failed": room["counters"]["failed"],
        "lag_s": room["duration_s"] - room["processed_to"],
    }


def print_row(row: dict) -> None:
    rss = " ".join(f"{mb:7.0f}" for mb in row["rss"])
    print(
        f"{row['media_min']:9.1f} {rss} {row['fragments']:9d} {row['utterances']:10d} {row['clips']:6d} "
        f"{row['failed']:6d} {row['lag_s']:7.1f}",
        flush=True,
    )


def trend_mb_per_hour(rows: list[dict]) -> float:
    """Least-squares slope of the serve process's RSS over the second half of the run, per hour of media."""
    half = rows[len(rows) // 2 :]
    if len(half) < 2:
        return 0.0
    xs, ys = [r["media_min"] / 60 for r in half], [r["rss"][0] for r in half]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def settled(base: str, room_id: str) -> bool:
    room = call(f"{base}/api/rooms/{room_id}")
    return (
        room["status"] != "live"
        and room["processed_to"] >= room["duration_s"] - 0.01
        and not room["counters"]["rendering"]
    )


def soak(hours: float, speed: float, every_min: float, config_extra: str = "") -> list[dict]:
    sample_s = probe(SAMPLE).duration or 0.0
    loops = max(1, round(hours * 3600 / sample_s))
    with tempfile.TemporaryDirectory(prefix="livecut-soak-") as scratch:
        procs, base = start_cluster(Path(scratch), config_extra, 0, {})
        try:
            room = call(f"{base}/api/rooms", {"name": f"soak {secrets.token_hex(2)}", "source": {"type": "push"}})
            print(f"{loops} loops of {SAMPLE.name} ({sample_s:.1f} s) at {speed}x real time")
            print(HEADER)
            rows = [sample_row(base, room["id"], procs)]
            print_row(rows[-1])
            feed = publisher(room["rtmp_url"], loops, speed)
            next_at = every_min
            while feed.poll() is None or not settled(base, room["id"]):
                time.sleep(2.0)
                row = sample_row(base, room["id"], procs)
                if row["media_min"] >= next_at or (feed.poll() is not None and settled(base, room["id"])):
                    rows.append(row)
                    print_row(row)
                    next_at += every_min
            rows.append(sample_row(base, room["id"], procs))
            print_row(rows[-1])
            return rows
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            for proc in procs:
                proc.wait(timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=2.0, help="hours of media to publish")
    parser.add_argument("--speed", type=float, default=4.0, help="publishing speed, times real time")
    parser.add_argument("--every-min", type=float, default=10.0, help="a row every this many minutes of media")
    parser.add_argument("--config-extra", default="", help="TOML text appended to the server's config")
    args = parser.parse_args()
    rows = soak(args.hours, args.speed, args.every_min, args.config_extra)
    sample_s = probe(SAMPLE).duration or 0.0
    loops = rows[-1]["media_min"] * 60 / sample_s
    print(f"RSS trend over the second half: {trend_mb_per_hour(rows):+.1f} MB per hour of media")
    clips, failed = rows[-1]["clips"], rows[-1]["failed"]
    print(f"clips: {clips} in {loops:.1f} loops ({clips / loops:.2f} per loop); failed: {failed}")


if __name__ == "__main__":
    main()
