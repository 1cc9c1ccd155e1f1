"""Speech recognition of speech chunks with faster-whisper.

Chunks that are ready together are packed into shared 30 s windows (window_packing), one
room's chunks per window, and the windows decoded in batches. Each window's language is
detected (restricted to the configured languages) unless forced, the prompt matches that
language, and Chinese comes out in simplified characters (prompt, then OpenCC t2s).
Whisper's well-known hallucinations on music and silence are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from faster_whisper import WhisperModel
from opencc import OpenCC

from livecut.contracts import Word
from segmenter.speech_chunker import SpeechChunk
from segmenter.whisper_window import (
    DecodeSettings,
    WindowDecoder,
    WindowRequest,
    WindowResult,
    WindowSegment,
    WindowWord,
)
from segmenter.window_packing import PackedWindow, PackingSettings, pack

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
    packing: PackingSettings = field(default_factory=PackingSettings)
    # Windows per encoder and decoder call.
    batch_windows: int = 8


@dataclass
class RecognizedChunk:
    lang: str
    words: list[Word]


@dataclass(frozen=True)
class ChunkRequest:
    """A chunk to recognise, the stream (room) it belongs to, and that room's hotwords per language.
    Only chunks of one stream share a window: one speaker, one language, one prompt."""

    chunk: SpeechChunk
    stream: str = ""
    hotwords: dict[str, str] | None = None


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
        return self.recognize_many([ChunkRequest(chunk, hotwords=hotwords)])[0]

    def recognize_many(self, requests: list[ChunkRequest]) -> list[RecognizedChunk]:
        """Each chunk's words, in the order given. A stream's chunks are packed into shared
        windows in the order given: give them in media-time order. Whisper sometimes ends a
        window early (after a change of voice or a long pause): the chunks after its last word
        were never heard, and get one more window of their own."""
        recognized, unheard = self._recognize_once(requests)
        if unheard:
            again, _ = self._recognize_once([requests[i] for i in unheard])
            for index, heard in zip(unheard, again, strict=True):
                recognized[index] = heard
        return recognized

    def _recognize_once(self, requests: list[ChunkRequest]) -> tuple[list[RecognizedChunk], list[int]]:
        """Each chunk's words, and the chunks Whisper stopped before (request numbers)."""
        streams: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            streams.setdefault(request.stream, []).append(index)
        windows: list[tuple[PackedWindow, list[int], dict[str, str] | None]] = []
        for indexes in streams.values():
            for window in pack([requests[i].chunk.samples for i in indexes], self.settings.packing):
                windows.append((window, indexes, requests[indexes[0]].hotwords))
        languages = (self.settings.language,) if self.settings.language else self.settings.languages
        decoded = self.decoder.decode_many(
            [WindowRequest(w.samples, languages, self.settings.initial_prompts, h) for w, _, h in windows],
            batch_size=self.settings.batch_windows,
        )
        recognized: dict[int, RecognizedChunk] = {}
        unheard: list[int] = []
        for (window, indexes, _), result in zip(windows, decoded, strict=True):
            split = self._split(window, result)
            unheard += [indexes[i] for i in _after_last_word(window, split)]
            for placement, words in split.items():
                index = indexes[placement]
                recognized[index] = RecognizedChunk(result.lang, self._words(requests[index].chunk, words, result.lang))
        return [recognized[i] for i in range(len(requests))], sorted(unheard)

    def _split(self, window: PackedWindow, result: WindowResult) -> dict[int, list[WindowWord]]:
        """The window's words that are speech, per chunk (its number in the window's group), on the chunk's timeline."""
        words: dict[int, list[WindowWord]] = {p.index: [] for p in window.placements}
        for segment in result.segments:
            if self._is_noise(segment):
                continue
            for word in segment.words:
                placement = window.owner(word.start, word.end)
                shifted = WindowWord(
                    max(0.0, word.start - placement.start),
                    max(0.0, word.end - placement.start),
                    word.word,
                    word.probability,
                )
                words[placement.index].append(shifted)
        return words

    def _words(self, chunk: SpeechChunk, words: list[WindowWord], lang: str) -> list[Word]:
        timed = [self._word(chunk.t0, w, lang) for w in words]
        return [w for w in timed if w.text.strip()]

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


def _after_last_word(window: PackedWindow, words: dict[int, list[WindowWord]]) -> list[int]:
    """The window's chunks (their numbers in its group) placed after the last one with words;
    none when no chunk has words (Whisper heard the whole window and found no speech)."""
    order = [p.index for p in window.placements]
    heard = [position for position, index in enumerate(order) if words[index]]
    return order[heard[-1] + 1 :] if heard else []


def _normalise(text: str) -> str:
    return _NOT_TEXT.sub("", text).lower()
