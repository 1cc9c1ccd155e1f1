"""Ingest survives bad media (issue 11, finding 2): a corrupt packet is skipped and counted and the
recording goes on; a stream that cannot go on (a codec change mid-stream) ends the session with the
reason, leaves the room `reconnecting`, not `live`, and disconnects the publisher so it reconnects.

The corruption is the one filed: the payloads of the H.264 frames between two times are overwritten
with random bytes, timestamps intact (so the AVC NAL lengths are garbage and the MPEG-TS muxer's
bitstream filter refuses them). A real ffmpeg publisher sends it to the real RtmpServer and
RoomManager; the store is SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from pathlib import Path

import av
import pytest
from support import lavfi_flv

from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.rooms import RoomManager
from livecut.runtime.services import LiveServices
from livecut.store import MetadataStore
from stream.ingest import IngestSession
from stream.media_store import LocalMediaStore
from stream.rtmp import RtmpServer, amf0
from stream.rtmp.protocol import COMMAND_AMF0, Message, encode_message

DURATION_S = 8
TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT, AVC_NALU, SOUND_MP3 = 8, 9, 18, 1, 2


def corrupt_video(source: Path, target: Path, from_ms: int, to_ms: int, seed: int = 5) -> int:
    """Overwrite the NAL data of the FLV's H.264 frames in [from_ms, to_ms) with random bytes."""
    noise = random.Random(seed)
    data = bytearray(source.read_bytes())
    pos, corrupted = 9 + 4, 0  # FLV header, PreviousTagSize0
    while pos + 11 <= len(data):
        kind, size = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "big")
        stamp = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        body = pos + 11
        if kind == TAG_VIDEO and from_ms <= stamp < to_ms and data[body + 1] == AVC_NALU:
            data[body + 5 : body + size] = noise.randbytes(size - 5)  # keep frame type, packet type, cts
            corrupted += 1
        pos = body + size + 4
    target.write_bytes(bytes(data))
    return corrupted


@pytest.fixture(scope="module")
def broken_flv(tmp_path_factory) -> tuple[Path, int]:
    folder = tmp_path_factory.mktemp("corrupt")
    clean = lavfi_flv(folder / "clean.flv", DURATION_S, gop_frames=25, tone_hz=440)
    broken = folder / "broken.flv"
    return broken, corrupt_video(clean, broken, 3000, 5000)


def publish_to_a_room(tmp_path: Path, flv: Path) -> tuple[MetadataStore, str, int]:
    store = MetadataStore(tmp_path / "livecut.db")
    services = LiveServices(load_config(), store, LocalMediaStore(tmp_path / "media"), MemoryBus())
    room = store.create_room("r", "push", tenant="default")

    async def scenario() -> int:
        manager = RoomManager(services, fragment_s=1.0)
        rtmp = RtmpServer("127.0.0.1", 0, manager.authorize, manager.on_stream)
        await rtmp.start()
        url = f"rtmp://127.0.0.1:{rtmp.port}/live/{room.stream_key}"
        publisher = await asyncio.create_subprocess_exec(
            *["ffmpeg", "-v", "error", "-nostdin", "-re", "-i", str(flv), "-c", "copy", "-f", "flv", url],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        code = await asyncio.wait_for(publisher.wait(), DURATION_S + 20)
        async with asyncio.timeout(10):
            while manager.sessions:
                await asyncio.sleep(0.05)
        await rtmp.stop()
        await manager.shutdown()
        return code

    return store, room.id, asyncio.run(scenario())


@pytest.mark.slow
def test_corrupt_frames_are_skipped_and_counted_and_the_recording_goes_on(tmp_path, broken_flv, caplog):
    flv, corrupted = broken_flv
    with caplog.at_level(logging.WARNING, logger="stream.ingest"):
        store, room, code = publish_to_a_room(tmp_path, flv)
    assert code == 0, "the publisher sent its whole stream"
    fragments = store.fragments(room)
    assert fragments[-1].t1 == pytest.approx(DURATION_S, abs=0.6), "recorded to the end, not to the corruption"
    assert all(a.t1 == pytest.approx(b.t0, abs=0.05) for a, b in zip(fragments, fragments[1:], strict=False))
    skipped = store.room_counters(room)["skipped_packets"]
    assert 0 < skipped <= corrupted
    assert "skipping corrupt video packet at 3." in caplog.text and "the recording goes on" in caplog.text
    assert "/tmp" not in caplog.text.split("skipping", 1)[1].splitlines()[0], "no temp path in the reason"
    with av.open(str(tmp_path / "media" / fragments[-1].uri)) as container:
        assert any(container.decode(video=0)), "the fragments after the corruption decode"


def switch_audio_codec(source: Path, target: Path, from_ms: int) -> None:
    """From `from_ms` on, the FLV's audio tags say MP3 instead of AAC (the payload is left as it was)."""
    data = bytearray(source.read_bytes())
    pos = 9 + 4
    while pos + 11 <= len(data):
        kind, size = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "big")
        stamp = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        if kind == TAG_AUDIO and stamp >= from_ms:
            data[pos + 11] = SOUND_MP3 << 4 | data[pos + 11] & 0x0F
        pos += 11 + size + 4
    target.write_bytes(bytes(data))


def flv_tags(data: bytes) -> list[tuple[int, int, bytes]]:
    """(tag type, timestamp ms, payload) of each tag of an FLV file."""
    tags, pos = [], 9 + 4
    while pos + 11 <= len(data):
        kind, size = data[pos], int.from_bytes(data[pos + 1 : pos + 4], "big")
        stamp = int.from_bytes(data[pos + 4 : pos + 7], "big") | data[pos + 7] << 24
        tags.append((kind, stamp, data[pos + 11 : pos + 11 + size]))
        pos += 11 + size + 4
    return tags


async def publish_raw(port: int, key: str, flv: Path, speed: float = 1.0) -> bool:
    """Publish an FLV's tags as RTMP messages, by hand and as they are (ffmpeg would drop a track that
    appears mid-file); True when the server closed the connection before the last tag was sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x03" + bytes(1536))
    await reader.readexactly(1 + 2 * 1536)
    writer.write(bytes(1536))

    def send(type_id: int, stream_id: int, stamp: int, payload: bytes, csid: int = 3) -> None:
        writer.write(encode_message(Message(type_id, stream_id, stamp, payload), csid, 128))

    send(COMMAND_AMF0, 0, 0, amf0.encode("connect", 1, {"app": "live", "tcUrl": f"rtmp://127.0.0.1:{port}/live"}))
    send(COMMAND_AMF0, 0, 0, amf0.encode("createStream", 2, None))
    send(COMMAND_AMF0, 1, 0, amf0.encode("publish", 0, None, key, "live"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    closed = asyncio.create_task(read_to_eof(reader))
    try:
        for kind, stamp, payload in flv_tags(flv.read_bytes()):
            await asyncio.sleep(max(0.0, started + stamp / 1000 / speed - loop.time()))
            if closed.done():
                return True
            send(kind, 1, stamp, payload, csid=4 if kind != TAG_SCRIPT else 5)
            await writer.drain()
        return False
    except ConnectionError:
        return True
    finally:
        writer.close()
        closed.cancel()


async def read_to_eof(reader: asyncio.StreamReader) -> None:
    """Takes the server's answers until it closes the connection."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass


@pytest.mark.slow
def test_a_codec_change_mid_stream_ends_the_session_and_drops_the_publisher(tmp_path, broken_flv, caplog):
    """Filed: a codec id changed mid-stream raised IndexError in the session task ("Task exception was
    never retrieved"), the room stayed `live` and the publisher went on sending."""
    switched = tmp_path / "switched.flv"
    switch_audio_codec(broken_flv[0].with_name("clean.flv"), switched, 5500)
    store = MetadataStore(tmp_path / "livecut.db")
    services = LiveServices(load_config(), store, LocalMediaStore(tmp_path / "media"), MemoryBus())
    room = store.create_room("r", "push", tenant="default")

    async def scenario() -> bool:
        manager = RoomManager(services, fragment_s=1.0)
        rtmp = RtmpServer("127.0.0.1", 0, manager.authorize, manager.on_stream)
        await rtmp.start()
        try:
            dropped = await publish_raw(rtmp.port, room.stream_key, switched)
            async with asyncio.timeout(10):
                while manager.sessions:
                    await asyncio.sleep(0.05)
            return dropped
        finally:
            await rtmp.stop()
            await manager.shutdown()

    with caplog.at_level(logging.WARNING):
        dropped = asyncio.run(scenario())
    assert dropped, "the publisher was disconnected (its encoder reconnects)"
    assert store.room(room.id).status == "ended"  # reconnecting until the shutdown ended it
    assert store.fragments(room.id)[-1].t1 == pytest.approx(5.5, abs=1.1), "recorded up to the change"
    assert "audio codec changed mid-stream (10 to 2); closing so the encoder reconnects" in caplog.text
    assert "never retrieved" not in caplog.text


class ListSink:
    """A RecordingSink that keeps what the session reports."""

    def __init__(self) -> None:
        self.fragments: list = []
        self.skips = 0

    def timeline(self) -> tuple[float, int]:
        return 0.0, 0

    def recorded(self) -> tuple[list, set]:
        return [], set()

    def fragment(self, fragment, discontinuity: bool, next_seq: int) -> None:  # noqa: ANN001
        self.fragments.append(fragment)

    def end(self, end) -> None:  # noqa: ANN001
        self.ended = end

    def skipped(self, count: int, reason: str) -> None:
        self.skips += count


def test_a_track_appearing_mid_file_ends_the_session_cleanly(tmp_path, broken_flv, caplog):
    """The same change read from a file (no RTMP in front to catch it): PyAV's demux raises IndexError
    for the stream it does not know; the session ends with what it recorded instead of crashing."""
    switched = tmp_path / "switched.flv"
    switch_audio_codec(broken_flv[0].with_name("clean.flv"), switched, 5500)
    sink = ListSink()
    session = IngestSession("r", LocalMediaStore(tmp_path / "media"), sink, 1.0, tmp_path)
    with caplog.at_level(logging.WARNING, logger="stream.ingest"), av.open(str(switched)) as container:
        session.run(container)
    assert sink.fragments and sink.ended.t == pytest.approx(sink.fragments[-1].t1)
    assert sink.fragments[-1].t1 == pytest.approx(DURATION_S, abs=0.6), "the known tracks were recorded"
    assert "a new track appeared mid-stream" in caplog.text
