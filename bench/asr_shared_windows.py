"""Accuracy and ASR cost when live rooms share Whisper windows (asr.share_windows).

The three committed samples play as three live rooms at once, each with its own vocabulary
(zh_heldout with its catalog terms, `--no-products` without). Every `--every` seconds of media,
each room's new audio goes through its VAD and the chunks that closed, of every room, go to
one recogniser call, as in the transcribe stage when it keeps up (2 s: one fragment) or is
behind (10 s: about its cycle at 6 rooms on 2 cores). Printed per cadence, with each room's
windows its own and then shared: each sample's error rate after every vocabulary step (the
`all` column of bench/asr_accuracy.py), the windows decoded and the recogniser's CPU seconds.

    .venv/bin/python bench/asr_shared_windows.py [--every 2 10] [--no-products]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from asr_accuracy import FIXTURES, _english, _error_rate, _joined, _product_terms  # noqa: E402

from livecut.config import load_config  # noqa: E402
from livecut.contracts import AudioChunk, EndOfStream, Utterance  # noqa: E402
from livecut.runtime.settings import transcriber_settings  # noqa: E402
from segmenter.asr import SpeechRecognizer  # noqa: E402
from segmenter.numbers import normalize_numbers  # noqa: E402
from segmenter.speech_chunker import SpeechChunk  # noqa: E402
from segmenter.transcriber import Transcriber, TranscriberSettings  # noqa: E402
from stream.file_source import FileSource  # noqa: E402

SAMPLES = ["zh_live", "en_live", "zh_heldout"]


@dataclasses.dataclass
class _Room:
    name: str
    transcriber: Transcriber
    events: list[AudioChunk | EndOfStream]
    reference: str
    utterances: list[Utterance] = dataclasses.field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--every", type=float, nargs="+", default=[2.0, 10.0], help="media seconds per recogniser call")
    parser.add_argument("--no-products", action="store_true", help="zh_heldout's room without its catalog terms")
    args = parser.parse_args()
    settings = transcriber_settings(load_config(None))
    print(
        f"{'every s':>7} {'windows':>8} " + " ".join(f"{s:>11}" for s in SAMPLES) + f" {'decoded':>8} {'ASR cpu s':>9}"
    )
    for every in args.every:
        for shared in (False, True):
            asr = dataclasses.replace(settings.asr, share_windows=shared)
            recognizer = SpeechRecognizer(asr)
            room_settings = dataclasses.replace(settings, asr=asr)
            rooms = [_room(name, room_settings, recognizer, not args.no_products) for name in SAMPLES]
            windows, cpu = _play(rooms, recognizer, every)
            rates = (_error_rate(r.reference, _joined(r.utterances, r.name), r.name) for r in rooms)
            cells = " ".join(f"{rate:10.1f}%" for rate in rates)
            print(f"{every:7.0f} {'shared' if shared else 'own':>8} {cells} {windows:8d} {cpu:9.1f}")


def _play(rooms: list[_Room], recognizer: SpeechRecognizer, every: float) -> tuple[int, float]:
    """Every room's audio through one recogniser, `every` media seconds at a time: (windows, CPU s)."""
    cpu, now = 0.0, every
    counted: list[int] = []
    decode_many = recognizer.decoder.decode_many

    def counting(requests, batch_size=8):  # type: ignore[no-untyped-def]
        counted.append(len(requests))
        return decode_many(requests, batch_size)

    recognizer.decoder.decode_many = counting  # type: ignore[method-assign]
    while any(room.events for room in rooms):
        listened = [(room, _listen_until(room, now)) for room in rooms]
        requests = [request for room, chunks in listened for request in room.transcriber.requests(chunks)]
        started = time.process_time()
        heard = iter(recognizer.recognize_many(requests))
        cpu += time.process_time() - started
        for room, chunks in listened:
            room.utterances += room.transcriber.understand([next(heard) for _ in chunks])
        now += every
    return sum(counted), cpu


def _listen_until(room: _Room, now: float) -> list[SpeechChunk]:
    chunks: list[SpeechChunk] = []
    while room.events and (isinstance(room.events[0], EndOfStream) or room.events[0].t1 <= now):
        chunks += room.transcriber.listen(room.events.pop(0))
    return chunks


def _room(name: str, settings: TranscriberSettings, recognizer: SpeechRecognizer, products: bool) -> _Room:
    script = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    verbatim = "".join(s["text"] for s in script["sentences"]) if name.startswith("zh") else _english(script)
    terms = _product_terms(script) if products else []
    transcriber = Transcriber(settings, recognizer, terms)
    events = list(FileSource(FIXTURES / f"{name}.mp4", room=name).events())
    return _Room(name, transcriber, events, normalize_numbers(verbatim))


if __name__ == "__main__":
    main()
