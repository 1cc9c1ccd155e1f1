"""A livecut process: the roles it runs (API, ingest, transcribe, render) on one event loop.

`livecut serve` runs every role: the embedded default (memory bus, SQLite, local media
folder) or, with Kafka, S3 and PostgreSQL in the config, one node of a scale-out.
`livecut worker --role R` runs one role. The stores and the bus come from the config, so
the same code serves one laptop and many machines.

Shutdown of the embedded server (Ctrl-C) stops accepting media, lets every open session
finish its last fragment, flushes each room's open speech and topic, renders the clips
that produces, and only then exits: nothing is left half-written. A worker of a scale-out
leaves instead: its rooms and unacknowledged events go to the other workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI

from livecut.api.app import close_event_streams, create_app
from livecut.api.login_throttle import LoginLimits
from livecut.auth import FIRST_ADMIN, first_start_admin
from livecut.bus import build_bus
from livecut.bus.instrumented import InstrumentedBus
from livecut.config import ConfigError, expand_path
from livecut.contracts import topics
from livecut.observability.metrics import METRICS, room_status_counts, serve_metrics, stop_metrics
from livecut.reviews import ReviewLog
from livecut.runtime.catalog_tools import CatalogTools
from livecut.runtime.posting import distribution_settings
from livecut.runtime.recovery import Reconciled, reconcile_store, scratch_dir
from livecut.runtime.roles import MODEL_ROLES, ROLES, STAGE_ROLES
from livecut.runtime.runner import StageRunner
from livecut.runtime.services import LiveServices, load_speech_models
from livecut.store import build_metadata_store
from segmenter.taxonomy import load_taxonomy
from stream.media_factory import build_media_store
from stream.rtmp.limits import RtmpLimits

if TYPE_CHECKING:
    from livecut.runtime.rooms import RoomManager
    from stream.rtmp.server import RtmpServer

log = logging.getLogger(__name__)


def stop_requested() -> asyncio.Event:
    """An event set by Ctrl-C or SIGTERM: the command then shuts its LivecutServer down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


# How long uvicorn may take to finish open responses at shutdown before it is cancelled.
HTTP_SHUTDOWN_S = 5.0


def rtmp_limits(rtmp: dict[str, Any]) -> RtmpLimits:
    """The RTMP endpoint's limits from [rtmp]; a value that is not positive is a ConfigError naming its key."""
    try:
        return RtmpLimits(**{key: rtmp[key] for key in RtmpLimits.__dataclass_fields__})
    except ValueError as exc:
        raise ConfigError(str(exc).replace("rtmp limit ", "rtmp.")) from exc


def max_ingest_sessions(ingest: dict[str, Any]) -> int:
    """[ingest] max_sessions, checked: a ConfigError naming the key unless it is a whole number >= 1."""
    value = ingest["max_sessions"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"ingest.max_sessions must be a whole number of at least 1, not {value!r}")
    return value


def login_limits(server: dict[str, Any]) -> LoginLimits:
    """Sign-in rate limits from [server]; a value that is not positive is a ConfigError naming its key."""
    try:
        return LoginLimits(**{field: server[f"login_{field}"] for field in LoginLimits.__dataclass_fields__})
    except ValueError as exc:
        raise ConfigError(str(exc).replace("login limit ", "server.login_")) from exc


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: livecut owns Ctrl-C and shuts down in order."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


@dataclass
class Endpoints:
    http_url: str
    rtmp_base: str


class LivecutServer:
    """The given roles of livecut in this process; `start`, then `stop`."""

    def __init__(self, config: dict[str, Any], roles: tuple[str, ...] = ROLES, worker_id: str | None = None) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown or not roles:
            raise ConfigError(f"roles must be among {', '.join(ROLES)}, not {', '.join(sorted(unknown)) or 'none'}")
        if set(roles) != set(ROLES) and config["bus"]["kind"] == "memory":
            raise ConfigError('running only some roles needs a shared bus: set [bus] kind = "kafka"')
        self.config = config
        self.roles = roles
        self.embedded = set(roles) == set(ROLES)
        self.services = LiveServices(
            config=config,
            store=build_metadata_store(config),
            media=build_media_store(config),
            bus=InstrumentedBus(build_bus(config), METRICS),
            scratch_dir=scratch_dir(expand_path(config["paths"]["data_dir"])),
        )
        if set(roles) & set(MODEL_ROLES):
            load_speech_models(self.services)
        self.manager = self._room_manager(worker_id) if "ingest" in roles else None
        self.runners: list[StageRunner] = []
        self.tasks: list[asyncio.Task] = []
        self.rtmp: RtmpServer | None = None
        self.http: _ApiServer | None = None
        self.http_task: asyncio.Task | None = None
        self.metrics_http: tuple | None = None

    def _room_manager(self, worker_id: str | None) -> RoomManager:
        from livecut.runtime.rooms import RoomManager  # PyAV: loaded only by processes that ingest

        ingest = self.config["ingest"]
        return RoomManager(
            self.services,
            ingest["fragment_s"],
            ingest["front_pull_url"],
            worker_id,
            ingest["lease_s"],
            max_sessions=max_ingest_sessions(ingest),
            split_s=ingest["split_s"] or None,
            split_max_rooms=ingest["split_max_rooms"] or None,
        )

    async def start(self) -> Endpoints:
        # The embedded server is alone on its store: what a dead predecessor left is put right first.
        reconciled = reconcile_store(self.services.store) if self.embedded else Reconciled()
        for role, stages in STAGE_ROLES.items():
            if role in self.roles:
                self.runners += [StageRunner(s, self.services.bus, self.services.store) for s in stages(self.services)]
        await self.services.bus.start()  # after the runners subscribed: Kafka joins their groups here
        for request in reconciled.requests:
            await self.services.bus.publish(topics.CLIP_REQUESTS, request.room, request)
        self.tasks = [asyncio.create_task(runner.run()) for runner in self.runners]
        # A stage may have a loop of its own (the post role's scheduler looks for due posts).
        loops = [runner.stage.background for runner in self.runners if hasattr(runner.stage, "background")]
        self.tasks += [asyncio.create_task(loop()) for loop in loops]
        rtmp_base = ""
        if self.manager is not None:
            self.tasks.append(asyncio.create_task(self.manager.keep_rooms()))
            rtmp_base = await self._start_rtmp()
        http_url = ""
        if "api" in self.roles:
            METRICS.watch_rooms(lambda: room_status_counts(self.services.store))
            http_url = await self._start_http(rtmp_base or self._rtmp_base())
        else:
            metrics = self.config["metrics"]
            self.metrics_http = serve_metrics(metrics["host"], metrics["port"])
        return Endpoints(http_url=http_url, rtmp_base=rtmp_base)

    @property
    def metrics_url(self) -> str:
        """Where a worker process serves its metrics (the API serves them on /metrics)."""
        if self.metrics_http is None:
            return ""
        return f"http://{self.config['metrics']['host']}:{self.metrics_http[0].server_port}/metrics"

    async def _start_http(self, rtmp_base: str) -> str:
        self._first_start()
        app = create_app(
            self.services.store,
            self.services.media,
            self.manager,
            rtmp_base,
            self._review_log(),
            bus=self.services.bus,
            max_clip_s=self.config["segments"]["max_s"],
            catalog=CatalogTools(self.config),
            distribution=distribution_settings(self.config),
            login_limits=login_limits(self.config["server"]),
            secure_cookies=self.config["server"]["secure_cookies"],
            pull_allow=tuple(self.config["ingest"]["pull_allow"]),
        )
        server = self.config["server"]
        self.http = _ApiServer(
            uvicorn.Config(app, host=server["host"], port=server["port"], log_level="warning", lifespan="off")
        )
        self.http_task = asyncio.create_task(self.http.serve())
        self.tasks.append(self.http_task)
        while not self.http.started:
            await asyncio.sleep(0.05)
        port = self.http.servers[0].sockets[0].getsockname()[1]
        return f"http://{server['host']}:{port}"

    def _first_start(self) -> None:
        """Auth is on from the start: a store without users gets an admin, its password shown once."""
        password = first_start_admin(self.services.store, os.environ)
        if password is not None:
            print(
                f'livecut: first start: admin user "{FIRST_ADMIN}", password {password} '
                "(shown once; change it with livecut user passwd)",
                flush=True,
            )

    def _review_log(self) -> ReviewLog:
        classes = {(c.label, c.sublabel) for c in load_taxonomy(self.config["taxonomy"])}
        return ReviewLog(expand_path(self.config["classifier"]["reviews_path"]), classes)

    async def _start_rtmp(self) -> str:
        rtmp = self.config["rtmp"]
        if not rtmp["enabled"]:
            return ""
        from stream.rtmp import RtmpServer

        assert self.manager is not None  # start() runs the RTMP endpoint only in an ingest process
        limits = rtmp_limits(rtmp)
        self.rtmp = RtmpServer(rtmp["host"], rtmp["port"], self.manager.authorize, self.manager.on_stream, limits)
        await self.rtmp.start()
        return self._rtmp_base(self.rtmp.port)

    def _rtmp_base(self, port: int | None = None) -> str:
        """What publishers are told to push to: the public address, else this endpoint's (or, when
        the RTMP endpoints run in ingest workers, the configured one's) host and port."""
        rtmp = self.config["rtmp"]
        address = rtmp["public_address"] or f"{rtmp['host']}:{port or rtmp['port']}"
        return f"rtmp://{address}/live"

    async def stop(self) -> None:
        if self.rtmp is not None:
            await self.rtmp.stop()
        if self.manager is not None:
            await (self.manager.shutdown() if self.embedded else self.manager.release())
        if self.embedded:
            await self.services.bus.drain()
        if self.http is not None:
            # Open event streams end within a poll, so uvicorn can finish their responses and exit.
            app, http_task = self.http.config.app, self.http_task
            assert isinstance(app, FastAPI) and http_task is not None  # both set by _start_http
            close_event_streams(app)
            self.http.should_exit = True
            await asyncio.wait([http_task], timeout=HTTP_SHUTDOWN_S)
            await asyncio.to_thread(app.state.api.detail.close)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.services.bus.close()
        if self.metrics_http is not None:
            stop_metrics(*self.metrics_http)
        self.services.store.close()
        if self.services.scratch_dir is not None:
            shutil.rmtree(self.services.scratch_dir, ignore_errors=True)  # a clean stop leaves no temp files
