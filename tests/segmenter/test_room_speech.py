"""A room's silence is measured up to the speech it has heard (segmenter.RoomSpeech.idle).

A recorded file's speech waits for a full Whisper window before it is recognised. The media
clock runs ahead of the words meanwhile, and the held speech must not count as silence:
otherwise a topic run closes early, the next words of the topic open a second clip, and
which happens depends on how the file's fragments were batched (a flaky `livecut clip`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from livecut.contracts import SAMPLE_RATE, Utterance, Word
from segmenter.asr import AsrSettings
from segmenter.room_speech import RoomSpeech
from segmenter.segment_builder import SegmentBuilder, SegmentSettings
from segmenter.speech_chunker import SpeechChunk
from segmenter.transcriber import Transcriber, TranscriberSettings

SEGMENTS = SegmentSettings(margin_s=0.3, min_s=6.0, max_s=20.0, close_after_silence_s=8.0)


class _Recognizer:
    """Only what the transcriber reads of a recogniser without recognising."""

    def __init__(self) -> None:
        self.settings = AsrSettings(model_path=Path("unused"))


def room(full_windows: bool) -> RoomSpeech:
    settings = TranscriberSettings(asr=AsrSettings(model_path=Path("unused")))
    transcriber = Transcriber(settings, _Recognizer(), full_windows=full_windows)  # type: ignore[arg-type]
    speech = RoomSpeech(transcriber, SegmentBuilder(SEGMENTS, room="r", source="in.mp4"), classifier=None)  # type: ignore[arg-type]
    drape = Utterance("r", 2.0, 9.0, "垂感", "zh", [Word(2.0, 9.0, "垂感")], "selling_point", "drape", 0.9)
    assert speech.builder.feed(drape) == []
    return speech


def speech_at(t0: float, seconds: float) -> SpeechChunk:
    return SpeechChunk(t0=t0, samples=np.full(int(seconds * SAMPLE_RATE), 0.1, dtype=np.float32))


def test_speech_held_for_a_full_window_is_not_silence():
    speech = room(full_windows=True)
    speech.transcriber.held = [speech_at(10.0, 6.0), speech_at(16.5, 5.0)]
    assert speech.heard_to(30.0) == 10.0
    assert speech.idle(30.0) == [], "the run closed while its next words were still waiting for a window"
    speech.transcriber.held = []
    closed = speech.idle(30.0)
    assert [(c.sublabel, c.t0, c.t1) for c in closed] == [("drape", 1.7, 9.3)]


def test_speech_still_open_in_the_vad_is_not_silence():
    speech = room(full_windows=False)
    chunker = speech.transcriber.chunker
    chunker.buffer, chunker.buffer_t0 = speech_at(9.5, 12.0).samples, 9.5
    assert speech.idle(21.5) == []
    chunker.buffer, chunker.buffer_t0 = np.zeros(0, dtype=np.float32), None
    assert [c.sublabel for c in speech.idle(21.5)] == ["drape"]
