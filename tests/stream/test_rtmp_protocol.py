"""The RTMP building blocks on hand-made bytes: chunk timestamps, AMF0, the FLV pipe.

The chunk cases pin the header semantics that made pyrtmp drift (a type-3 header that
starts a new message adds the previous delta) and the extended-timestamp rules.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import time

import pytest

from stream.rtmp import amf0
from stream.rtmp.flv_stream import TAG_AUDIO, FlvBufferOverflow, FlvStream, flv_header, flv_tag
from stream.rtmp.protocol import AUDIO, VIDEO, ChunkReader, Message, ProtocolError, encode_message


def header(fmt: int, csid: int, ts: int, length: int | None = None, type_id: int | None = None) -> bytes:
    """A chunk header; `ts` over 0xFFFFFF goes into the extended field."""
    out = bytes([fmt << 6 | csid])
    field = min(ts, 0xFFFFFF)
    if fmt <= 2:
        out += field.to_bytes(3, "big")
    if fmt <= 1:
        out += length.to_bytes(3, "big") + bytes([type_id])
    if fmt == 0:
        out += (1).to_bytes(4, "little")
    return out + (struct.pack(">I", ts) if fmt <= 2 and ts >= 0xFFFFFF else b"")


def read_all(data: bytes, chunk_size: int = 128) -> list[Message]:
    async def scenario() -> list[Message]:
        stream = asyncio.StreamReader()
        stream.feed_data(data)
        stream.feed_eof()
        reader = ChunkReader(stream)
        reader.set_chunk_size(chunk_size)
        messages = []
        while True:
            try:
                messages.append(await reader.read_message())
            except asyncio.IncompleteReadError:
                return messages

    return asyncio.run(scenario())


def test_type3_header_starting_a_message_adds_the_previous_delta():
    data = header(0, 4, 1000, 2, AUDIO) + b"a0"
    data += header(2, 4, 23) + b"a1"  # same length and type, delta 23
    data += header(3, 4, 0) + b"a2"  # same again: 1046, not a repeat of 1023
    data += header(3, 4, 0) + b"a3"
    assert [(m.timestamp, m.payload) for m in read_all(data)] == [
        (1000, b"a0"),
        (1023, b"a1"),
        (1046, b"a2"),
        (1069, b"a3"),
    ]


def test_messages_span_chunks_and_chunk_streams_interleave():
    video = bytes(range(200))
    data = header(0, 6, 40, len(video), VIDEO) + video[:128]
    data += header(0, 4, 33, 3, AUDIO) + b"aud"
    data += header(3, 6, 0) + video[128:]
    got = [(m.type_id, m.timestamp, m.payload) for m in read_all(data)]
    assert got == [(AUDIO, 33, b"aud"), (VIDEO, 40, video)]


def test_extended_timestamps_are_read_on_every_chunk_of_the_message():
    ts = 0x1000000 + 5  # past 4.66 hours on air
    body = b"x" * 150
    data = header(0, 6, ts, len(body), VIDEO) + body[:128]
    data += bytes([0xC0 | 6]) + struct.pack(">I", ts) + body[128:]  # type 3 repeats the extended field
    data += header(1, 6, 0x1000000, 4, VIDEO) + b"next"  # an extended delta
    assert [(m.timestamp, m.payload) for m in read_all(data)] == [(ts, body), (2 * 0x1000000 + 5, b"next")]


def test_encoded_messages_read_back():
    messages = [Message(20, 0, 0, bytes(range(256)) * 40), Message(AUDIO, 1, 0x1234567, b"late")]
    data = b"".join(encode_message(m, csid=3 + i, chunk_size=1000) for i, m in enumerate(messages))
    assert read_all(data, chunk_size=1000) == messages


def test_a_chunk_stream_cannot_open_with_a_compressed_header():
    with pytest.raises(ProtocolError):
        read_all(header(3, 9, 0) + b"??")


def test_amf0_round_trip_and_publisher_types():
    values = ["connect", 1.0, {"app": "live", "flashVer": "FMLE/3.0", "nested": {"ok": True}}, None]
    assert amf0.decode_all(amf0.encode(*values)) == values
    ecma = bytes([amf0.ECMA_ARRAY]) + struct.pack(">I", 99)  # the count is only a hint
    ecma += b"\x00\x08duration" + amf0.encode(6.0) + b"\x00\x00\x09"
    strict = bytes([amf0.STRICT_ARRAY]) + struct.pack(">I", 2) + amf0.encode(1, "x")
    date = bytes([amf0.DATE]) + struct.pack(">d", 5.0) + b"\x00\x00"
    assert amf0.decode_all(ecma + strict + date + bytes([amf0.UNDEFINED])) == [
        {"duration": 6.0},
        [1.0, "x"],
        5.0,
        None,
    ]
    with pytest.raises(amf0.AmfError):
        amf0.decode_all(b"\x02\x00\x10short")


def test_flv_tag_layout():
    tag = flv_tag(TAG_AUDIO, 0x12345678, b"\xaf\x01data")
    assert tag[0] == TAG_AUDIO and int.from_bytes(tag[1:4], "big") == 6
    assert tag[4:7] == bytes.fromhex("345678") and tag[7] == 0x12
    assert tag[-4:] == struct.pack(">I", 11 + 6)
    assert flv_header() == b"FLV\x01\x05" + struct.pack(">II", 9, 0)


def test_flv_stream_reads_across_writes_then_eof():
    stream = FlvStream()
    stream.write(b"abc")
    stream.write(b"defgh")
    assert stream.read(2) == b"ab"
    assert stream.read(4) == b"cdef"
    stream.close()
    stream.write(b"ignored after close")
    assert stream.read(100) == b"gh"
    assert stream.read(100) == b""
    assert not stream.seekable() and not hasattr(stream, "seek")


def test_flv_stream_read_blocks_until_a_write_from_another_thread():
    stream = FlvStream()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend([stream.read(10), stream.read(10)]))
    reader.start()
    time.sleep(0.05)
    assert got == []
    stream.write(b"late")
    stream.close()
    reader.join(2)
    assert got == [b"late", b""]


def test_flv_stream_refuses_to_grow_past_its_limit():
    stream = FlvStream(max_buffer_bytes=10)
    stream.write(b"12345678")
    with pytest.raises(FlvBufferOverflow):
        stream.write(b"too much")
    stream.close()
    assert stream.read() == b"12345678"
