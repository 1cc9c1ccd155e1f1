"""One room's speech state: the VAD buffer and recogniser, the labels, the open topic run.

A live room's speech arrives fragment by fragment; this object holds what is still open
between them and knows how far back it depends on the audio (`resume_point`), so a worker
that takes the room over can replay exactly that much.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from livecut.contracts import AudioChunk, ClipRequest, EndOfStream, Utterance
from segmenter.asr import ChunkRequest, RecognizedChunk
from segmenter.segment_builder import SegmentBuilder
from segmenter.speech_chunker import SpeechChunk
from segmenter.transcriber import Transcriber

# Audio replayed before the first word the segment builder still holds, so VAD sees its onset as the first worker did.
REPLAY_LEAD_S = 1.0


class Labeler(Protocol):
    def label(self, utterances: list[Utterance]) -> object: ...


@dataclass
class RoomSpeech:
    transcriber: Transcriber
    builder: SegmentBuilder
    classifier: Labeler

    def hear(self, chunks: Iterable[AudioChunk]) -> list[Utterance]:
        """The utterances that these chunks complete (speech still open stays in the VAD buffer)."""
        return self.transcriber.recognize(self.listen(chunks))

    def finish(self, end: EndOfStream) -> list[Utterance]:
        """The utterances still open in the VAD buffer at the end of the stream."""
        return self.transcriber.recognize(self.listen([end]))

    def listen(self, events: Iterable[AudioChunk | EndOfStream]) -> list[SpeechChunk]:
        """The speech chunks these events close, to recognise later (perhaps with other rooms')."""
        return [chunk for event in events for chunk in self.transcriber.listen(event)]

    def understand(self, recognized: list[RecognizedChunk]) -> list[Utterance]:
        """The utterances of the chunks `listen` gave, from what the recogniser heard in each."""
        return self.transcriber.understand(recognized)

    def requests(self, chunks: list[SpeechChunk]) -> list[ChunkRequest]:
        return self.transcriber.requests(chunks)

    def segment(self, utterances: list[Utterance]) -> list[ClipRequest]:
        """Label the utterances and feed them to the topic runs; the clip requests that closes."""
        self.classifier.label(utterances)
        return [request for utterance in utterances for request in self.builder.feed(utterance)]

    def idle(self, media_now: float) -> list[ClipRequest]:
        """Close what is open once the room has been silent long enough up to `media_now`."""
        return self.builder.idle(now=self.heard_to(media_now))

    def heard_to(self, media_now: float) -> float:
        """The media time up to which all of the room's speech has been recognised: speech held
        back for a full window, or still open in the VAD, is not silence. Without this, a file's
        held speech could close a topic run early, and how its fragments were batched would
        change its clips."""
        pending = [media_now]
        if self.transcriber.held_from is not None:
            pending.append(self.transcriber.held_from)
        chunker = self.transcriber.chunker
        if len(chunker.buffer) and chunker.buffer_t0 is not None:
            pending.append(chunker.buffer_t0)
        return min(pending)

    def flush(self, media_end: float) -> list[ClipRequest]:
        return self.builder.flush(media_end=media_end)

    def resume_point(self, media_now: float) -> float:
        """The earliest media time this state still depends on: speech held for a full window, open
        VAD speech or an open topic run."""
        held = [self.heard_to(media_now)]
        builder_from = self.builder.depends_from()
        if builder_from is not None:
            held.append(builder_from - REPLAY_LEAD_S)
        return max(0.0, min(held))
