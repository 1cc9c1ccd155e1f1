"""Room runtime: who may publish, which sessions run, and each room's status.

Push rooms wait for a publisher with their stream key; pull rooms connect to their
URL and keep reconnecting while the room is active. Each room is ingested by one
worker at a time: the worker holds a lease on it in the metadata store and renews it;
when a worker dies its lease runs out and another ingest worker adopts its pull rooms
and goes on pulling where the room's timeline stopped. A session's end moves the room
to `reconnecting` (the same key or URL may come back); a stream that cannot be
used moves it to `error` with the reason; stopping it moves it to `ended`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av

from livecut.contracts import ACTIVE_ROOM_STATUSES, EndOfStream, Fragment, RoomStatus, topics
from livecut.runtime.services import LiveServices
from livecut.store import Room
from stream.ingest import IngestError, IngestSession
from stream.pull_guard import PullUrlRefused, check_pull_url
from stream.rtmp import PublishRefused

log = logging.getLogger(__name__)

PULL_OPEN_TIMEOUT_S = 10.0
PULL_RETRY_S = 1.0
# A returning publisher waits this long for the room's previous session to finish its last fragment.
PREVIOUS_SESSION_WAIT_S = 10.0
ACTIVE = ACTIVE_ROOM_STATUSES
DEFAULT_MAX_SESSIONS = 32


class RoomManager:
    def __init__(
        self,
        services: LiveServices,
        fragment_s: float = 2.0,
        front_pull_url: str = "",
        worker_id: str | None = None,
        lease_s: float = 15.0,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        split_s: float | None = None,
        split_max_rooms: int | None = None,
    ) -> None:
        """`split_s`: also cut fragments between keyframes (stream.recorder), while at most
        `split_max_rooms` sessions run here (None: always); `split_s` None: at keyframes only."""
        self.services = services
        self.fragment_s = fragment_s
        self.split_s = split_s
        self.split_max_rooms = split_max_rooms
        self.front_pull_url = front_pull_url
        self.worker_id = worker_id or f"ingest-{uuid.uuid4().hex[:8]}"
        self.lease_s = lease_s
        # Each session blocks a thread for its whole broadcast (PyAV demuxes synchronously). They get
        # threads of their own, never the loop's default executor that the API's sign-in and media use,
        # and at most max_sessions of them: past that a publish is refused with the reason.
        self.max_sessions = max_sessions
        self._threads = ThreadPoolExecutor(max_workers=max_sessions, thread_name_prefix="livecut-ingest")
        self.sessions: dict[str, asyncio.Task] = {}
        self.pulls: dict[str, asyncio.Task] = {}
        self.streams: dict[str, Any] = {}
        self.ingests: dict[str, IngestSession] = {}

    # push ----------------------------------------------------------------------------------
    async def authorize(self, app: str, stream_key: str) -> str | None:
        """The room a publisher may feed, or None (wrong app, unknown key, stopped or busy room).
        Raises PublishRefused when this worker's ingest sessions are all taken."""
        store = self.services.store
        room = store.room_by_key(stream_key)
        if room is not None and app == "live":
            await self._previous_session_ended(room.id)
            if self.full:
                raise PublishRefused(self._full_reason(room.id))
        if (
            app != "live"
            or room is None
            or room.status not in (*ACTIVE, "error")
            or room.id in self.sessions
            or not store.acquire_room(room.id, self.worker_id, self.lease_s)
        ):
            log.warning("refused publisher: app=%r key=%s...", app, stream_key[:4])
            return None
        if room.status == "error":  # the publisher fixed its stream (a codec, say): the room takes it again
            log.info("room %s: was in error (%s); accepting a new publish", room.id, room.error)
            store.set_room_status(room.id, "waiting")
        return room.id

    async def _previous_session_ended(self, room_id: str) -> None:
        """A push room's publisher came back: its old session got EOF and finishes its last fragment."""
        stream, task = self.streams.get(room_id), self.sessions.get(room_id)
        if stream is not None and task is not None and stream.closed:
            await asyncio.wait([task], timeout=PREVIOUS_SESSION_WAIT_S)

    async def on_stream(self, room_id: str, flv_stream: Any) -> None:
        if self.full:  # publishes authorized at the same moment took the last sessions
            flv_stream.abandon(self._full_reason(room_id))
            self.services.store.release_room(room_id, self.worker_id)
            return
        self.streams[room_id] = flv_stream
        self._start_session(room_id, lambda: av.open(flv_stream, mode="r", format="flv"))

    @property
    def full(self) -> bool:
        return len(self.sessions) >= self.max_sessions

    def _full_reason(self, room_id: str) -> str:
        reason = f"ingest is full: {len(self.sessions)} sessions running (ingest.max_sessions = {self.max_sessions})"
        log.warning("room %s: publish refused: %s", room_id, reason)
        return reason

    # pull ----------------------------------------------------------------------------------
    def start_pull(self, room: Room) -> bool:
        """Start pulling the room here, unless another worker holds it."""
        if room.id in self.pulls or not self.services.store.acquire_room(room.id, self.worker_id, self.lease_s):
            return False
        self.pulls[room.id] = asyncio.create_task(self._pull_loop(room.id, room.url or ""))
        return True

    async def keep_rooms(self) -> None:
        """Renew the leases of the rooms ingested here, give up those lost or ended, adopt orphaned pull rooms."""
        while True:
            lost, orphans = await asyncio.to_thread(self._lease_round)
            for room_id in lost:
                log.warning("room %s: lease lost to another worker; stopping here", room_id)
                self._abandon(room_id)
            for room in orphans:
                if self.start_pull(room):
                    log.info("room %s: adopted by %s", room.id, self.worker_id)
            await asyncio.sleep(self.lease_s / 3)

    def _lease_round(self) -> tuple[list[str], list[Room]]:
        store = self.services.store
        held = set(self.pulls) | set(self.sessions)
        lost = [
            room_id
            for room_id in held
            if not self._active(room_id) or not store.acquire_room(room_id, self.worker_id, self.lease_s)
        ]
        orphans = [room for room in store.rooms_to_ingest(self.worker_id) if room.id not in self.pulls]
        return lost, orphans

    def _abandon(self, room_id: str) -> None:
        pull = self.pulls.pop(room_id, None)
        if pull is not None:
            pull.cancel()
        if room_id in self.ingests:
            self.ingests[room_id].stop()

    async def _pull_loop(self, room_id: str, url: str) -> None:
        allow = tuple(self.services.config["ingest"]["pull_allow"])
        while self._active(room_id) and room_id in self.pulls:
            if self.full:  # the room waits for a session to end
                await asyncio.sleep(PULL_RETRY_S)
                continue
            task = self._start_session(room_id, lambda: _open_checked_url(url, allow))
            await asyncio.shield(task)
            if self._active(room_id):
                await asyncio.sleep(PULL_RETRY_S)

    def pull_from_front(self, room_id: str, stream_key: str) -> None:
        """An RTMP front (nginx) accepted a publisher for this room: pull its stream from the front.

        The front admits the publisher only after its callback returns, so the first
        attempts to open the stream may find nothing yet: retry for a short while.
        """
        if not self.front_pull_url:
            raise IngestError("ingest.front_pull_url is not configured")
        url = self.front_pull_url.format(key=stream_key)
        self.pulls[room_id] = asyncio.create_task(self._pull_once(room_id, url))

    async def _pull_once(self, room_id: str, url: str) -> None:
        deadline = asyncio.get_running_loop().time() + PULL_OPEN_TIMEOUT_S
        while self._active(room_id):
            await asyncio.shield(self._start_session(room_id, lambda: _open_url(url)))
            room = self.services.store.room(room_id)
            assert room is not None  # _active() just found it; rooms are never deleted
            if room.publishes or asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.3)

    # sessions ------------------------------------------------------------------------------
    def few_rooms_live(self) -> bool:
        """Whether the rooms live here are few enough to split fragments (called from ingest threads:
        reading the size of a dict is safe there)."""
        return self.split_max_rooms is None or len(self.sessions) <= self.split_max_rooms

    def _start_session(self, room_id: str, open_container) -> asyncio.Task:
        task = asyncio.create_task(self._session(room_id, open_container))
        self.sessions[room_id] = task
        task.add_done_callback(lambda _: self.sessions.pop(room_id, None))
        return task

    async def _session(self, room_id: str, open_container) -> None:
        store = self.services.store
        sink = RoomRecording(self.services, room_id, asyncio.get_running_loop())
        session = IngestSession(
            room_id,
            self.services.media,
            sink,
            self.fragment_s,
            self.services.scratch_dir,
            split_s=self.split_s,
            split_while=self.few_rooms_live,
        )
        self.ingests[room_id] = session
        ended = "the recording ended"
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._threads, self._record, room_id, open_container, session)
        except IngestError as exc:
            ended = str(exc)
            store.set_room_status(room_id, RoomStatus.ERROR, ended)
            return
        except (av.FFmpegError, OSError) as exc:
            ended = f"source unavailable: {exc}"
            log.info("room %s: %s", room_id, ended)
        except Exception as exc:  # a bug, or media nobody foresaw: the room must not stay `live` with no session
            ended = f"ingest failed: {type(exc).__name__}: {exc}"
            log.exception("room %s: %s", room_id, ended)
        finally:
            self.ingests.pop(room_id, None)
            pushed = self.streams.pop(room_id, None)
            if pushed is not None:  # a publisher still sending is told to go (its encoder then reconnects)
                pushed.abandon(ended)
        if self._active(room_id):
            store.set_room_status(room_id, RoomStatus.RECONNECTING)

    def _record(self, room_id: str, open_container, session: IngestSession) -> None:
        with open_container() as container:
            self.services.store.set_room_status(room_id, RoomStatus.LIVE)
            self.services.store.note_publish(room_id)
            session.run(container)

    def _active(self, room_id: str) -> bool:
        room = self.services.store.room(room_id)
        return room is not None and room.status in ACTIVE

    # stop ----------------------------------------------------------------------------------
    async def stop_room(self, room_id: str) -> None:
        self.services.store.set_room_status(room_id, RoomStatus.ENDED)
        if room_id in self.ingests:
            self.ingests[room_id].stop()
        stream = self.streams.get(room_id)
        if stream is not None:
            stream.close()
        pull = self.pulls.pop(room_id, None)
        session = self.sessions.get(room_id)
        for task in (pull, session):
            if task is not None:
                await asyncio.wait([task], timeout=PULL_OPEN_TIMEOUT_S + 5)

    async def shutdown(self) -> None:
        """The embedded server's Ctrl-C: every active room ends."""
        for room in self.services.store.rooms():
            if room.status in ACTIVE:
                await self.stop_room(room.id)
        self._threads.shutdown(wait=False)

    async def release(self) -> None:
        """An ingest worker leaving: its rooms stay active and their leases go, so another worker takes them."""
        rooms = set(self.pulls) | set(self.sessions)
        for room_id in rooms:
            self._abandon(room_id)
        tasks = [t for t in list(self.sessions.values()) if not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=PULL_OPEN_TIMEOUT_S + 5)
        for room_id in rooms:
            self.services.store.release_room(room_id, self.worker_id)
        self._threads.shutdown(wait=False)


class RoomRecording:
    """An ingest session's sink: fragments go to the metadata store, then onto the bus."""

    def __init__(self, services: LiveServices, room_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.services = services
        self.room_id = room_id
        self.loop = loop

    def timeline(self) -> tuple[float, int]:
        room = self.services.store.room(self.room_id)
        return (room.media_end, room.next_seq) if room else (0.0, 0)

    def recorded(self) -> tuple[list[Fragment], set[int]]:
        store = self.services.store
        return store.fragments(self.room_id), store.discontinuities(self.room_id)

    def fragment(self, fragment: Fragment, discontinuity: bool, next_seq: int) -> None:
        self.services.store.add_fragment(fragment, discontinuity=discontinuity)
        self.services.store.advance_timeline(self.room_id, fragment.t1, next_seq)
        self.services.bus.publish_threadsafe(self.loop, topics.FRAGMENTS, self.room_id, fragment)

    def end(self, end: EndOfStream) -> None:
        self.services.bus.publish_threadsafe(self.loop, topics.FRAGMENTS, self.room_id, end)

    def skipped(self, count: int, reason: str) -> None:
        self.services.store.note_skipped_packets(self.room_id, count)


def _open_checked_url(url: str, allow: tuple[str, ...]) -> av.container.InputContainer:
    """A room's own pull URL is checked again at each connection: its host may resolve elsewhere now."""
    try:
        check_pull_url(url, allow)
    except PullUrlRefused as exc:
        raise IngestError(f"pull url refused: {exc}") from None
    return _open_url(url)


def _open_url(url: str) -> av.container.InputContainer:
    options = {"rw_timeout": str(int(PULL_OPEN_TIMEOUT_S * 1e6))}
    if url.startswith("rtmp://"):
        options["rtmp_live"] = "live"
    return av.open(url, mode="r", options=options, timeout=PULL_OPEN_TIMEOUT_S)
