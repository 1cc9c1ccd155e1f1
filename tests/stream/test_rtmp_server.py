"""The RTMP ingest endpoint end to end: a real ffmpeg publisher, a PyAV demuxer thread per room.

pytest-asyncio is not a dependency, so each test drives its own loop with asyncio.run.
"""

from __future__ import annotations

import asyncio
import logging
import random
import subprocess
import threading
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import pytest

from stream.rtmp import FlvStream, RtmpLimits, RtmpServer

DURATION_S = 5.0
KEYS = {"key-a": "room-a", "key-b": "room-b"}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    """Two 5 s FLV files (H.264 with a 2 s GOP + AAC): room A hums 440 Hz, room B 1000 Hz."""
    folder = tmp_path_factory.mktemp("rtmp")
    return {name: _make_input(folder / f"{name}.flv", hz) for name, hz in (("a", 440), ("b", 1000))}


def _make_input(path: Path, hz: int) -> Path:
    video = "testsrc2=size=320x180:rate=30"
    audio = f"sine=frequency={hz}:sample_rate=44100"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", audio]
        + ["-t", str(DURATION_S), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        + ["-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-c:a", "aac", "-f", "flv", str(path)],
        check=True,
    )
    return path


@dataclass
class Received:
    """What a demuxer thread got from one FlvStream."""

    room: str
    stream: FlvStream
    codecs: set[str] = field(default_factory=set)
    packets: Counter = field(default_factory=Counter)
    start: float = float("inf")
    end: float = 0.0
    audio: list[np.ndarray] = field(default_factory=list)
    sample_rate: int = 0
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def demux(self) -> None:
        try:
            with av.open(self.stream, format="flv") as container:
                self.codecs = {s.codec_context.name for s in container.streams}
                for packet in container.demux():
                    self._take(packet)
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished.set()

    def _take(self, packet: av.Packet) -> None:
        if packet.pts is None:
            return
        self.packets[packet.stream.type] += 1
        self.start = min(self.start, float(packet.pts * packet.time_base))
        self.end = max(self.end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if packet.stream.type == "audio":
            for frame in packet.decode():
                self.sample_rate = frame.sample_rate
                self.audio.append(frame.to_ndarray()[0])

    @property
    def duration(self) -> float:
        return self.end - self.start

    def dominant_hz(self) -> float:
        samples = np.concatenate(self.audio)
        spectrum = np.abs(np.fft.rfft(samples))
        return float(np.argmax(spectrum) * self.sample_rate / len(samples))

    def rms(self) -> float:
        return float(np.sqrt(np.mean(np.concatenate(self.audio) ** 2)))


class Consumer:
    """An on_stream that demuxes each stream in a worker thread until EOF, as the pipeline will."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def __call__(self, room: str, stream: FlvStream) -> None:
        received = Received(room, stream)
        self.received.append(received)
        await asyncio.to_thread(received.demux)


async def authorize(app: str, key: str) -> str | None:
    return KEYS.get(key) if app == "live" else None


@asynccontextmanager
async def serving(on_stream, **options):
    server = RtmpServer("127.0.0.1", 0, authorize, on_stream, RtmpLimits(**options))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def publish(server: RtmpServer, path: Path, key: str, realtime: bool = False):
    pace = ["-re"] if realtime else []
    url = f"rtmp://127.0.0.1:{server.port}/live/{key}"
    return await asyncio.create_subprocess_exec(
        *["ffmpeg", "-v", "error", "-nostdin", *pace, "-i", str(path), "-c", "copy", "-f", "flv", url],
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def finished(process, timeout: float = 15.0) -> int:
    return await asyncio.wait_for(process.wait(), timeout)


async def wait_until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def run(coro) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(45):
            await coro

    asyncio.run(bounded())


def assert_complete(received: Received, hz: float) -> None:
    assert received.error is None
    assert received.codecs == {"h264", "aac"}
    assert received.packets["video"] > 0 and received.packets["audio"] > 0
    assert received.duration == pytest.approx(DURATION_S, abs=0.3)
    assert received.rms() > 0.03
    assert received.dominant_hz() == pytest.approx(hz, abs=10)


def test_accepted_publish_reaches_a_pyav_demuxer(media):
    async def scenario():
        consumer = Consumer()
        async with serving(consumer) as server:
            assert await finished(await publish(server, media["a"], "key-a")) == 0
            await wait_until(lambda: consumer.received and consumer.received[0].finished.is_set())
        [received] = consumer.received
        assert received.room == "room-a"
        assert_complete(received, 440)

    run(scenario())


def test_wrong_key_is_refused(media, caplog):
    async def scenario():
        consumer = Consumer()
        async with serving(consumer) as server:
            assert await finished(await publish(server, media["a"], "not-a-key")) != 0
            assert not server.active_rooms
        assert consumer.received == []

    with caplog.at_level(logging.WARNING, logger="stream.rtmp"):
        run(scenario())
    assert "refused publish" in caplog.text and "unknown stream key" in caplog.text
    assert "not-a-key" not in caplog.text  # keys are secrets: only a masked prefix is logged


def test_two_rooms_publish_at_once_on_one_port(media):
    async def scenario():
        consumer = Consumer()
        async with serving(consumer) as server:
            a = await publish(server, media["a"], "key-a", realtime=True)
            b = await publish(server, media["b"], "key-b", realtime=True)
            await wait_until(lambda: server.active_rooms == {"room-a", "room-b"})
            assert [await finished(a), await finished(b)] == [0, 0]
            await wait_until(lambda: all(r.finished.is_set() for r in consumer.received))
        by_room = {r.room: r for r in consumer.received}
        assert set(by_room) == {"room-a", "room-b"}
        assert_complete(by_room["room-a"], 440)
        assert_complete(by_room["room-b"], 1000)

    run(scenario())


def test_second_publisher_on_a_live_room_is_refused(media, caplog):
    async def scenario():
        consumer = Consumer()
        async with serving(consumer) as server:
            first = await publish(server, media["a"], "key-a", realtime=True)
            await wait_until(lambda: "room-a" in server.active_rooms)
            assert await finished(await publish(server, media["b"], "key-a")) != 0
            assert server.active_rooms == {"room-a"}
            assert await finished(first) == 0
            await wait_until(lambda: consumer.received[0].finished.is_set())
        [received] = consumer.received
        assert_complete(received, 440)

    with caplog.at_level(logging.WARNING, logger="stream.rtmp"):
        run(scenario())
    assert "already has a publisher" in caplog.text


def test_disconnect_gives_eof_and_the_same_key_gets_a_new_stream(media):
    async def scenario():
        consumer = Consumer()
        async with serving(consumer) as server:
            for expected_calls in (1, 2):
                assert await finished(await publish(server, media["a"], "key-a")) == 0
                await wait_until(lambda n=expected_calls: len(consumer.received) == n)
                await wait_until(lambda: consumer.received[-1].finished.is_set())
                await wait_until(lambda: not server.active_rooms)
        first, second = consumer.received
        assert first.room == second.room == "room-a" and first.stream is not second.stream
        for received in consumer.received:
            assert_complete(received, 440)

    run(scenario())


def test_stop_with_a_publisher_connected(media):
    async def scenario():
        consumer = Consumer()
        server = RtmpServer("127.0.0.1", 0, authorize, consumer)
        await server.start()
        port = server.port
        publisher = await publish(server, media["a"], "key-a", realtime=True)
        await wait_until(lambda: consumer.received and consumer.received[0].packets["video"] > 10)
        await server.stop()
        received = consumer.received[0]
        assert received.finished.is_set() and received.error is None  # EOF, not an error
        assert 0 < received.duration < DURATION_S - 1
        assert not server.active_rooms
        await finished(publisher)
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        again = RtmpServer("127.0.0.1", port, authorize, consumer)
        await again.start()  # the port is free again
        await again.stop()

    run(scenario())


def test_garbage_is_disconnected_and_the_server_keeps_serving(media):
    async def scenario():
        consumer = Consumer()
        async with serving(consumer, handshake_timeout_s=1.0, publish_timeout_s=1.0) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
            assert await asyncio.wait_for(reader.read(), 3) == b""
            writer.close()
            await _send_handshake_then_junk(server.port)
            assert await finished(await publish(server, media["a"], "key-a")) == 0
            await wait_until(lambda: consumer.received and consumer.received[0].finished.is_set())
        assert_complete(consumer.received[0], 440)

    run(scenario())


async def _send_handshake_then_junk(port: int) -> None:
    """A peer that passes the handshake, then sends noise: the server closes on it."""
    noise = random.Random(7)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x03" + noise.randbytes(1536))
    await reader.readexactly(1 + 2 * 1536)
    writer.write(noise.randbytes(1536) + noise.randbytes(4096))
    assert await asyncio.wait_for(reader.read(), 3) == b""
    writer.close()


def test_a_reader_that_falls_behind_costs_the_publisher_its_connection(media, caplog):
    streams: list[FlvStream] = []

    async def never_read(room: str, stream: FlvStream) -> None:
        streams.append(stream)

    async def scenario():
        async with serving(never_read, stream_buffer_bytes=64 << 10) as server:
            await finished(await publish(server, media["a"], "key-a"))
            await wait_until(lambda: streams and streams[0].closed and not server.active_rooms)
        assert streams[0].buffered <= 64 << 10

    with caplog.at_level(logging.ERROR, logger="stream.rtmp"):
        run(scenario())
    assert "fell behind" in caplog.text


def test_a_failing_on_stream_drops_its_publisher(media, caplog):
    async def broken(room: str, stream: FlvStream) -> None:
        raise RuntimeError("pipeline is down")

    async def scenario():
        async with serving(broken) as server:
            assert await finished(await publish(server, media["a"], "key-a", realtime=True)) != 0
            assert not server.active_rooms

    with caplog.at_level(logging.ERROR, logger="stream.rtmp"):
        run(scenario())
    assert "on_stream for room room-a failed; dropping its publisher" in caplog.text
