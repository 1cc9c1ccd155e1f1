"""What the stages of one process share: configuration, stores, bus and the loaded models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livecut.bus import Bus
from livecut.store import MetadataStore
from stream.media_store import MediaStore


@dataclass
class LiveServices:
    config: dict[str, Any]
    store: MetadataStore
    media: MediaStore
    bus: Bus
    # The transcriber's settings and recogniser, and the room classifiers: None without the transcribe role.
    transcriber_settings: Any = None
    recognizer: Any = None
    classifiers: Any = None
    # This process's temp folder under the data folder (livecut/runtime/recovery.py); None: the system's.
    scratch_dir: Path | None = None


def load_speech_models(services: LiveServices) -> None:
    """Load what the transcribe stage needs (Whisper, the room classifiers) into `services`, once a process."""
    from livecut.runtime.classifiers import RoomClassifiers
    from livecut.runtime.settings import transcriber_settings
    from segmenter.asr import SpeechRecognizer
    from segmenter.pinyin_correction import preload_common_words

    services.transcriber_settings = transcriber_settings(services.config)
    preload_common_words(services.transcriber_settings.vocabulary.correction)
    services.recognizer = SpeechRecognizer(services.transcriber_settings.asr)
    services.classifiers = RoomClassifiers(services.config)
