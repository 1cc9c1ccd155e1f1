"""The RTMP wire format: handshake, chunk stream (both directions) and message types.

Written for this project instead of taken from `pyrtmp` because pyrtmp's chunk parser
gets timestamps wrong: a type-3 chunk header that starts a new message must add the
previous timestamp delta (RTMP 1.0, 5.3.1.2.4), and pyrtmp repeats the previous
timestamp instead. ffmpeg (and so most encoders built on it) sends exactly such headers
for equal-sized audio frames, so with pyrtmp the audio clock fell behind video by about
1.3 s per minute of media. It also mishandles extended timestamps on type 1-3 headers
(a break after 4.66 hours on air) and parses byte by byte through `bitstring`. The
reader here works on whole byte strings from `StreamReader.readexactly`.
"""

from __future__ import annotations

import asyncio
import os
import struct
from dataclasses import dataclass

from .limits import LimitExceeded, MemoryBudget

SET_CHUNK_SIZE, ABORT, ACKNOWLEDGEMENT, USER_CONTROL, WINDOW_ACK_SIZE, SET_PEER_BANDWIDTH = range(1, 7)
AUDIO, VIDEO = 8, 9
DATA_AMF3, SHARED_OBJECT_AMF3, COMMAND_AMF3 = 15, 16, 17
DATA_AMF0, SHARED_OBJECT_AMF0, COMMAND_AMF0 = 18, 19, 20
AGGREGATE = 22

USER_STREAM_BEGIN, USER_PING_REQUEST, USER_PING_RESPONSE = 0, 6, 7

HANDSHAKE_SIZE = 1536
RTMP_VERSION = 3
DEFAULT_CHUNK_SIZE = 128
MAX_CHUNK_SIZE = 0xFFFFFF  # a chunk never needs to be larger than the largest message
MAX_CHUNK_STREAMS = 64  # real publishers use fewer than ten
MAX_PENDING_BYTES = 32 << 20  # partially received messages held at once, per connection
_EXTENDED = 0xFFFFFF
_U32 = 0xFFFFFFFF


class ProtocolError(Exception):
    """The peer broke the RTMP protocol; the connection is closed."""


@dataclass(frozen=True)
class Message:
    """One reassembled RTMP message."""

    type_id: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass
class _ChunkStream:
    """What a chunk stream id remembers for the compressed (type 1-3) headers that follow."""

    timestamp: int = 0
    delta: int = 0
    extended: bool = False
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    parts: list[bytes] | None = None
    received: int = 0


async def server_handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Plain (non-digest) handshake; ffmpeg, OBS and librtmp publishers accept it."""
    version = (await reader.readexactly(1))[0]
    if version != RTMP_VERSION:
        raise ProtocolError(f"not an RTMP client (first byte 0x{version:02x})")
    c1 = await reader.readexactly(HANDSHAKE_SIZE)
    s1 = bytes(8) + os.urandom(HANDSHAKE_SIZE - 8)
    writer.write(bytes([RTMP_VERSION]) + s1 + c1)
    await writer.drain()
    await reader.readexactly(HANDSHAKE_SIZE)  # C2 echoes S1; publishers never check it strictly


class ChunkReader:
    """Reassembles messages from the interleaved chunk streams of one connection."""

    def __init__(
        self, stream: asyncio.StreamReader, max_pending: int = MAX_PENDING_BYTES, budget: MemoryBudget | None = None
    ) -> None:
        self._stream = stream
        self._streams: dict[int, _ChunkStream] = {}
        self._pending = 0
        # Partly received bytes this connection may hold (the session raises it once a publish is accepted);
        # a message is refused from its header, before any of its body is buffered.
        self.max_pending = max_pending
        self._budget = budget
        self.chunk_size = DEFAULT_CHUNK_SIZE
        self.bytes_read = 1 + 2 * HANDSHAKE_SIZE

    def set_chunk_size(self, size: int) -> None:
        if not 1 <= size <= 0x7FFFFFFF:
            raise ProtocolError(f"invalid chunk size {size}")
        self.chunk_size = min(size, MAX_CHUNK_SIZE)

    def abort(self, csid: int) -> None:
        """Drop the partly received message on `csid` (the peer sent Abort)."""
        state = self._streams.get(csid)
        if state is not None:
            self._discard(state)

    async def read_message(self) -> Message:
        while True:
            message = await self._read_chunk()
            if message is not None:
                return message

    async def _read(self, n: int) -> bytes:
        data = await self._stream.readexactly(n)
        self.bytes_read += n
        return data

    async def _read_chunk(self) -> Message | None:
        fmt, csid = await self._read_basic_header()
        state = self._state(fmt, csid)
        if fmt == 3:
            await self._read_type3_header(state)
        else:
            await self._read_full_header(fmt, state)
        if state.parts is None:
            self._start(state)
        size = min(self.chunk_size, state.length - state.received)
        if size:
            state.parts.append(await self._read(size))
            state.received += size
        return self._finish(state) if state.received >= state.length else None

    async def _read_basic_header(self) -> tuple[int, int]:
        first = (await self._read(1))[0]
        fmt, csid = first >> 6, first & 0x3F
        if csid == 0:
            csid = 64 + (await self._read(1))[0]
        elif csid == 1:
            low, high = await self._read(2)
            csid = 64 + low + 256 * high
        return fmt, csid

    def _state(self, fmt: int, csid: int) -> _ChunkStream:
        state = self._streams.get(csid)
        if state is not None:
            return state
        if fmt >= 2:
            raise ProtocolError(f"chunk stream {csid} opens with a type {fmt} header")
        if len(self._streams) >= MAX_CHUNK_STREAMS:
            raise ProtocolError("too many chunk streams")
        state = self._streams[csid] = _ChunkStream()
        return state

    async def _read_full_header(self, fmt: int, state: _ChunkStream) -> None:
        raw = await self._read((11, 7, 3)[fmt])
        if state.parts is not None:
            self._discard(state)  # a new header in the middle of a message: the peer gave up on it
        field = int.from_bytes(raw[0:3], "big")
        if fmt <= 1:
            state.length = int.from_bytes(raw[3:6], "big")
            state.type_id = raw[6]
        if fmt == 0:
            state.stream_id = int.from_bytes(raw[7:11], "little")
        state.extended = field == _EXTENDED
        if state.extended:
            field = int.from_bytes(await self._read(4), "big")
        state.delta = field
        state.timestamp = field if fmt == 0 else (state.timestamp + field) & _U32

    async def _read_type3_header(self, state: _ChunkStream) -> None:
        if state.extended:
            await self._read(4)  # repeats the field of the header this chunk continues
        if state.parts is None:  # a new message with the same length, type and delta
            state.timestamp = (state.timestamp + state.delta) & _U32

    def _start(self, state: _ChunkStream) -> None:
        if self._pending + state.length > self.max_pending:
            raise LimitExceeded(
                f"a message of {state.length} bytes would hold {self._pending + state.length} partly received bytes, "
                f"over this connection's limit of {self.max_pending}"
            )
        if self._budget is not None:
            self._budget.reserve(state.length, f"a message of {state.length} bytes")
        self._pending += state.length
        state.parts = []
        state.received = 0

    def _finish(self, state: _ChunkStream) -> Message:
        payload = b"".join(state.parts or ())
        self._discard(state)
        return Message(state.type_id, state.stream_id, state.timestamp, payload)

    def _discard(self, state: _ChunkStream) -> None:
        if state.parts is not None:
            self._pending -= state.length
            if self._budget is not None:
                self._budget.release(state.length)
        state.parts = None
        state.received = 0

    def close(self) -> None:
        """Drop every partly received message and give its bytes back to the budget."""
        for state in self._streams.values():
            self._discard(state)


def encode_message(message: Message, csid: int, chunk_size: int) -> bytes:
    """Split a message into chunks: a type-0 header, then type-3 continuation headers."""
    extended = message.timestamp >= _EXTENDED
    field = _EXTENDED if extended else message.timestamp
    ext = struct.pack(">I", message.timestamp) if extended else b""
    header = bytes([csid]) + field.to_bytes(3, "big") + len(message.payload).to_bytes(3, "big")
    header += bytes([message.type_id]) + message.stream_id.to_bytes(4, "little") + ext
    payload = message.payload
    parts = [header, payload[:chunk_size]]
    for offset in range(chunk_size, len(payload), chunk_size):
        parts += [bytes([0xC0 | csid]) + ext, payload[offset : offset + chunk_size]]
    return b"".join(parts)


def control(type_id: int, payload: bytes) -> bytes:
    """A protocol control or user control message on chunk stream 2."""
    return encode_message(Message(type_id, 0, 0, payload), csid=2, chunk_size=DEFAULT_CHUNK_SIZE)


def user_control(event: int, data: bytes) -> bytes:
    return control(USER_CONTROL, struct.pack(">H", event) + data)
