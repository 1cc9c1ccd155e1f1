"""Resource limits of the RTMP endpoint: what a connection may cost before and after it publishes.

A connection that has not published yet is an anonymous stranger: it may hold only a few
KiB of partly received messages, and must publish within `publish_timeout_s` whatever
else it sends (pings and control messages do not keep it alive). A publishing connection
may hold more (a keyframe is large), and every connection together shares one global
budget, so N slow or hostile peers cannot take the process's memory. Each limit logs a
line naming the peer and the limit when it acts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class RtmpLimits:
    """Every limit of one RtmpServer; the shell builds it from config.toml's [rtmp] table."""

    max_connections: int = 256  # open TCP connections, publishing or not
    handshake_timeout_s: float = 10.0  # from accept to the end of the RTMP handshake
    publish_timeout_s: float = 15.0  # from the handshake to an accepted publish, whatever is sent meanwhile
    idle_timeout_s: float = 30.0  # a publishing connection without a media message for this long is closed
    stale_publisher_s: float = 1.0  # a publisher this long without media gives way to a new one with its key
    pre_publish_bytes: int = 8 << 10  # partly received messages a connection may hold before it publishes
    message_bytes: int = 16 << 20  # partly received messages a publishing connection may hold
    stream_buffer_bytes: int = 64 << 20  # FLV bytes a room's reader may fall behind its publisher
    total_bytes: int = 512 << 20  # all partly received messages and FLV buffers of the server together

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"rtmp limit {name} must be positive, not {value!r}")


class LimitExceeded(Exception):
    """A connection went past one of its limits; it is closed and the message says which."""


class MemoryBudget:
    """Bytes the whole server holds for its peers; shared by the loop and the demuxer threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    def reserve(self, size: int, what: str) -> None:
        """Take `size` bytes or raise LimitExceeded naming `what` asked for them."""
        with self._lock:
            if self._used + size > self.limit:
                raise LimitExceeded(
                    f"server memory budget exhausted: {what} needs {size} bytes, "
                    f"{self._used} of {self.limit} in use (rtmp.total_bytes)"
                )
            self._used += size

    def release(self, size: int) -> None:
        with self._lock:
            self._used -= size
