"""Speech recognition of one speech chunk with faster-whisper.

Each chunk is recognised on its own: its language is detected (restricted to the
configured languages) unless forced, the prompt matches that language, and Chinese
comes out in simplified characters (prompt, then OpenCC t2s). Whisper's well-known
hallucinations on music and silence are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from faster_whisper import WhisperModel
from opencc import OpenCC

from livecut.contracts import Word
from segmenter.speech_chunker import SpeechChunk
from segmenter.whisper_window import DecodeSettings, WindowDecoder, WindowSegment, WindowWord

_NOT_TEXT = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class AsrSettings:
    model_path: Path
    language: str = ""
    languages: tuple[str, ...] = ("zh", "en")
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1
    no_speech_threshold: float = 0.5
    log_prob_threshold: float = -1.0
    initial_prompts: dict[str, str] = field(default_factory=dict)
    hallucinations: tuple[str, ...] = ()
    min_segment_probability: float = 0.5


@dataclass
class RecognizedChunk:
    lang: str
    words: list[Word]


class SpeechRecognizer:
    """Loads one Whisper model; `recognize` turns a SpeechChunk into timed words."""

    def __init__(self, settings: AsrSettings) -> None:
        self.settings = settings
        self.model = WhisperModel(
            str(settings.model_path),
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
        )
        self.decoder = WindowDecoder(self.model, DecodeSettings(beam_size=settings.beam_size))
        self.to_simplified = OpenCC("t2s")
        self.hallucinations = [_normalise(h) for h in settings.hallucinations if _normalise(h)]

    def recognize(self, chunk: SpeechChunk, hotwords: dict[str, str] | None = None) -> RecognizedChunk:
        """`hotwords`: per language, the room's words Whisper should expect (the recognizer is shared by rooms)."""
        languages = (self.settings.language,) if self.settings.language else self.settings.languages
        result = self.decoder.decode(chunk.samples, languages, self.settings.initial_prompts, hotwords)
        words: list[Word] = []
        for segment in result.segments:
            if self._is_noise(segment):
                continue
            words.extend(self._word(chunk.t0, w, result.lang) for w in segment.words)
        return RecognizedChunk(lang=result.lang, words=[w for w in words if w.text.strip()])

    def _is_noise(self, segment: WindowSegment) -> bool:
        if (
            segment.no_speech_prob > self.settings.no_speech_threshold
            and segment.avg_logprob < self.settings.log_prob_threshold
        ):
            return True
        words = segment.words or []
        if words and sum(w.probability for w in words) / len(words) < self.settings.min_segment_probability:
            return True
        text = _normalise(segment.text)
        return not text or any(h in text for h in self.hallucinations)

    def _word(self, offset: float, word: WindowWord, lang: str) -> Word:
        text = self.to_simplified.convert(word.word) if lang == "zh" else word.word
        return Word(
            t0=round(offset + word.start, 3),
            t1=round(offset + word.end, 3),
            text=text,
            probability=round(word.probability, 4),
        )


def _normalise(text: str) -> str:
    return _NOT_TEXT.sub("", text).lower()
