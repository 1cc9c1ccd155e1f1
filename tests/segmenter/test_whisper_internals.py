"""segmenter/whisper_window.py calls faster-whisper's internals; this fails loudly when they change.

pyproject pins faster-whisper to the tested range; before widening it, this must pass on the new release.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import TranscriptionOptions, get_suppressed_tokens

WINDOW = Path(__file__).resolve().parents[2] / "segmenter" / "whisper_window.py"


def parameters(function: object) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_the_transcription_options_we_build_are_exactly_the_library_fields():
    source = WINDOW.read_text(encoding="utf-8")
    block = source[
        source.index("return TranscriptionOptions(") : source.index(
            ")\n\n", source.index("return TranscriptionOptions(")
        )
    ]
    ours = set(re.findall(r"^\s+(\w+)=", block, flags=re.M))
    theirs = {field.name for field in dataclasses.fields(TranscriptionOptions)}
    assert ours == theirs, f"only ours: {sorted(ours - theirs)}; only faster-whisper's: {sorted(theirs - ours)}"


def test_the_model_methods_we_call_take_what_we_pass():
    assert parameters(WhisperModel.encode) == ["features"]
    assert parameters(WhisperModel.get_prompt)[:2] == ["tokenizer", "previous_tokens"]
    assert parameters(WhisperModel.generate_with_fallback)[:4] == ["encoder_output", "prompt", "tokenizer", "options"]
    assert {"tokenizer", "tokens", "time_offset", "segment_size", "segment_duration", "seek"} <= set(
        parameters(WhisperModel._split_segments_by_timestamps)
    )
    assert parameters(WhisperModel.add_word_timestamps)[:7] == [
        "segments",
        "tokenizer",
        "encoder_output",
        "num_frames",
        "prepend_punctuations",
        "append_punctuations",
        "last_speech_timestamp",
    ]


def test_the_helpers_we_import_exist_with_their_shapes():
    assert parameters(get_suppressed_tokens) == ["tokenizer", "suppress_tokens"]
    assert parameters(pad_or_trim)[0] == "array"
    assert "multilingual" in parameters(Tokenizer.__init__)
