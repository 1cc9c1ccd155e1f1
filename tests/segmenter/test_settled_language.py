"""When a live room's chunks may share Whisper windows with other rooms': once its language is
settled, with a regular check, and never for a recorded file (segmenter.Transcriber)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livecut.contracts import Word
from segmenter.asr import AsrSettings, RecognizedChunk
from segmenter.speech_chunker import SpeechChunk
from segmenter.transcriber import RECHECK_CHUNKS, SETTLE_CHUNKS, Transcriber, TranscriberSettings


class _Recognizer:
    """Only what the transcriber reads of a recogniser when it builds requests."""

    def __init__(self, language: str = "") -> None:
        self.settings = AsrSettings(model_path=Path("unused"), language=language)


def transcriber(language: str = "", full_windows: bool = False) -> Transcriber:
    settings = TranscriberSettings(asr=AsrSettings(model_path=Path("unused")))
    return Transcriber(settings, _Recognizer(language), full_windows=full_windows)  # type: ignore[arg-type]


def chunk() -> SpeechChunk:
    return SpeechChunk(t0=0.0, samples=np.zeros(16000, dtype=np.float32))


def heard(lang: str, text: str = "好") -> RecognizedChunk:
    return RecognizedChunk(lang, [Word(0.0, 0.5, text)])


def next_language(t: Transcriber) -> str | None:
    return t.requests([chunk()])[0].language


def test_a_room_shares_windows_once_its_last_chunks_were_heard_in_one_language():
    t = transcriber()
    assert next_language(t) is None
    t.understand([heard("zh") for _ in range(SETTLE_CHUNKS - 1)])
    assert next_language(t) is None
    # A chunk with no words (music) says nothing about the language.
    t.understand([RecognizedChunk("en", [])])
    assert next_language(t) is None
    t.understand([heard("zh")])
    assert next_language(t) == "zh"
    t.understand([heard("en", "hello")])
    assert next_language(t) is None, "the host switched language: heard alone again"


def test_a_settled_room_is_heard_alone_every_so_often_to_notice_a_switch():
    t = transcriber()
    t.understand([heard("zh") for _ in range(SETTLE_CHUNKS)])
    languages = [next_language(t) for _ in range(2 * (RECHECK_CHUNKS + 1))]
    assert languages.count(None) == 2
    assert languages[RECHECK_CHUNKS] is None and languages[:RECHECK_CHUNKS] == ["zh"] * RECHECK_CHUNKS


def test_a_forced_language_shares_at_once_and_a_recorded_file_never_does():
    assert next_language(transcriber(language="en")) == "en"
    file = transcriber(language="zh", full_windows=True)
    file.understand([heard("zh") for _ in range(SETTLE_CHUNKS)])
    assert next_language(file) is None


def test_requests_carry_the_rooms_hotwords_and_stream():
    t = transcriber()
    t.room = "room-a"
    request = t.requests([chunk()])[0]
    assert request.stream == "room-a" and request.hotwords == t.hotwords and request.hotwords
