"""The RTMP endpoint's resource limits against raw probes written here (issue 11, finding 4).

Each probe speaks just enough RTMP by hand (handshake, chunk headers, AMF0 commands) to
reach the limit it attacks: a huge unfinished message before publishing, control messages
that try to keep a stranger's connection open, a silent publisher, a flood of connections,
and publishers that together exceed the server's memory budget.
"""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest

from stream.rtmp import RtmpLimits, RtmpServer, amf0
from stream.rtmp.protocol import AUDIO, COMMAND_AMF0, USER_CONTROL, Message, encode_message

KEY, ROOM = "limit-key", "room-limits"


async def authorize(app: str, key: str) -> str | None:
    return ROOM + key.removeprefix(KEY) if key.startswith(KEY) and app == "live" else None


async def reader_task(room: str, stream) -> None:
    """Reads each stream to EOF, as the pipeline does (in a thread)."""
    await asyncio.to_thread(stream.read)


class RawPeer:
    """A hand-driven RTMP client: only the bytes each test needs."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, handshake: bool = True) -> RawPeer:
        peer = cls(*await asyncio.open_connection("127.0.0.1", port))
        if handshake:
            peer.writer.write(b"\x03" + bytes(1536))
            await peer.reader.readexactly(1 + 2 * 1536)
            peer.writer.write(bytes(1536))
        return peer

    def send(self, type_id: int, payload: bytes, stream_id: int = 0, csid: int = 3, timestamp: int = 0) -> None:
        self.writer.write(encode_message(Message(type_id, stream_id, timestamp, payload), csid, 128))

    def command(self, *values, stream_id: int = 0) -> None:
        self.send(COMMAND_AMF0, amf0.encode(*values), stream_id)

    async def publish(self, key: str) -> None:
        self.command("connect", 1, {"app": "live", "tcUrl": "rtmp://127.0.0.1/live"})
        self.command("createStream", 2, None)
        self.command("publish", 0, None, key, "live", stream_id=1)
        await self.writer.drain()

    def ping(self) -> None:
        self.send(USER_CONTROL, struct.pack(">HI", 6, 1234), csid=2)

    def start_message(self, length: int, type_id: int = AUDIO, csid: int = 4) -> None:
        """A type-0 chunk header announcing `length` bytes, and only the first chunk of the body."""
        header = bytes([csid]) + bytes(3) + length.to_bytes(3, "big") + bytes([type_id]) + (1).to_bytes(4, "little")
        self.writer.write(header + b"\xaf" * min(128, length))

    async def closed_by_server(self, within: float) -> bool:
        """True when the server closes the connection within `within` seconds (whatever it sent first)."""
        try:
            async with asyncio.timeout(within):
                while await self.reader.read(65536):
                    pass
            return True
        except TimeoutError:
            return False
        except ConnectionError:
            return True

    def close(self) -> None:
        self.writer.close()


def serve(scenario, caplog, **limits) -> None:
    async def main() -> None:
        server = RtmpServer("127.0.0.1", 0, authorize, reader_task, RtmpLimits(**limits))
        await server.start()
        try:
            async with asyncio.timeout(30):
                await scenario(server)
        finally:
            await server.stop()
        assert server.budget.used == 0, "every reserved byte is given back once the connections are gone"

    with caplog.at_level(logging.INFO, logger="stream.rtmp"):
        asyncio.run(main())


async def wait_until(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def test_a_huge_message_before_publish_is_refused_from_its_header(caplog):
    """The attack: handshake, never publish, announce a (16 MiB - 1) message and trickle it. Refused at
    its header, so ten such peers cost the server nothing."""

    async def scenario(server: RtmpServer) -> None:
        peers = [await RawPeer.open(server.port) for _ in range(10)]
        for peer in peers:
            peer.start_message(0xFFFFFF)  # the largest a header can announce
        assert all([await peer.closed_by_server(3.0) for peer in peers])
        assert server.budget.used == 0
        await wait_until(lambda: not server._connections)

    serve(scenario, caplog)
    assert caplog.text.count("before publishing: limit reached") == 10
    assert "over this connection's limit of 8192" in caplog.text


def test_commands_of_a_real_publisher_fit_the_pre_publish_budget(caplog):
    async def scenario(server: RtmpServer) -> None:
        peer = await RawPeer.open(server.port)
        await peer.publish(KEY)
        await wait_until(lambda: ROOM in server.active_rooms)
        peer.close()

    serve(scenario, caplog, pre_publish_bytes=1024)


def test_pings_do_not_keep_a_connection_that_never_publishes_open(caplog):
    async def scenario(server: RtmpServer) -> None:
        peer = await RawPeer.open(server.port)
        peer.command("connect", 1, {"app": "live"})
        loop = asyncio.get_running_loop()
        started = loop.time()
        while loop.time() - started < 3.0 and not peer.reader.at_eof():
            peer.ping()
            await asyncio.sleep(0.1)
            if await peer.closed_by_server(0.1):
                break
        assert 0.9 < loop.time() - started < 2.5

    serve(scenario, caplog, publish_timeout_s=1.0)
    assert "no publish within 1 s of connecting (rtmp.publish_timeout_s)" in caplog.text


def test_a_publisher_that_sends_only_pings_times_out_as_idle(caplog):
    async def scenario(server: RtmpServer) -> None:
        peer = await RawPeer.open(server.port)
        await peer.publish(KEY)
        await wait_until(lambda: ROOM in server.active_rooms)
        for n in range(4):  # media keeps it open past the publish deadline...
            peer.send(AUDIO, b"\xaf\x01" + bytes(20), stream_id=1, csid=4, timestamp=n * 23)
            await asyncio.sleep(0.3)
        assert not await peer.closed_by_server(0.05)
        for _ in range(20):  # ...pings do not
            peer.ping()
            if await peer.closed_by_server(0.1):
                break
        assert not server.active_rooms

    serve(scenario, caplog, publish_timeout_s=0.6, idle_timeout_s=0.6)
    assert "no media for 0.6 s (rtmp.idle_timeout_s)" in caplog.text


def test_a_peer_that_never_finishes_the_handshake_is_closed(caplog):
    async def scenario(server: RtmpServer) -> None:
        peer = await RawPeer.open(server.port, handshake=False)
        peer.writer.write(b"\x03" + bytes(100))
        assert await peer.closed_by_server(2.0)

    serve(scenario, caplog, handshake_timeout_s=0.5)
    assert "no RTMP handshake within 0.5 s" in caplog.text


def test_connections_past_the_cap_are_closed_at_once(caplog):
    async def scenario(server: RtmpServer) -> None:
        held = [await RawPeer.open(server.port) for _ in range(3)]
        extra = [await RawPeer.open(server.port, handshake=False) for _ in range(5)]
        assert all([await peer.closed_by_server(1.0) for peer in extra])
        assert server.refused_connections == 5 and len(server._connections) == 3
        held[0].close()
        await wait_until(lambda: len(server._connections) == 2)
        publisher = await RawPeer.open(server.port)  # a place freed: a real publisher gets in
        await publisher.publish(KEY)
        await wait_until(lambda: ROOM in server.active_rooms)

    serve(scenario, caplog, max_connections=3)
    assert "connection cap reached (3 open, rtmp.max_connections): refused 1 connection(s)" in caplog.text
    assert caplog.text.count("connection cap reached") == 1  # a flood logs one line per interval


def test_a_publisher_past_its_own_message_budget_is_dropped(caplog):
    async def scenario(server: RtmpServer) -> None:
        peer = await RawPeer.open(server.port)
        await peer.publish(KEY)
        await wait_until(lambda: ROOM in server.active_rooms)
        peer.start_message(1 << 20)
        assert await peer.closed_by_server(2.0)
        assert not server.active_rooms

    serve(scenario, caplog, message_bytes=256 << 10)
    assert f"room {ROOM}: limit reached" in caplog.text and "limit of 262144" in caplog.text


def test_publishers_together_cannot_exceed_the_server_budget(caplog):
    async def scenario(server: RtmpServer) -> None:
        first, second = await RawPeer.open(server.port), await RawPeer.open(server.port)
        await first.publish(KEY + "-1")
        await second.publish(KEY + "-2")
        await wait_until(lambda: len(server.active_rooms) == 2)
        first.start_message(60 << 10)
        await wait_until(lambda: server.budget.used >= 60 << 10)
        second.start_message(60 << 10)
        assert await second.closed_by_server(2.0)
        assert server.active_rooms == {ROOM + "-1"}
        first.close()
        await wait_until(lambda: server.budget.used == 0 and not server.active_rooms)

    serve(scenario, caplog, total_bytes=100 << 10, message_bytes=80 << 10)
    assert f"room {ROOM}-2: limit reached, closing: server memory budget exhausted" in caplog.text


def test_a_limit_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="idle_timeout_s must be positive"):
        RtmpLimits(idle_timeout_s=0)


def media(peer: RawPeer, n: int) -> None:
    peer.send(AUDIO, b"\xaf\x01" + bytes(20), stream_id=1, csid=4, timestamp=n * 23)


def test_a_silent_publisher_gives_way_to_one_returning_with_its_key(caplog):
    """Finding 6: a publisher frozen half-open (no FIN) held its room until the idle timeout."""

    async def scenario(server: RtmpServer) -> None:
        frozen = await RawPeer.open(server.port)
        await frozen.publish(KEY)
        await wait_until(lambda: ROOM in server.active_rooms)
        media(frozen, 0)
        await frozen.writer.drain()
        await asyncio.sleep(0.5)  # then nothing: the connection stays open but never sends again
        returning = await RawPeer.open(server.port)
        await returning.publish(KEY)
        assert await frozen.closed_by_server(2.0), "the stale connection is dropped"
        for n in range(1, 5):
            media(returning, n)
        assert not await returning.closed_by_server(0.3), "the returning publisher is in"
        assert ROOM in server.active_rooms
        returning.close()

    serve(scenario, caplog, stale_publisher_s=0.4)
    assert "replacing its publisher" in caplog.text and "rtmp.stale_publisher_s" in caplog.text


def test_a_second_encoder_cannot_take_a_room_whose_publisher_still_sends(caplog):
    async def scenario(server: RtmpServer) -> None:
        first = await RawPeer.open(server.port)
        await first.publish(KEY)
        await wait_until(lambda: ROOM in server.active_rooms)
        second = await RawPeer.open(server.port)
        for n in range(10):
            media(first, n)
            await first.writer.drain()
            if n == 3:
                await second.publish(KEY)
            await asyncio.sleep(0.05)
        assert await second.closed_by_server(2.0)
        assert not await first.closed_by_server(0.1)
        first.close()

    serve(scenario, caplog, stale_publisher_s=1.0)
    assert "already has a publisher (media 0." in caplog.text
