"""AMF0, the value encoding of RTMP commands and of FLV script data.

Only what an ingest endpoint meets is here: decoding every AMF0 type a publisher may
send in `connect`, `publish` or `@setDataFrame` (so an unusual metadata field never
kills a stream), and encoding the few value types the server's replies use.
"""

from __future__ import annotations

import struct
from typing import Any

NUMBER, BOOLEAN, STRING, OBJECT, MOVIECLIP, NULL, UNDEFINED, REFERENCE = range(8)
ECMA_ARRAY, OBJECT_END, STRICT_ARRAY, DATE, LONG_STRING, UNSUPPORTED = range(8, 14)
XML_DOCUMENT, TYPED_OBJECT, AVMPLUS = 0x0F, 0x10, 0x11


class AmfError(ValueError):
    """The bytes are not valid AMF0."""


class _Reader:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data = data
        self.pos = offset

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise AmfError(f"truncated AMF0 value at byte {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def text(self, length: int) -> str:
        return self.take(length).decode("utf-8", errors="replace")


def decode(data: bytes, offset: int = 0) -> tuple[Any, int]:
    """Decode one value at `offset`; return it and the offset just after it."""
    reader = _Reader(data, offset)
    value = _value(reader)
    return value, reader.pos


def decode_all(data: bytes) -> list[Any]:
    """Decode consecutive values until the bytes run out (an AVM+ switch ends the list)."""
    values: list[Any] = []
    reader = _Reader(data, 0)
    while reader.pos < len(data):
        if data[reader.pos] == AVMPLUS:
            break
        values.append(_value(reader))
    return values


def _value(reader: _Reader) -> Any:
    marker = reader.u8()
    if marker == NUMBER:
        return struct.unpack(">d", reader.take(8))[0]
    if marker == BOOLEAN:
        return reader.u8() != 0
    if marker in (STRING, LONG_STRING, XML_DOCUMENT):
        return reader.text(reader.u16() if marker == STRING else reader.u32())
    if marker in (OBJECT, ECMA_ARRAY, TYPED_OBJECT):
        return _object(reader, marker)
    if marker == STRICT_ARRAY:
        return [_value(reader) for _ in range(reader.u32())]
    if marker == DATE:
        millis = struct.unpack(">d", reader.take(8))[0]
        reader.take(2)  # time zone, always zero
        return millis
    if marker == REFERENCE:
        reader.take(2)
        return None
    if marker in (NULL, UNDEFINED, UNSUPPORTED):
        return None
    raise AmfError(f"unsupported AMF0 marker 0x{marker:02x}")


def _object(reader: _Reader, marker: int) -> dict[str, Any]:
    if marker == ECMA_ARRAY:
        reader.take(4)  # the count is only a hint; the end marker is authoritative
    elif marker == TYPED_OBJECT:
        reader.text(reader.u16())
    result: dict[str, Any] = {}
    while True:
        key = reader.text(reader.u16())
        if not key and reader.data[reader.pos : reader.pos + 1] == bytes([OBJECT_END]):
            reader.take(1)
            return result
        result[key] = _value(reader)


def encode(*values: Any) -> bytes:
    """Encode values as consecutive AMF0 (numbers, booleans, strings, dicts as objects, None as null)."""
    return b"".join(_encode_one(value) for value in values)


def _encode_one(value: Any) -> bytes:
    if value is None:
        return bytes([NULL])
    if isinstance(value, bool):
        return bytes([BOOLEAN, int(value)])
    if isinstance(value, int | float):
        return bytes([NUMBER]) + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) > 0xFFFF:
            return bytes([LONG_STRING]) + struct.pack(">I", len(raw)) + raw
        return bytes([STRING]) + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):
        body = b"".join(_key(k) + _encode_one(v) for k, v in value.items())
        return bytes([OBJECT]) + body + b"\x00\x00" + bytes([OBJECT_END])
    raise TypeError(f"cannot encode {type(value).__name__} as AMF0")


def _key(key: str) -> bytes:
    raw = key.encode()
    return struct.pack(">H", len(raw)) + raw
