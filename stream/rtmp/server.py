"""The embedded RTMP ingest endpoint: one TCP port, many rooms publishing at once.

Publishers push to `rtmp://HOST:PORT/<app>/<stream_key>`. At `publish` the server asks
`authorize(app, stream_key)` for the room; an unknown key, or a room that already has a
publisher, is refused with an error status and a disconnect, before any media is taken.
An accepted publish gets a fresh FlvStream and one `on_stream(room_id, stream)` call,
run as its own task so a long-running consumer never stalls the connection. The server
keeps track of every connection and consumer task so `stop()` leaves nothing behind.
What peers may cost is bounded by `RtmpLimits` (see `limits.py`): a connection cap,
handshake/publish/idle timeouts, and memory per connection and for the whole server.

Built on asyncio streams rather than `pyrtmp` (see `protocol.py` for why).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from .flv_stream import FlvStream
from .limits import MemoryBudget, RtmpLimits
from .session import PublishRefused, RtmpSession

log = logging.getLogger(__name__)

Authorize = Callable[[str, str], Awaitable[str | None]]  # (app, stream_key) -> room_id, or None to refuse
OnStream = Callable[[str, FlvStream], Awaitable[None]]  # called once per accepted publish, with room_id

CONSUMER_GRACE_S = 5.0  # how long stop() lets on_stream tasks finish after their streams hit EOF
REFUSAL_LOG_INTERVAL_S = 5.0  # a flood of refused connections logs one line per interval, with a count


class RtmpServer:
    """Accepts RTMP publishers on one port and hands each accepted publish to `on_stream`."""

    def __init__(
        self,
        host: str,
        port: int,
        authorize: Authorize,
        on_stream: OnStream,
        limits: RtmpLimits | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self._authorize = authorize
        self._on_stream = on_stream
        self.limits = limits or RtmpLimits()
        self.budget = MemoryBudget(self.limits.total_bytes)
        self.refused_connections = 0
        self._refusals_unlogged = 0
        self._refusal_logged_at = float("-inf")
        self.active_rooms: set[str] = set()
        self._server: asyncio.Server | None = None
        self._connections: dict[RtmpSession, asyncio.Task[None]] = {}
        self._publishers: dict[str, RtmpSession] = {}
        self._consumers: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        """Bind and start accepting; port 0 picks a free port (see `port`)."""
        self._stopping = False
        self._server = await asyncio.start_server(self._on_connection, self.host, self._requested_port)
        log.info("RTMP ingest listening on %s:%d", self.host, self.port)

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the server is not started")
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener and every connection; every FlvStream gets EOF; wait for all tasks."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        connections = list(self._connections.values())
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await self._drain_consumers()
        self._server = None
        log.info("RTMP ingest stopped")

    async def _drain_consumers(self) -> None:
        consumers = list(self._consumers)
        if not consumers:
            return
        _, pending = await asyncio.wait(consumers, timeout=CONSUMER_GRACE_S)
        for task in pending:
            log.warning("on_stream task %s still running after EOF, cancelling it", task.get_name())
            task.cancel()
        await asyncio.gather(*consumers, return_exceptions=True)

    def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopping:
            writer.close()
            return
        if len(self._connections) >= self.limits.max_connections:
            self._refuse_connection(writer)
            return
        session = RtmpSession(reader, writer, self, self.limits, self.budget)
        task = asyncio.create_task(self._serve(session), name=f"rtmp-{session.peer}")
        self._connections[session] = task

    def _refuse_connection(self, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()
        self.refused_connections += 1
        self._refusals_unlogged += 1
        now = time.monotonic()
        if now - self._refusal_logged_at >= REFUSAL_LOG_INTERVAL_S:
            log.warning(
                "connection cap reached (%d open, rtmp.max_connections): refused %d connection(s), last from %s",
                len(self._connections),
                self._refusals_unlogged,
                writer.get_extra_info("peername"),
            )
            self._refusals_unlogged, self._refusal_logged_at = 0, now

    async def _serve(self, session: RtmpSession) -> None:
        try:
            await session.run()
        finally:
            self._connections.pop(session, None)

    # --- the gate sessions call -----------------------------------------------------------

    async def open_publish(self, session: RtmpSession, app: str, key: str) -> tuple[str, FlvStream]:
        """Admit a publish: returns (room_id, stream) or raises PublishRefused."""
        await self._replace_stale_publisher(session, app, key)
        room = await self._room_for(app, key)
        if self._stopping:
            raise PublishRefused("the server is stopping")
        if room in self.active_rooms:
            raise PublishRefused(f"room {room} already has a publisher")
        stream = FlvStream(self.limits.stream_buffer_bytes, self.budget)
        self.active_rooms.add(room)
        self._publishers[room] = session
        self._start_consumer(room, stream, session)
        return room, stream

    async def _replace_stale_publisher(self, session: RtmpSession, app: str, key: str) -> None:
        """The key's current publisher gives way if it has gone silent (a half-open connection after a
        network drop never sends again); one still sending keeps the room and the newcomer is refused."""
        current = next((s for s in self._publishers.values() if (s.app, s.key) == (app, key)), None)
        if current is None or current is session:
            return
        silent = current.silent_s()
        if silent < self.limits.stale_publisher_s:
            raise PublishRefused(f"room {current.room} already has a publisher (media {silent:.1f} s ago)")
        log.warning(
            "%s: room %s: replacing its publisher %s, silent for %.1f s (rtmp.stale_publisher_s)",
            session.peer,
            current.room,
            current.peer,
            silent,
        )
        connection = self._connections.get(current)
        if connection is not None:
            connection.cancel()
            await asyncio.gather(connection, return_exceptions=True)

    def close_publish(self, session: RtmpSession, room: str, stream: FlvStream) -> None:
        """The publish is over (publisher left, was dropped, or the server stops): EOF for the reader."""
        stream.close()
        if self._publishers.get(room) is session:
            del self._publishers[room]
            self.active_rooms.discard(room)

    async def _room_for(self, app: str, key: str) -> str:
        try:
            room = await self._authorize(app, key)
        except PublishRefused:
            raise
        except Exception as exc:
            log.exception("authorize(%r, ...) failed", app)
            raise PublishRefused("authorization failed") from exc
        if room is None:
            raise PublishRefused("unknown stream key")
        return room

    def _start_consumer(self, room: str, stream: FlvStream, session: RtmpSession) -> None:
        task = asyncio.create_task(self._consume(room, stream), name=f"rtmp-on-stream-{room}")
        self._consumers.add(task)
        task.add_done_callback(lambda done: self._consumer_done(done, room, session))

    async def _consume(self, room: str, stream: FlvStream) -> None:
        await self._on_stream(room, stream)

    def _consumer_done(self, task: asyncio.Task[None], room: str, session: RtmpSession) -> None:
        self._consumers.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        connection = self._connections.get(session)
        live = connection is not None and self._publishers.get(room) is session
        note = "; dropping its publisher" if live else ""
        log.error("on_stream for room %s failed%s", room, note, exc_info=task.exception())
        if live:
            connection.cancel()
