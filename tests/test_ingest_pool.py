"""Broadcasts run on livecut's own bounded ingest threads, never on the loop's default executor
(issue 11, finding 1).

The attack as filed: with asyncio's default executor at 6 threads (2 cores), six broadcasts held
every thread for their whole length and sign-in, which hashes on that executor, timed out. Here
the loop gets exactly that 6-thread default executor; 6 real ffmpeg publishers and 6 raw
publishers that publish with valid keys and then send nothing hold 12 ingest sessions, and a
sign-in over real HTTP must still answer within a second. A 13th publisher is refused with the
reason. Real RtmpServer, RoomManager, API (uvicorn) and SQLite store; no models.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import uvicorn
from support import lavfi_flv, stalled_publisher

from livecut.api import create_app
from livecut.auth import hash_password
from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.rooms import RoomManager
from livecut.runtime.services import LiveServices
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore
from stream.rtmp import RtmpServer

REAL, STALLED = 6, 6
PASSWORD = "a long enough password"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loop_flv(tmp_path_factory) -> Path:
    return lavfi_flv(tmp_path_factory.mktemp("pool") / "loop.flv", 4)


async def sign_in(port: int) -> tuple[int, float]:
    """POST /api/login over a raw socket (any client library's thread pool would be the thing tested)."""
    body = json.dumps({"username": "op", "password": PASSWORD}).encode()
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    status_line = await asyncio.wait_for(reader.readline(), 10)
    took = time.monotonic() - started
    writer.close()
    return int(status_line.split()[1]), took


def test_twelve_broadcasts_leave_sign_in_fast_and_a_thirteenth_is_refused(tmp_path, loop_flv, caplog):
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    services = LiveServices(load_config(), store, media, MemoryBus())
    store.create_user("op", "default", "admin", hash_password(PASSWORD))
    rooms = [store.create_room(f"room {n}", "push", tenant="default") for n in range(REAL + STALLED + 1)]

    async def scenario() -> tuple[int, float, int, bytes]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=6))  # min(32, 2 cores + 4), as filed
        manager = RoomManager(services, max_sessions=REAL + STALLED)
        rtmp = RtmpServer("127.0.0.1", 0, manager.authorize, manager.on_stream)
        await rtmp.start()
        app = create_app(store, media, manager, f"rtmp://127.0.0.1:{rtmp.port}/live", web_dir=None)
        http = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
        serving = asyncio.create_task(http.serve())
        while not http.started:
            await asyncio.sleep(0.05)
        http_port = http.servers[0].sockets[0].getsockname()[1]
        publishers, stalled = [], []
        try:
            for room in rooms[:REAL]:
                url = f"rtmp://127.0.0.1:{rtmp.port}/live/{room.stream_key}"
                publishers.append(
                    await asyncio.create_subprocess_exec(
                        *["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", str(loop_flv)],
                        *["-c", "copy", "-f", "flv", url],
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                )
            for room in rooms[REAL:-1]:
                stalled.append((await stalled_publisher(rtmp.port, room.stream_key))[1])
            async with asyncio.timeout(30):
                while (
                    len(manager.sessions) < REAL + STALLED
                    or sum(store.room(r.id).status == "live" for r in rooms[:REAL]) < REAL
                ):
                    await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the broadcasts are under way
            status, took = await sign_in(http_port)
            reader, writer = await stalled_publisher(rtmp.port, rooms[-1].stream_key)
            refusal = await asyncio.wait_for(reader.read(), 5)  # the server's answer, then it closes
            writer.close()
            live_fragments = sum(len(store.fragments(r.id)) > 0 for r in rooms[:REAL])
            return status, took, live_fragments, refusal
        finally:
            for process in publishers:
                process.kill()
                await process.wait()
            for writer in stalled:
                writer.close()
            await rtmp.stop()
            await manager.shutdown()
            http.should_exit = True
            await serving

    with caplog.at_level(logging.WARNING):
        status, took, live_fragments, refusal = asyncio.run(scenario())
    assert status == 200 and took < 1.0, f"sign-in took {took:.2f} s with {REAL + STALLED} broadcasts"
    assert live_fragments == REAL, "every real room records while the stalled ones hold their sessions"
    assert "ingest is full: 12 sessions running (ingest.max_sessions = 12)" in caplog.text
    assert b"NetStream.Publish.BadName" in refusal and b"ingest is full" in refusal, "the publisher is told why"
    store.close()
