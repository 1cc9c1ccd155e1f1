"""Whisper on one window of at most 30 s, encoded once.

faster-whisper's `transcribe` is built for long files: it encodes the window again to
detect the language, falls back to sampling at five temperatures whenever the average
log-probability is low (common on live audio over music), and after the last word it
seeks into the padding and decodes a second window, which is where most hallucinated
tails come from. A VAD chunk is one short window, so this decoder does what a chunk
needs and nothing more: one encoder pass shared by language detection, decoding and
word alignment, and a retry at a higher temperature only when the text repeats itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

PREPEND_PUNCTUATIONS = "\"'“¿([{-"
APPEND_PUNCTUATIONS = "\"'.。,，!！?？:：”)]}、"


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


@dataclass(frozen=True)
class DecodeSettings:
    beam_size: int = 1
    # Sampling temperatures tried, in order, while the text is too repetitive to be speech.
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)
    compression_ratio_threshold: float = 2.4


class WindowDecoder:
    def __init__(self, model: WhisperModel, settings: DecodeSettings) -> None:
        self.model = model
        self.settings = settings
        self.max_frames = model.feature_extractor.nb_max_frames

    def decode(
        self,
        samples: np.ndarray,
        languages: tuple[str, ...],
        prompts: dict[str, str],
        hotwords: dict[str, str] | None = None,
    ) -> WindowResult:
        """`languages`: one forces it; several restrict detection to them, in order of preference.
        `prompts` and `hotwords` are per language; hotwords enter the prompt as faster-whisper's
        `transcribe(hotwords=...)` puts them (after <|startofprev|>, before the initial prompt)."""
        features = self.model.feature_extractor(samples)
        frames = min(features.shape[-1] - 1, self.max_frames)
        encoder_output = self.model.encode(pad_or_trim(features[:, :frames]))
        lang = self._language(encoder_output, languages)
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, "transcribe", lang)
        options = self._options(tokenizer, prompts.get(lang) or None)
        prompt = self.model.get_prompt(
            tokenizer,
            self._prompt_tokens(tokenizer, options.initial_prompt),
            hotwords=(hotwords or {}).get(lang) or None,
        )
        result, avg_logprob, _, _ = self.model.generate_with_fallback(encoder_output, prompt, tokenizer, options)
        duration = frames * self.model.feature_extractor.time_per_frame
        segments, _, _ = self.model._split_segments_by_timestamps(
            tokenizer=tokenizer,
            tokens=result.sequences_ids[0],
            time_offset=0.0,
            segment_size=frames,
            segment_duration=duration,
            seek=0,
        )
        if segments:
            self.model.add_word_timestamps(
                [segments], tokenizer, encoder_output, frames, PREPEND_PUNCTUATIONS, APPEND_PUNCTUATIONS, 0.0
            )
        return WindowResult(lang, [self._segment(s, tokenizer, result, avg_logprob) for s in segments])

    def _language(self, encoder_output, languages: tuple[str, ...]) -> str:
        if len(languages) == 1:
            return languages[0]
        if not self.model.model.is_multilingual:
            return "en"
        ranked = [token[2:-2] for token, _ in self.model.model.detect_language(encoder_output)[0]]
        allowed = [lang for lang in ranked if lang in languages]
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
            max_initial_timestamp=1.0,
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
