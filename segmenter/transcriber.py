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
from segmenter.window_packing import closed_chunks

# A live room's chunks share Whisper windows with other rooms' (asr.share_windows) once its
# language is settled: the last SETTLE_CHUNKS chunks it said something in were heard in one
# language. After that its every RECHECK_CHUNKS-th chunk is heard alone again, language
# detected, so a host who switches language is noticed.
SETTLE_CHUNKS = 3
RECHECK_CHUNKS = 10


@dataclass(frozen=True)
class TranscriberSettings:
    asr: AsrSettings
    vad: VadSettings = VadSettings()
    utterance: UtteranceSettings = UtteranceSettings()
    vocabulary: VocabularySettings = field(default_factory=VocabularySettings)


class Transcriber:
    """One per room: holds that room's VAD buffer and vocabulary; shares the recogniser it is given.

    `product_terms`: what the catalog knows of the room's products (names, aliases, attribute
    values, colors, link numbers), one term each; they join the room's lexicon.

    `full_windows` (recorded files): `listen` holds speech chunks back until they fill a Whisper
    window, so a file's windows, and so its words, do not depend on how its audio was batched.
    A live room (False) has each chunk recognised as soon as it closes, in windows it may share
    with other rooms of its language once that is settled."""

    def __init__(
        self,
        settings: TranscriberSettings,
        recognizer: SpeechRecognizer | None = None,
        product_terms: Iterable[str] = (),
        full_windows: bool = False,
    ) -> None:
        self.settings = settings
        self.full_windows = full_windows
        self.held: list[SpeechChunk] = []
        self.recognizer = recognizer or SpeechRecognizer(settings.asr)
        self.vocabulary = RoomVocabulary(settings.vocabulary, product_terms)
        self.chunker = SpeechChunker(settings.vad)
        self.room = ""
        # (end time, wall-clock arrival) of recent audio, to date when each utterance's last word arrived.
        self.arrivals: deque[tuple[float, float]] = deque(maxlen=256)
        self.heard_languages: deque[str] = deque(maxlen=SETTLE_CHUNKS)
        self.shared_since_check = 0

    @property
    def hotwords(self) -> dict[str, str] | None:
        return self.vocabulary.hotwords

    @property
    def held_from(self) -> float | None:
        """Media time of the first speech chunk held back for a full window (None when none is)."""
        return self.held[0].t0 if self.held else None

    def listen(self, event: AudioChunk | EndOfStream) -> list[SpeechChunk]:
        """The speech chunks to recognise now: those this event closes (voice activity only), or
        with `full_windows`, those that fill windows. Nothing is recognised yet."""
        self.room = event.room
        if isinstance(event, EndOfStream):
            chunks = self.chunker.flush()
        else:
            self.arrivals.append((event.t1, event.received_at))
            chunks = self.chunker.feed(event)
        if not self.full_windows:
            return chunks
        self.held += chunks
        closed = len(self.held)
        if not isinstance(event, EndOfStream):
            closed = closed_chunks([len(c.samples) for c in self.held], self.recognizer.settings.packing)
        ready, self.held = self.held[:closed], self.held[closed:]
        return ready

    def understand(self, recognized: list[RecognizedChunk]) -> list[Utterance]:
        """The utterances of the chunks `listen` gave, from what the recogniser heard in each (in order)."""
        utterances: list[Utterance] = []
        for heard in recognized:
            if heard.words:
                self.heard_languages.append(heard.lang)
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
        return [ChunkRequest(chunk, self.room, self.hotwords, self._settled_language()) for chunk in chunks]

    def _settled_language(self) -> str | None:
        """The language this room's next chunk may share windows in; None: heard alone, its
        language detected. A recorded file's windows stay its own, so they never depend on what
        else was being heard."""
        if self.full_windows:
            return None
        if self.recognizer.settings.language:
            return self.recognizer.settings.language
        if len(self.heard_languages) < SETTLE_CHUNKS or len(set(self.heard_languages)) > 1:
            return None
        self.shared_since_check += 1
        if self.shared_since_check > RECHECK_CHUNKS:
            self.shared_since_check = 0
            return None
        return self.heard_languages[0]

    def feed(self, event: AudioChunk | EndOfStream) -> Iterator[Utterance]:
        yield from self.recognize(self.listen(event))

    def transcribe(self, events: Iterable[AudioChunk | EndOfStream]) -> Iterator[Utterance]:
        """Lazily transcribe a whole stream of events."""
        for event in events:
            yield from self.feed(event)

    def _arrival_of(self, t: float) -> float:
        """Wall-clock time the audio at media time `t` arrived, assuming it streamed in real time."""
        for end, received_at in self.arrivals:
            if end >= t:
                return received_at - (end - t)
        return self.arrivals[-1][1] if self.arrivals else 0.0
