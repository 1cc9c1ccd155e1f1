"""RTMP ingest endurance: a long OBS-like publish through the server into a PyAV demuxer thread.

ffmpeg encodes a synthetic broadcast (testsrc2 + sine, H.264 with B-frames and a fixed
2 s GOP, AAC stereo 48 kHz, about 1.6 Mbit/s) and pushes it as fast as it can encode,
not in real time, to an RtmpServer in this process. A worker thread demuxes the room's
FlvStream with PyAV and decodes every packet. The report says how much media arrived,
how far the audio and video clocks ended from the expected duration, whether any packet
was lost, out of order or undecodable, and whether the process memory stayed flat
(RSS sampled every 2 s; it includes the demuxer thread's decoders).

    .venv/bin/python bench/rtmp_soak.py [--minutes 30] [--no-video-decode]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import av

from stream.rtmp import FlvStream, RtmpServer

FPS = 30
SAMPLE_RATE = 48_000
AAC_FRAME = 1024
KEY = "soak-key"
ROOM = "soak-room"


@dataclass
class Tally:
    """What the demuxer thread saw; written by that thread, read by the sampler."""

    decode_video: bool
    packets: Counter = field(default_factory=Counter)
    decoded: Counter = field(default_factory=Counter)
    gaps: Counter = field(default_factory=Counter)
    backwards: Counter = field(default_factory=Counter)
    start: dict[str, float] = field(default_factory=dict)
    end: dict[str, float] = field(default_factory=dict)
    audio_samples: int = 0
    decode_errors: int = 0
    error: BaseException | None = None
    stream: FlvStream | None = None
    done: threading.Event = field(default_factory=threading.Event)
    _last_dts: dict[str, int] = field(default_factory=dict)

    @property
    def media_s(self) -> float:
        return max(self.end.values(), default=0.0) - min(self.start.values(), default=0.0)

    def demux(self, stream: FlvStream) -> None:
        self.stream = stream
        try:
            with av.open(stream, format="flv") as container:
                for packet in container.demux():
                    self._take(packet)
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()

    def _take(self, packet: av.Packet) -> None:
        kind = packet.stream.type
        if packet.pts is None:  # the end-of-stream packet: flush the decoder's delayed frames
            self._decode(kind, packet)
            return
        self.packets[kind] += 1
        self._check_order(kind, packet)
        begin = float(packet.pts * packet.time_base)
        finish = begin + float((packet.duration or 0) * packet.time_base)
        self.start[kind] = min(self.start.get(kind, begin), begin)
        self.end[kind] = max(self.end.get(kind, 0.0), finish)
        if kind == "audio" or self.decode_video:
            self._decode(kind, packet)

    def _check_order(self, kind: str, packet: av.Packet) -> None:
        last = self._last_dts.get(kind)
        step_ms = 1000 / FPS if kind == "video" else 1000 * AAC_FRAME / SAMPLE_RATE
        if last is not None and packet.dts <= last:
            self.backwards[kind] += 1
        elif last is not None and packet.dts - last > 1.5 * step_ms:
            self.gaps[kind] += 1
        self._last_dts[kind] = packet.dts

    def _decode(self, kind: str, packet: av.Packet) -> None:
        try:
            for frame in packet.decode():
                self.decoded[kind] += 1
                if kind == "audio":
                    self.audio_samples += frame.samples
        except av.FFmpegError:
            self.decode_errors += 1


@dataclass
class Sample:
    wall_s: float
    media_s: float
    rss_mb: float
    buffered: int


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class LogCounter(logging.Handler):
    """Counts the server's warnings and errors during the run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


def publisher_command(url: str, seconds: float) -> list[str]:
    video = f"testsrc2=size=640x360:rate={FPS}"
    audio = f"sine=frequency=440:sample_rate={SAMPLE_RATE}"
    encode = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "1500k", "-maxrate", "1500k"]
    encode += ["-bufsize", "3000k", "-bf", "2", "-pix_fmt", "yuv420p"]
    encode += ["-g", str(2 * FPS), "-keyint_min", str(2 * FPS), "-sc_threshold", "0"]
    encode += ["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", str(SAMPLE_RATE)]
    inputs = ["-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio, "-t", str(seconds)]
    return ["nice", "-n", "10", "ffmpeg", "-v", "error", "-nostdin", *inputs, *encode, "-f", "flv", url]


async def sample_until_done(tally: Tally, started: float, samples: list[Sample]) -> None:
    while not tally.done.is_set():
        buffered = tally.stream.buffered if tally.stream else 0
        samples.append(Sample(time.perf_counter() - started, tally.media_s, rss_mb(), buffered))
        await asyncio.sleep(2.0)
    samples.append(Sample(time.perf_counter() - started, tally.media_s, rss_mb(), 0))


@dataclass
class Run:
    """The publish as a whole: the tally of what arrived, the memory samples, the clock."""

    tally: Tally
    samples: list[Sample]
    expected_s: float
    wall_s: float = 0.0
    exit_code: int | None = None
    baseline_rss_mb: float = 0.0


async def soak(seconds: float, decode_video: bool) -> Run:
    run = Run(Tally(decode_video=decode_video), [], seconds)

    async def authorize(app: str, key: str) -> str | None:
        return ROOM if key == KEY else None

    async def on_stream(room: str, stream: FlvStream) -> None:
        await asyncio.to_thread(run.tally.demux, stream)

    server = RtmpServer("127.0.0.1", 0, authorize, on_stream)
    await server.start()
    run.baseline_rss_mb = rss_mb()
    started = time.perf_counter()
    url = f"rtmp://127.0.0.1:{server.port}/live/{KEY}"
    process = await asyncio.create_subprocess_exec(*publisher_command(url, seconds))
    sampler = asyncio.create_task(sample_until_done(run.tally, started, run.samples))
    run.exit_code = await process.wait()
    await asyncio.wait_for(sampler, 120)
    run.wall_s = time.perf_counter() - started
    await server.stop()
    return run


def at_fraction(run: Run, fraction: float) -> Sample:
    """The first memory sample taken once `fraction` of the media had arrived."""
    return next((s for s in run.samples if s.media_s >= fraction * run.expected_s), run.samples[-1])


def timing_rows(run: Run) -> list[tuple[str, object]]:
    tally, expected = run.tally, run.expected_s
    received_mb = (tally.stream.bytes_written if tally.stream else 0) / 1e6
    speed = f"{tally.media_s / run.wall_s:.1f}x real time, {received_mb / run.wall_s:.1f} MB/s"
    rows: list[tuple[str, object]] = [
        ("publisher exit code", run.exit_code),
        ("demuxer error", repr(tally.error) if tally.error else "none"),
        ("media expected s", f"{expected:.3f}"),
        ("media received s", f"{tally.media_s:.3f}"),
        ("wall s", f"{run.wall_s:.1f}  ({speed})"),
        ("FLV bytes received MB", f"{received_mb:.1f}"),
    ]
    for kind in ("video", "audio"):
        end = tally.end.get(kind, 0.0)
        rows.append((f"last {kind} pts end s", f"{end:.3f}  ({end - expected:+.3f} vs expected)"))
        rows.append((f"first {kind} pts s", f"{tally.start.get(kind, 0.0):.3f}"))
    video_content = tally.packets["video"] / FPS
    audio_content = tally.audio_samples / SAMPLE_RATE
    rows.append(("video drift: pts span - frames/fps s", f"{_span(tally, 'video') - video_content:+.3f}"))
    rows.append(("audio drift: pts span - samples/rate s", f"{_span(tally, 'audio') - audio_content:+.3f}"))
    return rows


def _span(tally: Tally, kind: str) -> float:
    return tally.end.get(kind, 0.0) - tally.start.get(kind, 0.0)


def packet_rows(run: Run) -> list[tuple[str, object]]:
    tally, expected = run.tally, run.expected_s
    return [
        ("video packets demuxed/decoded", f"{tally.packets['video']}/{tally.decoded['video']}"),
        ("video frames expected", round(expected * FPS)),
        ("audio packets demuxed/decoded", f"{tally.packets['audio']}/{tally.decoded['audio']}"),
        ("audio frames expected (+1 priming)", math.ceil(expected * SAMPLE_RATE / AAC_FRAME)),
        ("audio samples decoded s", f"{tally.audio_samples / SAMPLE_RATE:.3f}"),
        ("timestamp gaps v/a", f"{tally.gaps['video']}/{tally.gaps['audio']}"),
        ("dts not increasing v/a", f"{tally.backwards['video']}/{tally.backwards['audio']}"),
        ("decode errors", tally.decode_errors),
    ]


def memory_rows(run: Run) -> list[tuple[str, object]]:
    start, middle, end = (at_fraction(run, f).rss_mb for f in (0.02, 0.5, 1.0))
    peak = max(s.rss_mb for s in run.samples)
    return [
        ("RSS MB baseline/start/middle/end", f"{run.baseline_rss_mb:.1f}/{start:.1f}/{middle:.1f}/{end:.1f}"),
        ("RSS MB max", f"{peak:.1f}  (growth start->end {end - start:+.1f})"),
        ("FLV pipe max buffered KB", f"{max(s.buffered for s in run.samples) / 1024:.0f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="media duration to publish")
    parser.add_argument("--no-video-decode", action="store_true", help="demux video without decoding it")
    args = parser.parse_args()
    logs = LogCounter()
    logging.getLogger("stream.rtmp").addHandler(logs)
    run = asyncio.run(soak(args.minutes * 60, not args.no_video_decode))
    for label, value in timing_rows(run) + packet_rows(run) + memory_rows(run):
        print(f"{label:40} {value}")
    print(f"{'server warnings/errors':40} {len(logs.records)}")
    for record in logs.records:
        print(f"  {record}")


if __name__ == "__main__":
    main()
