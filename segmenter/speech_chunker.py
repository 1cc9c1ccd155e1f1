"""Streaming voice-activity detection: audio in, closed speech chunks out.

Silero VAD (shipped with faster-whisper) runs over a bounded buffer every `step_s`
of new audio. A speech chunk is emitted once silence after it is confirmed, or once
the VAD has split it at `max_chunk_s`; the buffer then drops what it emitted, so a
room's memory stays bounded however long the broadcast runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from livecut.contracts import SAMPLE_RATE, AudioChunk

# Audio kept before an open speech region so its onset is never cut.
ONSET_CONTEXT_S = 0.5


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5
    min_silence_ms: int = 400
    min_speech_ms: int = 250
    speech_pad_ms: int = 150
    max_chunk_s: float = 20.0
    step_s: float = 1.0


@dataclass
class SpeechChunk:
    t0: float
    samples: np.ndarray

    @property
    def t1(self) -> float:
        return self.t0 + len(self.samples) / SAMPLE_RATE


class SpeechChunker:
    """Feed AudioChunks in media-time order; get SpeechChunks as soon as each one is closed."""

    def __init__(self, settings: VadSettings) -> None:
        self.settings = settings
        self.options = VadOptions(
            threshold=settings.threshold,
            min_speech_duration_ms=settings.min_speech_ms,
            min_silence_duration_ms=settings.min_silence_ms,
            speech_pad_ms=settings.speech_pad_ms,
            max_speech_duration_s=settings.max_chunk_s,
        )
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_t0: float | None = None
        self.unscanned = 0

    @property
    def buffered_s(self) -> float:
        return len(self.buffer) / SAMPLE_RATE

    def feed(self, chunk: AudioChunk) -> list[SpeechChunk]:
        self._append(chunk)
        if self.unscanned < self.settings.step_s * SAMPLE_RATE:
            return []
        return self._scan(final=False)

    def flush(self) -> list[SpeechChunk]:
        """End of stream: every speech region still buffered is closed."""
        return self._scan(final=True) if len(self.buffer) else []

    def _append(self, chunk: AudioChunk) -> None:
        if self.buffer_t0 is None:
            self.buffer_t0 = chunk.t0
        gap = int(round((chunk.t0 - self._buffer_end()) * SAMPLE_RATE))
        parts = [self.buffer]
        if gap > 0:
            parts.append(np.zeros(gap, dtype=np.float32))
        parts.append(chunk.samples.astype(np.float32, copy=False))
        self.buffer = np.concatenate(parts)
        self.unscanned += len(chunk.samples) + max(gap, 0)

    def _buffer_end(self) -> float:
        return (self.buffer_t0 or 0.0) + len(self.buffer) / SAMPLE_RATE

    def _scan(self, final: bool) -> list[SpeechChunk]:
        self.unscanned = 0
        regions = get_speech_timestamps(self.buffer, self.options)
        closed = regions if final else regions[:-1] + self._closed_tail(regions[-1:])
        chunks = [self._to_chunk(region) for region in closed]
        self._drop_consumed(closed, regions)
        return chunks

    def _closed_tail(self, last: list[dict]) -> list[dict]:
        confirm = (self.settings.min_silence_ms + self.settings.speech_pad_ms) * SAMPLE_RATE // 1000
        return [r for r in last if r["end"] <= len(self.buffer) - confirm]

    def _to_chunk(self, region: dict) -> SpeechChunk:
        t0 = (self.buffer_t0 or 0.0) + region["start"] / SAMPLE_RATE
        return SpeechChunk(t0=t0, samples=self.buffer[region["start"] : region["end"]].copy())

    def _drop_consumed(self, closed: list[dict], regions: list[dict]) -> None:
        keep_from = closed[-1]["end"] if closed else 0
        still_open = regions[len(closed) :]
        context = int(ONSET_CONTEXT_S * SAMPLE_RATE)
        if still_open:
            keep_from = max(keep_from, still_open[0]["start"] - context)
        else:
            keep_from = max(keep_from, len(self.buffer) - context)
        keep_from = max(0, min(keep_from, len(self.buffer)))
        self.buffer = self.buffer[keep_from:]
        self.buffer_t0 = (self.buffer_t0 or 0.0) + keep_from / SAMPLE_RATE
