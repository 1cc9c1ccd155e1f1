"""Speech into labeled topics: VAD + Whisper transcription, the utterance classifier, compliance
flags, the segment builder and a room's speech state.

The names load on first use, so importing one light module (say `segmenter.utterances`) does
not load Whisper.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AsrSettings": "segmenter.asr",
    "SpeechRecognizer": "segmenter.asr",
    "PrototypeClassifier": "segmenter.classifier",
    "ComplianceChecker": "segmenter.compliance",
    "load_compliance": "segmenter.compliance",
    "load_embedder": "segmenter.embedders",
    "RoomSpeech": "segmenter.room_speech",
    "SegmentBuilder": "segmenter.segment_builder",
    "SegmentSettings": "segmenter.segment_builder",
    "VadSettings": "segmenter.speech_chunker",
    "load_taxonomy": "segmenter.taxonomy",
    "TrainedClassifier": "segmenter.trained_classifier",
    "TrainedModel": "segmenter.trained_classifier",
    "Transcriber": "segmenter.transcriber",
    "TranscriberSettings": "segmenter.transcriber",
    "UtteranceSettings": "segmenter.utterances",
    "join_words": "segmenter.utterances",
    "resolve_whisper_model": "segmenter.whisper_models",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'segmenter' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
