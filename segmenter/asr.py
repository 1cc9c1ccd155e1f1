"""Speech recognition of speech chunks with faster-whisper.

Chunks that are ready together are packed into shared 30 s windows (window_packing) and the
windows decoded in batches. A window holds one room's chunks, its language detected
(restricted to the configured languages) unless forced; or, for rooms whose language is
settled (the caller says so per chunk), the chunks of several such rooms of one language,
decoded in it with the union of their hotwords. The prompt matches the language, and Chinese
comes out in simplified characters (prompt, then OpenCC t2s).
Whisper's well-known hallucinations on music and silence are dropped.
"""

from __future__ import annotations

import hashlib
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
from segmenter.window_packing import PackedWindow, PackingSettings, Vocabulary, hotwords_of, pack

_NOT_TEXT = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class AsrSettings:
    model_path: Path
    language: str = ""
    languages: tuple[str, ...] = ("zh", "en")
    compute_type: str = "int8"
    cpu_threads: int = 2
    # Whisper calls (window batches) that run at once, each with cpu_threads threads.
    workers: int = 2
    beam_size: int = 1
    no_speech_threshold: float = 0.5
    log_prob_threshold: float = -1.0
    initial_prompts: dict[str, str] = field(default_factory=dict)
    hallucinations: tuple[str, ...] = ()
    min_segment_probability: float = 0.5
    packing: PackingSettings = field(default_factory=PackingSettings)
    # Windows per encoder and decoder call.
    batch_windows: int = 8
    # Chunks of rooms whose language is settled share windows (ChunkRequest.language) while the
    # union of their rooms' hotwords stays within shared_hotwords_max_chars.
    share_windows: bool = True
    shared_hotwords_max_chars: int = 240

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"asr.workers must be >= 1, got {self.workers}")
        if self.shared_hotwords_max_chars < 1:
            raise ValueError(f"asr.shared_hotwords_max_chars must be >= 1, got {self.shared_hotwords_max_chars}")


@dataclass
class RecognizedChunk:
    lang: str
    words: list[Word]


@dataclass(frozen=True)
class ChunkRequest:
    """A chunk to recognise, the stream (room) it belongs to, and that room's hotwords per language.
    `language`: the stream's settled language, if it has one; the chunk may then share a window
    with other streams' chunks of that language and is decoded in it. Without, only chunks of
    its own stream share its window, and the window's language is detected."""

    chunk: SpeechChunk
    stream: str = ""
    hotwords: dict[str, str] | None = None
    language: str | None = None


@dataclass
class _Window:
    """A packed window, the request numbers its placements count in, its hotwords and languages."""

    packed: PackedWindow
    indexes: list[int]
    hotwords: dict[str, str] | None
    languages: tuple[str, ...]


class SpeechRecognizer:
    """Loads one Whisper model; `recognize` turns a SpeechChunk into timed words."""

    def __init__(self, settings: AsrSettings) -> None:
        self.settings = settings
        self.model = WhisperModel(
            str(settings.model_path),
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            num_workers=settings.workers,
        )
        self.decoder = WindowDecoder(self.model, DecodeSettings(beam_size=settings.beam_size, workers=settings.workers))
        self.to_simplified = OpenCC("t2s")
        self.hallucinations = [_normalise(h) for h in settings.hallucinations if _normalise(h)]

    def recognize(self, chunk: SpeechChunk, hotwords: dict[str, str] | None = None) -> RecognizedChunk:
        """`hotwords`: per language, the room's words Whisper should expect (the recognizer is shared by rooms)."""
        return self.recognize_many([ChunkRequest(chunk, hotwords=hotwords)])[0]

    def recognize_many(self, requests: list[ChunkRequest]) -> list[RecognizedChunk]:
        """Each chunk's words, in the order given. Chunks are packed into shared windows in the
        order given: give a stream's chunks in media-time order. Two cases get one more try,
        each stream's chunks in windows of their own: the chunks after the last word of a
        window Whisper ended early (after a change of voice or a long pause), never heard; and
        the chunks of a window of several rooms whose text repeats itself (rooms that say the
        same thing, a restreamed recording), which a retry at higher temperatures would garble."""
        recognized, unheard = self._recognize_once(requests, share=self.settings.share_windows)
        if unheard:
            again, _ = self._recognize_once([requests[i] for i in unheard], share=False)
            for index, heard in zip(unheard, again, strict=True):
                recognized[index] = heard
        return recognized

    def _recognize_once(self, requests: list[ChunkRequest], share: bool) -> tuple[list[RecognizedChunk], list[int]]:
        """Each chunk's words, and the chunks to try again (request numbers)."""
        groups = self._sharing(requests, share)
        windows = [w for indexes, language in groups for w in self._pack(requests, indexes, language)]
        decoded = self.decoder.decode_many(
            [self._window_request(w, requests) for w in windows], self.settings.batch_windows
        )
        recognized: dict[int, RecognizedChunk] = {}
        unheard: list[int] = []
        for window, result in zip(windows, decoded, strict=True):
            split = self._split(window.packed, result)
            again = [p.index for p in window.packed.placements] if result.repetitive else []
            unheard += [window.indexes[i] for i in again or _after_last_word(window.packed, split)]
            for placement, words in split.items():
                index = window.indexes[placement]
                recognized[index] = RecognizedChunk(result.lang, self._words(requests[index].chunk, words, result.lang))
        return [recognized[i] for i in range(len(requests))], sorted(unheard)

    def _window_request(self, window: _Window, requests: list[ChunkRequest]) -> WindowRequest:
        """A window of several rooms is not sampled again when its text repeats: see recognize_many."""
        rooms = {requests[window.indexes[p.index]].stream for p in window.packed.placements}
        prompts = self.settings.initial_prompts
        return WindowRequest(window.packed.samples, window.languages, prompts, window.hotwords, len(rooms) == 1)

    def _sharing(self, requests: list[ChunkRequest], share: bool) -> list[tuple[list[int], str | None]]:
        """The requests that may share windows, with their language: per settled language (when
        sharing), else per stream (language None: detected per window). A chunk whose audio
        another request of the batch already has (rooms restreaming one recording in step) stays
        in its own room's windows: Whisper hears one sentence said twice in a window as one."""
        groups: dict[tuple[str, str], list[int]] = {}
        heard: set[bytes] = set()
        for index, request in enumerate(requests):
            if request.language and share and _first_time(request.chunk, heard):
                groups.setdefault(("language", request.language), []).append(index)
            else:
                groups.setdefault(("stream", request.stream), []).append(index)
        return [(indexes, name if kind == "language" else None) for (kind, name), indexes in groups.items()]

    def _pack(self, requests: list[ChunkRequest], indexes: list[int], language: str | None) -> list[_Window]:
        samples = [requests[i].chunk.samples for i in indexes]
        if language is None:
            languages = (self.settings.language,) if self.settings.language else self.settings.languages
            hotwords = requests[indexes[0]].hotwords
            return [_Window(packed, indexes, hotwords, languages) for packed in pack(samples, self.settings.packing)]
        vocabularies = [self._vocabulary(requests[i], language) for i in indexes]
        windows = []
        for packed in pack(samples, self.settings.packing, vocabularies):
            terms = hotwords_of([vocabularies[p.index] for p in packed.placements])
            windows.append(_Window(packed, indexes, {language: terms} if terms else None, (language,)))
        return windows

    def _vocabulary(self, request: ChunkRequest, language: str) -> Vocabulary:
        terms = ((request.hotwords or {}).get(language) or "").split()
        return Vocabulary(tuple(terms), self.settings.shared_hotwords_max_chars)

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


def _first_time(chunk: SpeechChunk, heard: set[bytes]) -> bool:
    """Whether no chunk in `heard` (digests, to which this one's is added) has this chunk's audio."""
    audio = hashlib.blake2b(chunk.samples.tobytes(), digest_size=16).digest()
    first = audio not in heard
    heard.add(audio)
    return first


def _after_last_word(window: PackedWindow, words: dict[int, list[WindowWord]]) -> list[int]:
    """The window's chunks (their numbers in its group) placed after the last one with words;
    none when no chunk has words (Whisper heard the whole window and found no speech)."""
    order = [p.index for p in window.placements]
    heard = [position for position, index in enumerate(order) if words[index]]
    return order[heard[-1] + 1 :] if heard else []


def _normalise(text: str) -> str:
    return _NOT_TEXT.sub("", text).lower()
