"""Shared test helpers and fixtures: the committed media and its script, the default config, loaded models,
a real `livecut serve`. Test modules import helpers from here by name (`from support import ...`); conftest.py
registers the fixtures. (Not imported as `conftest`: nested test folders have conftest modules of their own.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Every `livecut serve` a test starts inherits this as its first admin's password, and Api signs in with it.
os.environ.setdefault("LIVECUT_ADMIN_PASSWORD", secrets.token_urlsafe(16))

FIXTURES = Path(__file__).parent / "fixtures"
LIVECUT = [sys.executable, "-m", "livecut.cli"]
# Live clip boundaries may differ from the recorded-file run by this much.
CLIP_TOLERANCE_S = 0.5
# ...or, heard a little differently, a live clip shares at least this much of the shorter span.
TWIN_SHARE = 0.6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def of_source(records: list[dict], name: str) -> list[dict]:
    return [r for r in records if Path(r["source"]).name == name]


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def expected_topic(clip: dict, sentences: list[dict]) -> tuple[str, str | None]:
    """The (label, sublabel) of the script sentences a clip mostly covers."""
    inside = [s for s in sentences if overlap(clip["t0"], clip["t1"], s["t0"], s["t1"]) > 0.5]
    return Counter((s["label"], s["sublabel"]) for s in inside).most_common(1)[0][0]


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def zh_script() -> dict:
    return json.loads((FIXTURES / "zh_live.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def en_script() -> dict:
    return json.loads((FIXTURES / "en_live.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def config() -> dict:
    from livecut.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def classifier(config):
    """The v0 rules + prototypes classifier (the trained one has its own tests)."""
    from livecut.runtime.classifiers import build_classifier

    return build_classifier(config, kind="v0")


@pytest.fixture(scope="session")
def clip_run(tmp_path_factory):
    """`livecut clip` over both samples plus two bad inputs, once per test session."""
    out = tmp_path_factory.mktemp("clip-out")
    garbage = out.parent / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video\xff" * 300)
    inputs = [FIXTURES / "zh_live.mp4", FIXTURES / "no_audio.mp4", garbage, FIXTURES / "en_live.mp4"]
    proc = subprocess.run(
        [*LIVECUT, "clip", *map(str, inputs), "--out", str(out)], capture_output=True, text=True, timeout=1200
    )
    utterances = [json.loads(line) for line in (out / "utterances.jsonl").read_text().splitlines()]
    clips = [json.loads(line) for line in (out / "clips.jsonl").read_text().splitlines()]
    return proc, out, utterances, clips


def assert_no_clip_lost_or_duplicated(
    live: list[dict], batch: list[dict], script: dict, moved: Callable[[float], float] = lambda t: t
) -> None:
    """Every clip of the file has its live twin; no topic is clipped twice; a live clip the file
    run lacks (Whisper heard the audio slightly differently) is right by the script.

    A twin has the clip's label and sublabel and either both ends within CLIP_TOLERANCE_S or most
    of its span: a live room's speech chunks share Whisper windows only while the transcribe stage
    is behind (a killed worker's backlog, a loaded machine), so the room can hear a sentence's
    words a little differently from the file run and move a clip's edge by an utterance.

    `moved` maps a time of the file onto the room's timeline (a reconnect shifts what follows it).
    """
    matched = set()
    for clip in batch:
        found = [c for c in live if twins(c, clip, moved)]
        spans = sorted((c["t0"], c["t1"], c["label"], c["sublabel"]) for c in live)
        assert found, f"lost: {clip['label']}/{clip['sublabel']} {clip['t0']}-{clip['t1']}; live: {spans}"
        matched.add(found[0]["clip_id"])
    for a in live:
        for b in live:
            same_topic = (a["label"], a["sublabel"]) == (b["label"], b["sublabel"])
            if a["clip_id"] < b["clip_id"] and same_topic:
                assert min(a["t1"], b["t1"]) - max(a["t0"], b["t0"]) < 1.0, f"duplicated: {a['text']}"
    sentences = [{**s, "t0": moved(s["t0"]), "t1": moved(s["t1"])} for s in script["sentences"]]
    for extra in (c for c in live if c["clip_id"] not in matched):
        assert expected_topic(extra, sentences) == (extra["label"], extra["sublabel"]), extra["text"]


def twins(live: dict, clip: dict, moved: Callable[[float], float] = lambda t: t) -> bool:
    """Whether a live clip stands for the file run's `clip` (see assert_no_clip_lost_or_duplicated)."""
    if (live["label"], live["sublabel"]) != (clip["label"], clip["sublabel"]):
        return False
    t0, t1 = moved(clip["t0"]), moved(clip["t1"])
    if abs(live["t0"] - t0) <= CLIP_TOLERANCE_S and abs(live["t1"] - t1) <= CLIP_TOLERANCE_S:
        return True
    return overlap(live["t0"], live["t1"], t0, t1) >= TWIN_SHARE * min(live["t1"] - live["t0"], t1 - t0)


# Issue 12: a script's selling-point sentence may lie this far outside the clip that holds it (Whisper's
# and the TTS trim's word edges differ); a labeled utterance must lie inside it to the hundredth.
SCRIPT_TOLERANCE_S = 0.3


def assert_selling_points_in_clips(name: str, utterances: list[dict], clips: list[dict]) -> None:
    """Every utterance labeled selling_point lies inside a clip that lists its sublabel in `sublabels`."""
    selling = [u for u in utterances if u["label"] == "selling_point"]
    assert selling, f"{name}: no selling point was heard at all"
    for u in selling:
        holders = [
            c
            for c in clips
            if c["t0"] <= u["t0"] + 0.01 and u["t1"] - 0.01 <= c["t1"] and u["sublabel"] in c["sublabels"]
        ]
        assert holders, (
            f"{name}: {u['sublabel']} '{u['text']}' ({u['t0']}-{u['t1']}) is in no clip carrying its sublabel"
        )


def assert_script_selling_points_clipped(name: str, script: dict, clips: list[dict]) -> None:
    """By the script, not by the classifier's labels: each selling-point sentence lies inside a selling-point clip."""
    selling_clips = [c for c in clips if c["label"] == "selling_point"]
    tolerance = SCRIPT_TOLERANCE_S
    for sentence in script["sentences"]:
        if sentence["label"] == "selling_point":
            assert any(
                c["t0"] <= sentence["t0"] + tolerance and sentence["t1"] - tolerance <= c["t1"] for c in selling_clips
            ), f"{name}: {sentence['sublabel']} '{sentence['text']}' ({sentence['t0']}-{sentence['t1']}) is in no clip"


# Test rooms belong to a brand, so every review they get must carry it into the training examples.
TEST_BRAND = "brand-a"


class Api:
    """A client of one server, signed in as its first admin (LIVECUT_ADMIN_PASSWORD) on first use."""

    def __init__(self, base: str, username: str = "admin", password: str | None = None) -> None:
        self.base = base
        self.username = username
        self.password = password or os.environ.get("LIVECUT_ADMIN_PASSWORD", "")
        self.cookie = ""

    def auth(self) -> dict[str, str]:
        """The session cookie header, signing in first if there is none yet."""
        if not self.cookie:
            data = json.dumps({"username": self.username, "password": self.password}).encode()
            request = urllib.request.Request(
                self.base + "/api/login", data=data, headers={"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                self.cookie = response.headers["set-cookie"].split(";", 1)[0]
        return {"Cookie": self.cookie}

    def get(self, path: str, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, headers={**self.auth(), **(headers or {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            kind = response.headers.get("content-type", "")
            return response.status, (json.loads(body) if "json" in kind else body), response.headers

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Content-Type": "application/json", **self.auth()}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def room(self, room_id: str) -> dict:
        return self.get(f"/api/rooms/{room_id}")[1]

    def clips(self, room_id: str) -> list[dict]:
        return self.get(f"/api/clips?room={room_id}")[1]

    def create_push_room(self, name: str, brand: str = TEST_BRAND) -> dict:
        status, room = self.post("/api/rooms", {"name": name, "source": {"type": "push"}, "brand": brand})
        assert status == 201, room
        return room


def start_serve(root: Path) -> dict:
    """`livecut serve` on free ports with its data under `root`; the caller stops it."""
    ports = {"http": free_port(), "rtmp": free_port(), "front": free_port()}
    config = root / "config.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{root / "data"}"\n'
        f"[server]\nport = {ports['http']}\n"
        f"[rtmp]\nport = {ports['rtmp']}\n"
        f'[ingest]\nfront_pull_url = "rtmp://127.0.0.1:{ports["front"]}/live/{{key}}"\n'
        'pull_allow = ["127.0.0.1"]\n'  # the tests' pull sources run on this machine
        f'[classifier]\nreviews_path = "{root / "reviews.jsonl"}"\n'
    )
    log = (root / "serve.log").open("w")
    proc = subprocess.Popen([*LIVECUT, "serve", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    api = Api(f"http://127.0.0.1:{ports['http']}")
    wait_for(lambda: _responds(api) or proc.poll() is not None, timeout=120, what="serve to start")
    assert proc.poll() is None, (root / "serve.log").read_text()
    return {"api": api, "proc": proc, "ports": ports, "root": root, "log": root / "serve.log"}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """One `livecut serve` for the live tests; stopped with SIGINT (Ctrl-C) after them."""
    running = start_serve(tmp_path_factory.mktemp("serve"))
    yield running
    running["proc"].send_signal(signal.SIGINT)
    assert running["proc"].wait(timeout=180) == 0, running["log"].read_text()[-3000:]


def _responds(api: Api) -> bool:
    """The API answers (401 included: it is up, this client is only not signed in yet)."""
    try:
        with urllib.request.urlopen(api.base + "/api/me", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def listening(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition, timeout: float, what: str, every: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def publish(source: Path, url: str, *, realtime: bool = False, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    args = ["ffmpeg", "-v", "error", *(["-re"] if realtime else []), *extra, "-i", str(source)]
    return subprocess.Popen([*args, "-c", "copy", "-f", "flv", url], stderr=subprocess.PIPE)


def settled(api: Api, room_id: str) -> bool:
    """Every received fragment is transcribed, the stream end is flushed, and no clip is still rendering."""
    room = api.room(room_id)
    return (
        room["status"] in ("reconnecting", "ended", "error")
        and room["processed_to"] >= room["duration_s"] - 0.01
        and room["counters"]["rendering"] == 0
    )


@contextlib.contextmanager
def serving(app) -> Iterator[str]:  # noqa: ANN001 - a FastAPI app
    """`app` on a free 127.0.0.1 port in a uvicorn thread, for browser tests; yields its base URL."""
    import uvicorn

    from livecut.api import close_event_streams

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    config.timeout_graceful_shutdown = 2
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=20, what="uvicorn to start", every=0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        close_event_streams(app)  # the page's event stream would keep uvicorn waiting
        server.should_exit = True
        thread.join(10)


def services_without_whisper(config: dict, db: Path, media: object, classifiers: object) -> object:
    """LiveServices for a transcribe stage whose test never reaches Whisper (a scripted transcript,
    or only the VAD): its recogniser is a bare object that fails if asked."""
    from livecut.bus import MemoryBus
    from livecut.runtime.services import LiveServices
    from livecut.runtime.settings import transcriber_settings
    from livecut.store import MetadataStore

    return LiveServices(
        config,
        MetadataStore(db),
        media,
        MemoryBus(),
        transcriber_settings=transcriber_settings(config),
        recognizer=object(),
        classifiers=classifiers,
    )


async def stalled_publisher(port: int, key: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Handshake, connect, createStream, publish with a valid key, then nothing at all."""
    from stream.rtmp import amf0
    from stream.rtmp.protocol import COMMAND_AMF0, Message, encode_message

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x03" + bytes(1536))
    await reader.readexactly(1 + 2 * 1536)
    writer.write(bytes(1536))
    commands = [
        (0, ("connect", 1, {"app": "live", "tcUrl": f"rtmp://127.0.0.1:{port}/live"})),
        (0, ("createStream", 2, None)),
        (1, ("publish", 0, None, key, "live")),
    ]
    for stream_id, values in commands:
        writer.write(encode_message(Message(COMMAND_AMF0, stream_id, 0, amf0.encode(*values)), 3, 128))
    await writer.drain()
    return reader, writer


def lavfi_flv(path: Path, seconds: float, *, gop_frames: int = 50, tone_hz: int = 300) -> Path:
    """An FLV of ffmpeg's test picture (160x90, 25 fps, a keyframe every `gop_frames`: 2 s) and a sine tone (AAC)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25"]
        + ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=44100", "-t", str(seconds)]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(gop_frames), "-c:a", "aac"]
        + ["-f", "flv", str(path)],
        check=True,
    )
    return path
