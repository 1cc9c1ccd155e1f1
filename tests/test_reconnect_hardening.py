"""Reconnects (issue 11, finding 6): a publisher frozen half-open is replaced at once by the same key
coming back, and a room in `error` for a bad stream takes a corrected stream again.

Real ffmpeg publishers (one frozen with SIGSTOP: its TCP connection stays open and silent, no FIN),
the real RtmpServer and a real RoomManager recording into a media folder and a SQLite store.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.rooms import RoomManager
from livecut.runtime.services import LiveServices
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore
from stream.rtmp import RtmpServer

pytestmark = pytest.mark.slow


def make_flv(path: Path, seconds: int, video: bool = True) -> Path:
    inputs = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    codecs = ["-c:a", "aac"]
    if video:
        inputs = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", *inputs]
        codecs += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-t", str(seconds), *codecs, "-f", "flv", str(path)], check=True
    )
    return path


@pytest.fixture(scope="module")
def flvs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reconnect")
    return {
        "long": make_flv(folder / "long.flv", 30),
        "short": make_flv(folder / "short.flv", 4),
        "audio_only": make_flv(folder / "audio.flv", 10, video=False),
    }


class Rig:
    def __init__(self, root: Path) -> None:
        self.store = MetadataStore(root / "livecut.db")
        self.services = LiveServices(load_config(), self.store, LocalMediaStore(root / "media"), MemoryBus())
        self.room = self.store.create_room("r", "push", tenant="default")
        self.manager = RoomManager(self.services, fragment_s=1.0)
        self.rtmp = RtmpServer("127.0.0.1", 0, self.manager.authorize, self.manager.on_stream)

    async def publish(self, flv: Path, realtime: bool = True) -> asyncio.subprocess.Process:
        url = f"rtmp://127.0.0.1:{self.rtmp.port}/live/{self.room.stream_key}"
        pace = ["-re"] if realtime else []
        return await asyncio.create_subprocess_exec(
            *["ffmpeg", "-v", "error", "-nostdin", *pace, "-i", str(flv), "-c", "copy", "-f", "flv", url],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def until(self, predicate, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.05)

    def status(self) -> str:
        return self.store.room(self.room.id).status


def test_a_frozen_publisher_is_replaced_at_once_by_its_key_coming_back(tmp_path, flvs):
    rig = Rig(tmp_path)

    async def scenario() -> float:
        await rig.rtmp.start()
        loop = asyncio.get_running_loop()
        frozen = await rig.publish(flvs["long"])
        try:
            await rig.until(lambda: len(rig.store.fragments(rig.room.id)) >= 2)
            frozen.send_signal(signal.SIGSTOP)  # half-open: the socket stays, nothing more is sent
            await asyncio.sleep(1.5)
            before = len(rig.store.fragments(rig.room.id))
            asked = loop.time()
            returning = await rig.publish(flvs["short"], realtime=False)
            assert await asyncio.wait_for(returning.wait(), 20) == 0, "the returning publisher is accepted"
            await rig.until(lambda: len(rig.store.fragments(rig.room.id)) > before)
            return loop.time() - asked
        finally:
            frozen.kill()
            await frozen.wait()
            await rig.rtmp.stop()
            await rig.manager.shutdown()

    took = asyncio.run(scenario())
    assert took < 8.0, f"the returning publisher waited {took:.1f} s (the idle timeout is 30 s)"
    assert rig.store.room(rig.room.id).publishes == 2


def test_a_room_in_error_takes_a_corrected_stream(tmp_path, flvs):
    rig = Rig(tmp_path)

    async def scenario() -> None:
        await rig.rtmp.start()
        try:
            bad = await rig.publish(flvs["audio_only"])
            await rig.until(lambda: rig.status() == "error")
            assert await asyncio.wait_for(bad.wait(), 20) != 0
            good = await rig.publish(flvs["short"], realtime=False)
            assert await asyncio.wait_for(good.wait(), 20) == 0
            await rig.until(lambda: rig.store.fragments(rig.room.id) and rig.status() != "live")
        finally:
            await rig.rtmp.stop()
            await rig.manager.shutdown()

    asyncio.run(scenario())
    after = rig.store.room(rig.room.id)
    assert after.error is None and after.status in ("reconnecting", "ended")
    assert rig.store.fragments(rig.room.id)[-1].t1 == pytest.approx(4.0, abs=0.6)
