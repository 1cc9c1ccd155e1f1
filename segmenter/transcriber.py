"""Transcriber: audio events in, utterances out, as soon as each one is complete.

Composes the streaming VAD (speech_chunker), the recogniser (asr) and the utterance
splitter. The same object serves a recorded file and a live room: feed it events in
media-time order; `EndOfStream` flushes what is still open.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from livecut.contracts import AudioChunk, EndOfStream, Utterance
from segmenter.asr import AsrSettings, SpeechRecognizer
from segmenter.room_vocabulary import RoomVocabulary, VocabularySettings
from segmenter.speech_chunker import SpeechChunk, SpeechChunker, VadSettings
from segmenter.utterances import UtteranceSettings, split_utterances


@dataclass(frozen=True)
class TranscriberSettings:
    asr: AsrSettings
    vad: VadSettings = VadSettings()
    utterance: UtteranceSettings = UtteranceSettings()
    vocabulary: VocabularySettings = field(default_factory=VocabularySettings)


class Transcriber:
    """One per room: holds that room's VAD buffer and vocabulary; shares the recogniser it is given.

    `product_terms`: what the catalog knows of the room's products (names, aliases, attribute
    values, colors, link numbers), one term each; they join the room's lexicon."""

    def __init__(
        self,
        settings: TranscriberSettings,
        recognizer: SpeechRecognizer | None = None,
        product_terms: Iterable[str] = (),
    ) -> None:
        self.settings = settings
        self.recognizer = recognizer or SpeechRecognizer(settings.asr)
        self.vocabulary = RoomVocabulary(settings.vocabulary, product_terms)
        self.chunker = SpeechChunker(settings.vad)
        # (end time, wall-clock arrival) of recent audio, to date when each utterance's last word arrived.
        self.arrivals: deque[tuple[float, float]] = deque(maxlen=256)

    def feed(self, event: AudioChunk | EndOfStream) -> Iterator[Utterance]:
        if isinstance(event, EndOfStream):
            chunks = self.chunker.flush()
        else:
            self.arrivals.append((event.t1, event.received_at))
            chunks = self.chunker.feed(event)
        for chunk in chunks:
            yield from self._utterances(chunk, event.room)

    def transcribe(self, events: Iterable[AudioChunk | EndOfStream]) -> Iterator[Utterance]:
        """Lazily transcribe a whole stream of events."""
        for event in events:
            yield from self.feed(event)

    def _utterances(self, chunk: SpeechChunk, room: str) -> list[Utterance]:
        recognized = self.recognizer.recognize(chunk, self.vocabulary.hotwords)
        utterances = split_utterances(recognized.words, room, recognized.lang, self.settings.utterance)
        for utterance in utterances:
            self.vocabulary.apply(utterance)
            utterance.received_at = self._arrival_of(utterance.t1)
        return utterances

    def _arrival_of(self, t: float) -> float:
        """Wall-clock time the audio at media time `t` arrived, assuming it streamed in real time."""
        for end, received_at in self.arrivals:
            if end >= t:
                return received_at - (end - t)
        return self.arrivals[-1][1] if self.arrivals else 0.0
