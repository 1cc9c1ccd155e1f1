"""A recorded file's words do not depend on how its audio was batched (real Whisper on zh_live).

In `livecut clip` the transcribe stage takes the fragments it finds waiting, and how many
depends on the machine's load. With `full_windows`, speech chunks wait until they fill a
Whisper window, so the windows, and the words Whisper hears in them, are the same whether the
chunks are recognised event by event or many events at a time (with one window per encoder
and decoder call, as `livecut clip` runs: a batched call rounds differently).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from livecut.runtime.settings import transcriber_settings
from segmenter.asr import SpeechRecognizer
from segmenter.transcriber import Transcriber
from stream.file_source import FileSource

pytestmark = pytest.mark.slow


def heard(settings, recognizer, path: Path, events_per_call: int) -> list[tuple[float, float, str]]:
    transcriber = Transcriber(settings, recognizer, full_windows=True)
    utterances, waiting = [], []
    for count, event in enumerate(FileSource(path, room="r").events(), start=1):
        waiting += transcriber.listen(event)
        if count % events_per_call == 0:
            utterances += transcriber.recognize(waiting)
            waiting = []
    utterances += transcriber.recognize(waiting)
    return [(u.t0, u.t1, u.text) for u in utterances]


def test_the_same_file_gives_the_same_words_however_its_speech_is_batched(config, fixtures):
    settings = transcriber_settings(config)
    settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, batch_windows=1))
    recognizer = SpeechRecognizer(settings.asr)
    encode = recognizer.model.encode
    windows: list[int] = []
    recognizer.model.encode = lambda features: windows.append(features.shape[0]) or encode(features)
    one_by_one = heard(settings, recognizer, fixtures / "zh_live.mp4", events_per_call=1)
    one_by_one_windows, windows[:] = sum(windows), []
    batched = heard(settings, recognizer, fixtures / "zh_live.mp4", events_per_call=7)
    assert one_by_one and one_by_one == batched
    assert one_by_one_windows == sum(windows) <= 4, "about 66 s of speech in 28 s windows"
