"""The ingest splits fragments between keyframes only while few rooms are live (`[ingest]
split_max_rooms`): split fragments cost the transcriber more work, which one room has to spare
and many rooms do not. Real RtmpServer, RoomManager, ffmpeg publishers and SQLite store; no models.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support import lavfi_flv, stalled_publisher

from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.rooms import RoomManager
from livecut.runtime.services import LiveServices
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore
from stream.rtmp import RtmpServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gop_flv(tmp_path_factory) -> Path:
    """6 s, a keyframe every 2 s: four 0.5 s fragments per keyframe when split."""
    return lavfi_flv(tmp_path_factory.mktemp("split") / "gop.flv", 6)


async def publish_once(port: int, key: str, source: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *["ffmpeg", "-v", "error", "-nostdin", "-i", str(source), "-c", "copy", "-f", "flv"],
        f"rtmp://127.0.0.1:{port}/live/{key}",
    )
    assert await asyncio.wait_for(process.wait(), 30) == 0


async def recorded(manager: RoomManager, room_id: str) -> None:
    """Until the room's session has ended (every fragment is in the store)."""
    async with asyncio.timeout(30):
        while room_id in manager.sessions or not manager.services.store.fragments(room_id):
            await asyncio.sleep(0.1)


def test_a_room_alone_is_split_and_rooms_past_split_max_rooms_are_not(tmp_path, gop_flv):
    store = MetadataStore(tmp_path / "livecut.db")
    services = LiveServices(load_config(), store, LocalMediaStore(tmp_path / "media"), MemoryBus())
    alone, busy, holder = (store.create_room(name, "push", tenant="default") for name in ("alone", "busy", "holder"))

    async def scenario() -> None:
        manager = RoomManager(services, split_s=0.5, split_max_rooms=1)
        rtmp = RtmpServer("127.0.0.1", 0, manager.authorize, manager.on_stream)
        await rtmp.start()
        try:
            await publish_once(rtmp.port, alone.stream_key, gop_flv)
            await recorded(manager, alone.id)
            # A second live room (a publisher that holds its session) takes the ingest past split_max_rooms.
            _, writer = await stalled_publisher(rtmp.port, holder.stream_key)
            async with asyncio.timeout(10):
                while holder.id not in manager.sessions:
                    await asyncio.sleep(0.05)
            await publish_once(rtmp.port, busy.stream_key, gop_flv)
            await recorded(manager, busy.id)
            writer.close()
        finally:
            await rtmp.stop()
            await manager.shutdown()

    asyncio.run(scenario())
    split = store.fragments(alone.id)
    whole = store.fragments(busy.id)
    assert sum(not f.keyframe for f in split) >= 8, [(f.t0, f.keyframe) for f in split]
    assert all(f.keyframe for f in whole), [(f.t0, f.keyframe) for f in whole]
    assert [round(f.t0, 2) for f in whole] == [round(f.t0, 2) for f in split if f.keyframe]
    store.close()
