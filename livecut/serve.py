"""`livecut serve`: the embedded default in one process.

HTTP API + RTMP endpoint + memory bus + SQLite + local media folder + every pipeline
stage, on one event loop. Shutdown (Ctrl-C) stops accepting media, lets every open
session finish its last fragment, flushes each room's open speech and topic, renders
the clips that produces, and only then exits: nothing is left half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from livecut.api import create_app
from livecut.bus import MemoryBus
from livecut.config import expand_path
from livecut.live import LiveServices, RenderWorker, TranscribeWorker
from livecut.reviews import ReviewLog
from livecut.room_classifiers import RoomClassifiers
from livecut.rooms import RoomManager
from livecut.settings import transcriber_settings
from livecut.store import MetadataStore
from segmenter.asr import SpeechRecognizer
from segmenter.taxonomy import load_taxonomy
from stream.media_store import LocalMediaStore
from stream.rtmp.server import RtmpServer

log = logging.getLogger(__name__)


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: `livecut serve` owns Ctrl-C and shuts down in order."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


@dataclass
class Endpoints:
    http_url: str
    rtmp_base: str


class EmbeddedServer:
    """Everything `livecut serve` runs; `start`, then `stop` (or `run_until_stopped`)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        data_dir = expand_path(config["paths"]["data_dir"])
        self.services = LiveServices(
            config=config,
            store=MetadataStore(Path(data_dir) / "livecut.db"),
            media=LocalMediaStore(Path(data_dir) / "media"),
            bus=MemoryBus(),
            transcriber_settings=transcriber_settings(config),
            recognizer=None,
            classifiers=RoomClassifiers(config),
        )
        self.services.recognizer = SpeechRecognizer(self.services.transcriber_settings.asr)
        ingest = config["ingest"]
        self.manager = RoomManager(self.services, ingest["fragment_s"], ingest["front_pull_url"])
        self.workers = [TranscribeWorker(self.services), RenderWorker(self.services)]
        self.tasks: list[asyncio.Task] = []
        self.rtmp: RtmpServer | None = None
        self.http: _ApiServer | None = None

    async def start(self) -> Endpoints:
        self.tasks = [asyncio.create_task(worker.run()) for worker in self.workers]
        rtmp_base = await self._start_rtmp()
        app = create_app(self.services.store, self.services.media, self.manager, rtmp_base, self._review_log())
        server = self.config["server"]
        self.http = _ApiServer(
            uvicorn.Config(app, host=server["host"], port=server["port"], log_level="warning", lifespan="off")
        )
        self.tasks.append(asyncio.create_task(self.http.serve()))
        while not self.http.started:
            await asyncio.sleep(0.05)
        port = self.http.servers[0].sockets[0].getsockname()[1]
        return Endpoints(http_url=f"http://{server['host']}:{port}", rtmp_base=rtmp_base)

    def _review_log(self) -> ReviewLog:
        classes = {(c.label, c.sublabel) for c in load_taxonomy(self.config["taxonomy"])}
        return ReviewLog(expand_path(self.config["classifier"]["reviews_path"]), classes)

    async def _start_rtmp(self) -> str:
        rtmp = self.config["rtmp"]
        if not rtmp["enabled"]:
            return ""
        self.rtmp = RtmpServer(rtmp["host"], rtmp["port"], self.manager.authorize, self.manager.on_stream)
        await self.rtmp.start()
        address = rtmp["public_address"] or f"{rtmp['host']}:{self.rtmp.port}"
        return f"rtmp://{address}/live"

    async def stop(self) -> None:
        if self.rtmp is not None:
            await self.rtmp.stop()
        await self.manager.shutdown()
        await self.services.bus.drain()
        if self.http is not None:
            self.http.should_exit = True
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.services.store.close()
