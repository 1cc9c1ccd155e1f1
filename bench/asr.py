"""Transcription speed: audio seconds transcribed per wall-clock second.

Runs the real transcriber (streaming VAD + faster-whisper, per-chunk language) over
the committed samples with Whisper `base` and, on English, `tiny.en`. Model loading
is timed separately and not counted in the speed.

    .venv/bin/python bench/asr.py [--repeat N]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from livecut.config import expand_path, load_config  # noqa: E402
from livecut.runtime.settings import transcriber_settings  # noqa: E402
from segmenter.asr import SpeechRecognizer  # noqa: E402
from segmenter.transcriber import Transcriber  # noqa: E402
from segmenter.whisper_models import resolve_whisper_model  # noqa: E402
from stream.file_source import FileSource, probe  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
RUNS = [("base", "zh_live.mp4"), ("base", "en_live.mp4"), ("tiny.en", "en_live.mp4")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1, help="runs per sample; the best is reported")
    args = parser.parse_args()
    config = load_config()
    row = "{:8} {:12} {:>8} {:>8} {:>10} {:>10} {:>7}"
    print(row.format("model", "sample", "audio s", "wall s", "x realtime", "utterances", "load s"))
    for model_name, sample in RUNS:
        settings = _settings(config, model_name)
        started = time.perf_counter()
        recognizer = SpeechRecognizer(settings.asr)
        load_s = time.perf_counter() - started
        duration = probe(FIXTURES / sample).duration or 0.0
        best, count = min(_transcribe(settings, recognizer, FIXTURES / sample) for _ in range(args.repeat))
        speed = duration / best
        print(row.format(model_name, sample, f"{duration:.1f}", f"{best:.2f}", f"{speed:.1f}", count, f"{load_s:.2f}"))


def _settings(config: dict, model_name: str):
    settings = transcriber_settings(config)
    model_path = resolve_whisper_model(model_name, expand_path(config["paths"]["model_cache"]))
    asr = dataclasses.replace(settings.asr, model_path=model_path)
    return dataclasses.replace(settings, asr=asr)


def _transcribe(settings, recognizer: SpeechRecognizer, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    transcriber = Transcriber(settings, recognizer, full_windows=True)
    count = sum(1 for _ in transcriber.transcribe(FileSource(path, room=path.stem).events()))
    return time.perf_counter() - started, count


if __name__ == "__main__":
    main()
