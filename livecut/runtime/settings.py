"""Build each stage's settings from the merged configuration (see config.toml)."""

from __future__ import annotations

from typing import Any

from clipper.captions import CaptionSettings
from clipper.renderer import RenderSettings
from livecut.config import expand_path
from segmenter.asr import AsrSettings
from segmenter.lexicon import taxonomy_terms
from segmenter.pinyin_correction import CorrectionSettings
from segmenter.room_vocabulary import VocabularySettings
from segmenter.segment_builder import SegmentSettings
from segmenter.speech_chunker import VadSettings
from segmenter.taxonomy import load_taxonomy
from segmenter.transcriber import TranscriberSettings
from segmenter.utterances import UtteranceSettings
from segmenter.whisper_models import resolve_whisper_model
from segmenter.window_packing import PackingSettings


def transcriber_settings(config: dict[str, Any]) -> TranscriberSettings:
    asr = config["asr"]
    model_path = resolve_whisper_model(asr["model"], expand_path(config["paths"]["model_cache"]))
    return TranscriberSettings(
        asr=AsrSettings(
            model_path=model_path,
            language=asr["language"],
            languages=tuple(asr["languages"]),
            compute_type=asr["compute_type"],
            cpu_threads=asr["cpu_threads"],
            workers=asr["workers"],
            beam_size=asr["beam_size"],
            no_speech_threshold=asr["no_speech_threshold"],
            log_prob_threshold=asr["log_prob_threshold"],
            initial_prompts={"zh": asr["initial_prompt_zh"], "en": asr["initial_prompt_en"]},
            hallucinations=tuple(asr["hallucinations"]),
            min_segment_probability=asr["min_segment_probability"],
            packing=PackingSettings(window_s=asr["pack_window_s"], gap_s=asr["pack_gap_s"]),
            batch_windows=asr["batch_windows"],
            share_windows=asr["share_windows"],
            shared_hotwords_max_chars=asr["shared_hotwords_max_chars"],
        ),
        vad=VadSettings(**config["vad"]),
        utterance=UtteranceSettings(**config["utterance"]),
        vocabulary=vocabulary_settings(config),
    )


def vocabulary_settings(config: dict[str, Any]) -> VocabularySettings:
    lexicon = config["lexicon"]
    return VocabularySettings(
        taxonomy_terms=tuple(taxonomy_terms(load_taxonomy(config["taxonomy"]))),
        commerce_words=lexicon["commerce_words"],
        hotwords=lexicon["hotwords"],
        hotwords_max_chars=lexicon["hotwords_max_chars"],
        correction=CorrectionSettings(
            enabled=lexicon["correct"],
            max_distance=lexicon["max_distance"],
            extra_distance_per_char=lexicon["extra_distance_per_char"],
            min_term_chars=lexicon["min_term_chars"],
            common_word_frequency=lexicon["common_word_frequency"],
        ),
        numbers=lexicon["numbers"],
    )


def segment_settings(config: dict[str, Any]) -> SegmentSettings:
    segments = dict(config["segments"])
    segments["skip_labels"] = tuple(segments["skip_labels"])
    segments["keep_short_labels"] = tuple(segments["keep_short_labels"])
    return SegmentSettings(**segments)


def render_settings(config: dict[str, Any]) -> RenderSettings:
    render = config["render"]
    return RenderSettings(
        crf=render["crf"],
        preset=render["preset"],
        audio_bitrate=render["audio_bitrate"],
        vertical=render["vertical"],
        vertical_mode=render["vertical_mode"],
        vertical_size=(render["vertical_width"], render["vertical_height"]),
        font=render["font"],
        captions=CaptionSettings(
            max_chars_cjk=render["caption_max_chars_cjk"],
            max_chars_latin=render["caption_max_chars_latin"],
        ),
        thumbnail_width=render["thumbnail_width"],
    )
