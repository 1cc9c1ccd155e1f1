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
from segmenter.asr import AsrSettings, ChunkRequest, RecognizedChunk, SpeechRecognizer
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
        self.room = ""
        # (end time, wall-clock arrival) of recent audio, to date when each utterance's last word arrived.
        self.arrivals: deque[tuple[float, float]] = deque(maxlen=256)

    @property
    def hotwords(self) -> dict[str, str] | None:
        return self.vocabulary.hotwords

    def listen(self, event: AudioChunk | EndOfStream) -> list[SpeechChunk]:
        """The speech chunks this event closes (voice activity only; nothing is recognised yet)."""
        self.room = event.room
        if isinstance(event, EndOfStream):
            return self.chunker.flush()
        self.arrivals.append((event.t1, event.received_at))
        return self.chunker.feed(event)

    def understand(self, recognized: list[RecognizedChunk]) -> list[Utterance]:
        """The utterances of the chunks `listen` gave, from what the recogniser heard in each (in order)."""
        utterances: list[Utterance] = []
        for heard in recognized:
            utterances += split_utterances(heard.words, self.room, heard.lang, self.settings.utterance)
        for utterance in utterances:
            self.vocabulary.apply(utterance)
            utterance.received_at = self._arrival_of(utterance.t1)
        return utterances

    def recognize(self, chunks: list[SpeechChunk]) -> list[Utterance]:
        """Recognise `chunks` together (they may share Whisper windows) and return their utterances."""
        if not chunks:
            return []
        return self.understand(self.recognizer.recognize_many(self.requests(chunks)))

    def requests(self, chunks: list[SpeechChunk]) -> list[ChunkRequest]:
        """What to ask the (shared) recogniser for these chunks of this room."""
        return [ChunkRequest(chunk, self.room, self.hotwords) for chunk in chunks]

    def feed(self, event: AudioChunk | EndOfStream) -> Iterator[Utterance]:
        yield from self.recognize(self.listen(event))

    def transcribe(self, events: Iterable[AudioChunk | EndOfStream]) -> Iterator[Utterance]:
        """Lazily transcribe a whole stream of events, a window's worth of speech at a time."""
        waiting: list[SpeechChunk] = []
        window_s = self.recognizer.settings.packing.window_s
        for event in events:
            waiting += self.listen(event)
            if isinstance(event, EndOfStream) or sum(c.t1 - c.t0 for c in waiting) >= window_s:
                yield from self.recognize(waiting)
                waiting = []
        yield from self.recognize(waiting)

    def _arrival_of(self, t: float) -> float:
        """Wall-clock time the audio at media time `t` arrived, assuming it streamed in real time."""
        for end, received_at in self.arrivals:
            if end >= t:
                return received_at - (end - t)
        return self.arrivals[-1][1] if self.arrivals else 0.0
