"""A thread-safe FLV byte pipe from the RTMP server's event loop to a demuxer thread.

The server writes a complete FLV byte stream (header, then one tag per RTMP media or
metadata message, with the RTMP timestamps); a worker thread hands the pipe to
`av.open(stream, format="flv")`. Writing never blocks the event loop: the pipe holds
what the reader has not taken yet, up to a limit, and refuses more past that, so a
stalled reader costs its publisher the connection instead of the process its memory.
There is no `seek`/`tell`, so PyAV treats the pipe as a non-seekable live input.
"""

from __future__ import annotations

import struct
import threading
from collections import deque

from .limits import MemoryBudget

TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT = 8, 9, 18
FLAG_AUDIO, FLAG_VIDEO = 0x04, 0x01


class FlvBufferOverflow(RuntimeError):
    """The reader has fallen more than `max_buffer_bytes` behind the publisher."""


class FlvReaderGone(RuntimeError):
    """The reader stopped for good (the stream cannot be recorded); the message says why."""


def flv_header(has_audio: bool = True, has_video: bool = True) -> bytes:
    """The 9-byte FLV file header followed by PreviousTagSize0."""
    flags = (FLAG_AUDIO if has_audio else 0) | (FLAG_VIDEO if has_video else 0)
    return b"FLV\x01" + bytes([flags]) + struct.pack(">II", 9, 0)


def flv_tag(tag_type: int, timestamp: int, payload: bytes) -> bytes:
    """One FLV tag and its PreviousTagSize; `timestamp` is milliseconds, 32 bits."""
    timestamp &= 0xFFFFFFFF
    size = len(payload)
    header = bytes([tag_type]) + size.to_bytes(3, "big") + (timestamp & 0xFFFFFF).to_bytes(3, "big")
    header += bytes([timestamp >> 24]) + b"\x00\x00\x00"
    return header + payload + struct.pack(">I", 11 + size)


class FlvStream:
    """Thread-safe byte pipe: the asyncio side writes FLV bytes, a worker thread reads them.

    `write` and `close` are called from the event loop; `read` blocks in a worker thread
    until bytes arrive or the stream ends, and returns b"" at end of stream.
    """

    def __init__(self, max_buffer_bytes: int = 64 << 20, budget: MemoryBudget | None = None) -> None:
        self.max_buffer_bytes = max_buffer_bytes
        self._budget = budget  # buffered bytes count against the server's budget until read or dropped
        self._abandoned: str | None = None
        self._chunks: deque[bytes] = deque()
        self._head = 0  # bytes of _chunks[0] already read
        self._size = 0
        self._closed = False
        self._cond = threading.Condition()
        self.bytes_written = 0
        self.bytes_read = 0

    @property
    def buffered(self) -> int:
        """Bytes written and not read yet."""
        return self._size

    @property
    def closed(self) -> bool:
        """True once the writer has ended the stream (the reader may still drain it)."""
        return self._closed

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        """Append bytes; never blocks. Raises FlvBufferOverflow past the limit; ignored after close."""
        if not data:
            return
        with self._cond:
            if self._closed:
                return
            if self._abandoned is not None:
                raise FlvReaderGone(self._abandoned)
            if self._size + len(data) > self.max_buffer_bytes:
                behind, limit = self._size, self.max_buffer_bytes
                raise FlvBufferOverflow(f"reader is {behind} bytes behind (limit {limit})")
            if self._budget is not None:
                self._budget.reserve(len(data), "a room's FLV buffer")
            self._chunks.append(bytes(data))
            self._size += len(data)
            self.bytes_written += len(data)
            self._cond.notify_all()

    def close(self) -> None:
        """End of stream: the reader gets what is buffered, then b""."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def abandon(self, reason: str) -> None:
        """The reader stops for good: what is buffered is dropped, and the next write raises
        FlvReaderGone(reason), so the publisher is disconnected (and its encoder reconnects)."""
        with self._cond:
            self._abandoned = reason
            self._drop()
            self._cond.notify_all()

    def _drop(self) -> None:
        self._chunks.clear()
        self._head = 0
        if self._budget is not None:
            self._budget.release(self._size)
        self._size = 0

    def __del__(self) -> None:
        # A stream nobody reads to the end still gives its bytes back to the server's budget.
        if self._budget is not None and self._size:
            self._budget.release(self._size)

    def read(self, size: int = -1) -> bytes:
        """Block until data or end of stream. size < 0 reads to the end of the stream,
        otherwise at most `size` bytes (fewer if that is what is buffered); b"" at the end."""
        if size == 0:
            return b""
        with self._cond:
            if size < 0:
                self._cond.wait_for(lambda: self._closed or self._abandoned is not None)
                size = self._size
            else:
                self._cond.wait_for(lambda: self._size > 0 or self._closed or self._abandoned is not None)
            return self._take(size)

    def _take(self, size: int) -> bytes:
        parts: list[bytes] = []
        wanted = min(size, self._size)
        while wanted > 0:
            chunk = self._chunks[0]
            end = min(len(chunk), self._head + wanted)
            parts.append(chunk[self._head : end] if self._head or end < len(chunk) else chunk)
            wanted -= end - self._head
            if end == len(chunk):
                self._chunks.popleft()
                self._head = 0
            else:
                self._head = end
        data = b"".join(parts)
        self._size -= len(data)
        if self._budget is not None:
            self._budget.release(len(data))
        self.bytes_read += len(data)
        return data
