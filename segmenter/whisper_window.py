"""Whisper on one window of at most 30 s, encoded once.

faster-whisper's `transcribe` is built for long files: it encodes the window again to
detect the language, falls back to sampling at five temperatures whenever the average
log-probability is low (common on live audio over music), and after the last word it
seeks into the padding and decodes a second window, which is where most hallucinated
tails come from. Here a window is one room's speech chunks packed into at most 30 s
(segmenter/window_packing.py), so this decoder does what such a window needs and nothing
more: one encoder pass shared by language detection, decoding and word alignment (the
windows of a batch encoded together and, where they share a prompt, decoded greedily
together), and a retry at a higher temperature only when the text repeats itself.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions, get_compression_ratio, get_suppressed_tokens

PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"
# The first timestamp Whisper may give (faster-whisper's max_initial_timestamp).
MAX_INITIAL_TIMESTAMP_S = 1.0


@dataclass
class WindowWord:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class WindowSegment:
    text: str
    no_speech_prob: float
    avg_logprob: float
    words: list[WindowWord]


@dataclass
class WindowResult:
    lang: str
    segments: list[WindowSegment]
    # The text repeated itself and the request asked for no retry at higher temperatures.
    repetitive: bool = False


@dataclass(frozen=True)
class DecodeSettings:
    beam_size: int = 1
    # Sampling temperatures tried, in order, while the text is too repetitive to be speech.
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)
    compression_ratio_threshold: float = 2.4
    # Batches decoded at once, each on its own thread (the model needs as many num_workers).
    workers: int = 1


@dataclass(frozen=True)
class WindowRequest:
    """One window to decode. `languages`: one forces it; several restrict detection to them, in
    order of preference. `prompts` and `hotwords` are per language; hotwords enter the prompt as
    faster-whisper's `transcribe(hotwords=...)` puts them (after <|startofprev|>, before the
    initial prompt)."""

    samples: np.ndarray
    languages: tuple[str, ...]
    prompts: dict[str, str]
    hotwords: dict[str, str] | None = None
    # False: text that repeats itself is returned marked `repetitive` instead of being sampled
    # again (a window of several rooms repeats itself when they say the same thing; the caller
    # decodes their chunks apart).
    retry_repetitive: bool = True


@dataclass
class _Pending:
    """A request on its way through a batch: its frames, language, tokenizer, options and prompt."""

    frames: int
    lang: str
    tokenizer: Tokenizer
    options: TranscriptionOptions
    prompt: list[int]
    retry_repetitive: bool = True


class WindowDecoder:
    def __init__(self, model: WhisperModel, settings: DecodeSettings) -> None:
        self.model = model
        self.settings = settings
        self.max_frames = model.feature_extractor.nb_max_frames

    def decode_many(self, requests: list[WindowRequest], batch_size: int = 8) -> list[WindowResult]:
        """Decode the windows in batches of at most `batch_size`, `settings.workers` batches at
        once: one encoder call and, for windows that share a prompt, one greedy (or beam)
        decoding call per batch. A window whose text repeats itself is decoded again on its own
        at the higher temperatures.

        Windows are spread over the workers even when they would fit one batch: greedy decoding
        goes a token at a time and leaves cores idle, so on 2 cores two batches at once beat one
        of both (8 live chunks: 6.5 s -> 5.3 s; zh_live's 4 windows one by one: 6.1 s -> 4.2 s).
        A window's words do not depend on the worker that decoded it."""
        size = _batch_size(len(requests), batch_size, self.settings.workers)
        batches = [requests[i : i + size] for i in range(0, len(requests), size)]
        if len(batches) <= 1:
            return self._decode_batch(batches[0]) if batches else []
        with ThreadPoolExecutor(min(self.settings.workers, len(batches))) as pool:
            return [r for results in pool.map(self._decode_batch, batches) for r in results]

    def _decode_batch(self, requests: list[WindowRequest]) -> list[WindowResult]:
        features = [self.model.feature_extractor(r.samples) for r in requests]
        frames = [min(f.shape[-1] - 1, self.max_frames) for f in features]
        stacked = np.stack([pad_or_trim(f[:, :n]) for f, n in zip(features, frames, strict=True)])
        encoder_output = self.model.encode(stacked)
        # Each window's own encoder output, for what runs per window (fallback, alignment).
        encoded = np.asarray(encoder_output)
        langs = self._languages(encoder_output, requests)
        pending = [self._pending(r, n, lang) for r, n, lang in zip(requests, frames, langs, strict=True)]
        decoded = self._generate(encoded, pending)
        return [self._result(encoded[i : i + 1], p, *decoded[i]) for i, p in enumerate(pending)]

    def _pending(self, request: WindowRequest, frames: int, lang: str) -> _Pending:
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, "transcribe", lang)
        options = self._options(tokenizer, request.prompts.get(lang) or None)
        prompt = self.model.get_prompt(
            tokenizer,
            self._prompt_tokens(tokenizer, options.initial_prompt),
            hotwords=(request.hotwords or {}).get(lang) or None,
        )
        return _Pending(frames, lang, tokenizer, options, prompt, request.retry_repetitive)

    def _generate(self, encoded: np.ndarray, pending: list[_Pending]) -> list[tuple[Any, float, bool]]:
        """(generation result, average log-probability, repetitive and not retried) per window.
        CTranslate2 decodes a batch only when every prompt puts <|startoftranscript|> at the same
        place: windows go by prompt."""
        by_prompt: dict[tuple[int, ...], list[int]] = {}
        for index, p in enumerate(pending):
            by_prompt.setdefault(tuple(p.prompt), []).append(index)
        decoded: dict[int, tuple[Any, float, bool]] = {}
        for prompt, indexes in by_prompt.items():
            batch = _storage(encoded[indexes])
            options = pending[indexes[0]].options
            results = self.model.model.generate(batch, [list(prompt)] * len(indexes), **self._first_try(options))
            for index, result in zip(indexes, results, strict=True):
                decoded[index] = self._checked(encoded[index : index + 1], pending[index], result)
        return [decoded[i] for i in range(len(pending))]

    def _first_try(self, options: TranscriptionOptions) -> dict[str, Any]:
        """generate()'s arguments at the first temperature, as faster-whisper's fallback passes them."""
        return {
            "beam_size": options.beam_size,
            "patience": options.patience,
            "length_penalty": options.length_penalty,
            "repetition_penalty": options.repetition_penalty,
            "no_repeat_ngram_size": options.no_repeat_ngram_size,
            "max_length": self.model.max_length,
            "return_scores": True,
            "return_no_speech_prob": True,
            "suppress_blank": options.suppress_blank,
            "suppress_tokens": options.suppress_tokens,
            "max_initial_timestamp_index": int(round(options.max_initial_timestamp / self.model.time_precision)),
        }

    def _checked(self, encoded: np.ndarray, pending: _Pending, result: Any) -> tuple[Any, float, bool]:
        """The first-temperature result, or, when its text is too repetitive to be speech, the
        best of the higher temperatures (faster-whisper's fallback, on this window alone); the
        flag: too repetitive, and not retried because the request said so."""
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        ratio = get_compression_ratio(pending.tokenizer.decode(tokens).strip())
        higher = self.settings.temperatures[1:]
        if ratio <= self.settings.compression_ratio_threshold or not higher:
            return result, avg_logprob, False
        if not pending.retry_repetitive:
            return result, avg_logprob, True
        options = replace(pending.options, temperatures=list(higher))
        retried, retried_logprob, _, _ = self.model.generate_with_fallback(
            _storage(encoded), pending.prompt, pending.tokenizer, options
        )
        return retried, retried_logprob, False

    def _result(
        self, encoded: np.ndarray, pending: _Pending, result: Any, avg_logprob: float, repetitive: bool
    ) -> WindowResult:
        tokenizer, frames = pending.tokenizer, pending.frames
        segments, _, _ = self.model._split_segments_by_timestamps(
            tokenizer=tokenizer,
            tokens=result.sequences_ids[0],
            time_offset=0.0,
            segment_size=frames,
            segment_duration=frames * self.model.feature_extractor.time_per_frame,
            seek=0,
        )
        if segments:
            self.model.add_word_timestamps(
                [segments], tokenizer, _storage(encoded), frames, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS, 0.0
            )
        segments_out = [self._segment(s, tokenizer, result, avg_logprob) for s in segments]
        return WindowResult(pending.lang, segments_out, repetitive)

    def _languages(self, encoder_output: Any, requests: list[WindowRequest]) -> list[str]:
        if all(len(r.languages) == 1 for r in requests) or not self.model.model.is_multilingual:
            return [r.languages[0] if len(r.languages) == 1 else "en" for r in requests]
        detected = self.model.model.detect_language(encoder_output)
        return [self._language(ranked, r.languages) for ranked, r in zip(detected, requests, strict=True)]

    @staticmethod
    def _language(ranked: list[tuple[str, float]], languages: tuple[str, ...]) -> str:
        if len(languages) == 1:
            return languages[0]
        allowed = [token[2:-2] for token, _ in ranked if token[2:-2] in languages]
        return allowed[0] if allowed else languages[0]

    @staticmethod
    def _prompt_tokens(tokenizer: Tokenizer, initial_prompt: str | None) -> list[int]:
        return tokenizer.encode(" " + initial_prompt.strip()) if initial_prompt else []

    def _options(self, tokenizer: Tokenizer, initial_prompt: str | None) -> TranscriptionOptions:
        # log_prob_threshold None: a low log-probability alone does not trigger sampling again;
        # the no-speech decision is the recognizer's, on the returned scores.
        return TranscriptionOptions(
            beam_size=self.settings.beam_size,
            best_of=1,
            patience=1,
            length_penalty=1,
            repetition_penalty=1,
            no_repeat_ngram_size=0,
            log_prob_threshold=None,
            no_speech_threshold=None,
            compression_ratio_threshold=self.settings.compression_ratio_threshold,
            condition_on_previous_text=False,
            prompt_reset_on_temperature=0.5,
            temperatures=list(self.settings.temperatures),
            initial_prompt=initial_prompt,
            prefix=None,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            without_timestamps=False,
            max_initial_timestamp=MAX_INITIAL_TIMESTAMP_S,
            word_timestamps=True,
            prepend_punctuations=PREPEND_PUNCTUATIONS,
            append_punctuations=APPEND_PUNCTUATIONS,
            multilingual=False,
            max_new_tokens=None,
            clip_timestamps="0",
            hallucination_silence_threshold=None,
            hotwords=None,
        )

    @staticmethod
    def _segment(segment: dict, tokenizer: Tokenizer, result, avg_logprob: float) -> WindowSegment:
        return WindowSegment(
            text=tokenizer.decode(segment["tokens"]),
            no_speech_prob=result.no_speech_prob,
            avg_logprob=avg_logprob,
            words=[WindowWord(w["start"], w["end"], w["word"], w["probability"]) for w in segment.get("words", [])],
        )


def _batch_size(windows: int, most: int, workers: int) -> int:
    """Windows per batch: at most `most`, and few enough that every worker gets a batch."""
    return max(1, min(most, -(-windows // max(1, workers))))


def _storage(encoded: np.ndarray) -> ctranslate2.StorageView:
    """Encoder outputs (a slice of a batch) as CTranslate2 takes them; the array must outlive the view."""
    return ctranslate2.StorageView.from_array(np.ascontiguousarray(encoded))
