"""Audio hardening (issue 11, finding 5): MP3 audio is accepted by its codec name (PyAV's decoder is
'mp3float'), an audio-only stream is refused at publish with the reason and its publisher is
disconnected, and a failed clip's reason names no server path.

Real ffmpeg publishers push to the real RtmpServer, whose streams a real RoomManager records into
a media folder and a SQLite store (no models: transcription is not needed to see the ingest).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import pytest

from clipper.renderer import Renderer, RenderError
from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.contracts import ClipRequest
from livecut.runtime.rooms import RoomManager
from livecut.runtime.services import LiveServices
from livecut.runtime.settings import render_settings
from livecut.runtime.stages.render import RenderStage
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore
from stream.rtmp import RtmpServer

DURATION_S = 6
LONG_S = 16  # the audio-only publisher would send this long if it were not dropped


def make_flv(path: Path, audio: list[str], video: bool = True, seconds: float = DURATION_S) -> Path:
    """A short FLV from lavfi sources: H.264 (2 s GOP) unless video=False, with the given audio encoding."""
    inputs = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    codecs = list(audio)
    if video:
        inputs = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", *inputs]
        codecs += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-t", str(seconds), *codecs, "-f", "flv", str(path)], check=True
    )
    return path


@pytest.fixture(scope="module")
def flvs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    return {
        "mp3": make_flv(folder / "mp3.flv", ["-c:a", "libmp3lame", "-b:a", "64k"]),
        "audio_only": make_flv(folder / "audio-only.flv", ["-c:a", "aac"], video=False, seconds=LONG_S),
        "nellymoser": make_flv(folder / "nellymoser.flv", ["-c:a", "nellymoser", "-ar", "22050"]),
    }


def ingest(tmp_path: Path, flv: Path) -> tuple[MetadataStore, str, int, float]:
    """Publish `flv` in real time to an RtmpServer feeding a RoomManager; returns the store, the room,
    the publisher's exit code and how long it ran."""
    store = MetadataStore(tmp_path / "livecut.db")
    services = LiveServices(load_config(), store, LocalMediaStore(tmp_path / "media"), MemoryBus())
    room = store.create_room("audio", "push", tenant="default")

    async def scenario() -> tuple[int, float]:
        manager = RoomManager(services, fragment_s=2.0)
        server = RtmpServer("127.0.0.1", 0, manager.authorize, manager.on_stream)
        await server.start()
        loop = asyncio.get_running_loop()
        started = loop.time()
        url = f"rtmp://127.0.0.1:{server.port}/live/{room.stream_key}"
        publisher = await asyncio.create_subprocess_exec(
            *["ffmpeg", "-v", "error", "-nostdin", "-re", "-i", str(flv), "-c", "copy", "-f", "flv", url],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        code = await asyncio.wait_for(publisher.wait(), LONG_S + 20)
        took = loop.time() - started
        await server.stop()
        await manager.release()
        return code, took

    code, took = asyncio.run(scenario())
    return store, room.id, code, took


@pytest.mark.slow
def test_mp3_audio_is_recorded(tmp_path, flvs):
    store, room, code, _ = ingest(tmp_path, flvs["mp3"])
    after = store.room(room)
    assert code == 0 and after.error is None and after.status != "error"
    fragments = store.fragments(room)
    assert len(fragments) >= 2 and fragments[-1].t1 == pytest.approx(DURATION_S, abs=0.6)
    with av.open(str(tmp_path / "media" / fragments[0].uri)) as container:
        assert container.streams.audio[0].codec_context.codec.canonical_name == "mp3"
        assert any(frame.samples for frame in container.decode(audio=0)), "the fragment's MP3 decodes to PCM"


@pytest.mark.slow
def test_an_audio_only_stream_is_refused_with_the_reason_and_its_publisher_dropped(tmp_path, flvs):
    store, room, code, took = ingest(tmp_path, flvs["audio_only"])
    after = store.room(room)
    assert after.status == "error" and "no video track, and livecut's clips are videos" in after.error
    # PyAV probes an audio-only FLV for a few seconds before the check can refuse it.
    assert code != 0 and took < LONG_S - 4, "the publisher is disconnected, not left sending"
    assert store.fragments(room) == [] and store.clips(room=room) == []


@pytest.mark.slow
def test_an_audio_codec_mpeg_ts_cannot_carry_is_refused_by_name(tmp_path, flvs):
    store, room, code, _ = ingest(tmp_path, flvs["nellymoser"])
    after = store.room(room)
    assert after.status == "error" and after.error == "unsupported audio codec 'nellymoser' (use AAC or MP3)"
    assert code != 0


def test_a_failed_clips_reason_names_no_server_path(tmp_path, flvs):
    """The leak as it happened: the renderer's error names its temp folder; the clip's reason must not."""
    store = MetadataStore(tmp_path / "livecut.db")
    services = LiveServices(load_config(), store, LocalMediaStore(tmp_path / "media"), MemoryBus())
    request = ClipRequest("c1", "room-1", "room", 0.5, 4.0, "price_promo", None, "text", confidence=1.0)
    with tempfile.TemporaryDirectory(prefix="livecut-render-") as scratch:
        span = Path(scratch) / "span.mkv"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(flvs["audio_only"]), "-c", "copy", str(span)], check=True)
        with pytest.raises(RenderError) as failure:
            Renderer(render_settings(services.config), Path(scratch) / "out").render(request, span)
    reason = f"RenderError: {failure.value}"
    assert scratch in reason
    store.request_clip(request)
    RenderStage(services).give_up("room-1", request, reason)
    error = store.clip("c1")["error"]
    assert error == "RenderError: source has no video stream: span.mkv"
    assert "/" not in error


@pytest.mark.slow
def test_livecut_clip_skips_an_audio_only_file_with_one_line_and_goes_on(tmp_path, flvs):
    """Finding 5's CLI half: an audio-only input printed a traceback and stopped the run."""
    silent_video = make_flv(tmp_path / "tone.flv", ["-c:a", "aac"])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "livecut.cli",
            "clip",
            str(flvs["audio_only"]),
            str(silent_video),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr and proc.returncode == 1
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("livecut: skipped")]
    reason = "the stream has no video track, and livecut's clips are videos: send video with the audio"
    assert skipped == [f"livecut: skipped {flvs['audio_only']}: {reason}"]
    assert f"{silent_video}: 0 utterances, 0 clips" in proc.stderr, "the next file is still processed"
