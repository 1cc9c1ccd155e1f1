"""The transcribe stage: a room's fragments in; its utterances and clip requests out.

After each fragment the room's resume point goes to the metadata store. A worker that
gets a room's fragment without holding that room's state (another worker died, the room
moved to it, or handling failed and the state was dropped) first replays the stored
fragments from that point, so no open speech is lost; the store drops what the replay
makes twice.

The stage takes the fragments that are ready together (`handle_batch`, up to `batch_size`
fragments and `batch_media_s` of media, several rooms at once when it is behind): first every
room's new audio goes through its VAD, then one recogniser call hears all the speech chunks (a
room's chunks share Whisper windows, windows share encoder and decoder calls), then each room
labels, segments and records its progress. A room's events stay in order; the runner
acknowledges them after the outputs are published.

A room's state is also dropped when no event of the room came for `idle_s`: its end may never
come to this worker (in a scale-out its partition can move to another one, which then gets its
EndOfStream), and without this every room a worker ever lost would stay in memory. If the room
is heard again, it resumes from its stored resume point like a takeover.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from livecut.contracts import SAMPLE_RATE, AudioChunk, ClipRequest, EndOfStream, Fragment, Utterance, topics
from livecut.observability.metrics import observe_stage
from livecut.runtime.room_products import RoomProducts
from livecut.runtime.runner import Emit, ErrorPolicy
from livecut.runtime.services import LiveServices
from livecut.runtime.settings import segment_settings
from livecut.store import Room
from segmenter.room_speech import RoomSpeech
from segmenter.segment_builder import SegmentBuilder
from segmenter.speech_chunker import SpeechChunk
from segmenter.transcriber import Transcriber
from stream.fragment_audio import FragmentAudio

log = logging.getLogger(__name__)

# Seconds without an event of a room after which its state is dropped. A live room sends a fragment
# every couple of seconds, and a dropped state costs only a replay, so this only has to be long.
ROOM_IDLE_S = 600.0


class _RoomState:
    """A room's speech state plus the audio decoded from its fragments, how far it got, and the product on air."""

    def __init__(self, speech: RoomSpeech, audio: FragmentAudio, products: RoomProducts) -> None:
        self.speech = speech
        self.audio = audio
        self.products = products
        self.last_seq: int | None = None
        self.last_t0: float | None = None
        # When (the stage's clock) the room's last event was handled here.
        self.heard_at = 0.0

    def resume_point(self, media_now: float) -> float:
        held = self.audio.held_from
        point = self.speech.resume_point(media_now)
        return max(0.0, min(point, held)) if held is not None else point


@dataclass
class _Listened:
    """One room's share of a batch after its VAD: the speech chunks to recognise, the last new
    fragment (None if all were heard before) and the end of its stream, if the batch holds it."""

    room: str
    state: _RoomState
    chunks: list[SpeechChunk] = field(default_factory=list)
    last: Fragment | None = None
    end: EndOfStream | None = None


class TranscribeStage:
    name = "transcribe"
    topic = topics.FRAGMENTS
    policy = ErrorPolicy(attempts=2, backoff_s=0.5)

    def __init__(
        self,
        services: LiveServices,
        idle_s: float = ROOM_IDLE_S,
        clock: Callable[[], float] = time.monotonic,
        full_windows: bool = False,
    ) -> None:
        """`full_windows`: recorded files; speech waits for a full Whisper window (segmenter.Transcriber)."""
        self.services = services
        self.full_windows = full_windows
        self.rooms: dict[str, _RoomState] = {}
        batching = services.config["transcribe"]
        self.batch_size = int(batching["batch_fragments"])
        self.batch_media_s = float(batching["batch_media_s"])
        # Split fragments (ingest.split_s) are for latency: a live room's audio then goes to the VAD to
        # the end, and the VAD runs at least once per fragment; so does a room's whole fragments' when
        # more than ingest.split_max_rooms are live (6 rooms: p95 17.4 s). With split_s = 0 a room's
        # audio goes in whole seconds, as measured (to the end with only 2 s fragments, 1-room p95 was
        # 9.8 s, not 9.3).
        split_s = 0.0 if full_windows else float(services.config["ingest"]["split_s"])
        self.audio_to_the_end = split_s > 0
        self.transcriber_settings = services.transcriber_settings
        if split_s > 0:
            vad = self.transcriber_settings.vad
            vad = replace(vad, step_s=min(vad.step_s, split_s))
            self.transcriber_settings = replace(self.transcriber_settings, vad=vad)
        self.idle_s = idle_s
        self.clock = clock

    def batch_full(self, items: list[tuple[str, Fragment | EndOfStream]]) -> bool:
        """Whether the batch's fragments hold `batch_media_s` of media, whatever their length (split
        fragments are a quarter of whole ones): more makes calls that keep every room waiting."""
        held = sum(event.t1 - event.t0 for _, event in items if isinstance(event, Fragment))
        return held >= self.batch_media_s

    def handle(self, key: str, event: Fragment | EndOfStream) -> list[Emit]:
        return self.handle_batch([(key, event)])

    def handle_batch(self, items: list[tuple[str, Fragment | EndOfStream]]) -> list[Emit]:
        self._forget_idle_rooms(but={key for key, _ in items})
        emits: list[Emit] = []
        for part in _parts(items):
            emits += self._handle_part(part)
        return emits

    def _forget_idle_rooms(self, but: set[str]) -> None:
        now = self.clock()
        for room, state in list(self.rooms.items()):
            if room not in but and now - state.heard_at > self.idle_s:
                del self.rooms[room]
                log.info("room %s: nothing heard for %.0f s, its speech state is dropped", room, now - state.heard_at)

    def give_up(self, key: str, event: Fragment | EndOfStream, reason: str) -> None:
        log.error(
            "room %s: speech at %.2f s not transcribed: %s", key, getattr(event, "t0", getattr(event, "t", 0)), reason
        )

    def _handle_part(self, items: list[tuple[str, Fragment | EndOfStream]]) -> list[Emit]:
        by_room: dict[str, list[Fragment | EndOfStream]] = {}
        for key, event in items:
            by_room.setdefault(key, []).append(event)
        try:
            listened = [self._listen(room, events) for room, events in by_room.items()]
            emits: list[Emit] = []
            for one, utterances in zip(listened, self._recognize(listened), strict=True):
                emits += self._conclude(one, utterances)
        except Exception:
            # Half-handled state is not trusted: the next try replays the room from its stored resume point.
            for room in by_room:
                self.rooms.pop(room, None)
            raise
        return emits

    def _listen(self, room: str, events: list[Fragment | EndOfStream]) -> _Listened:
        """The room's events through its VAD, after replaying what its state lacks."""
        first = events[0]
        seq, media_t = (first.seq, first.t0) if isinstance(first, Fragment) else (None, first.t)
        state, replay, start = self._state_before(room, seq, media_t)
        listened = _Listened(room, state)
        for fragment in replay:
            listened.chunks += self._listen_to(state, fragment, start)
        for event in events:
            if isinstance(event, EndOfStream):
                listened.end = event
            elif state.last_seq is None or event.seq > state.last_seq:  # else delivered again: at-least-once
                listened.chunks += self._listen_to(state, event, start)
                listened.last = event
        if listened.end is not None:
            # The room's state is dropped at its end (a reconnect starts afresh).
            del self.rooms[room]
            listened.chunks += self._listen_to_end(state, listened.end)
        return listened

    def _listen_to_end(self, state: _RoomState, end: EndOfStream) -> list[SpeechChunk]:
        with observe_stage("vad_asr"):
            return state.speech.listen([*state.audio.flush(time.time()), end])

    def _recognize(self, listened: list[_Listened]) -> list[list[Utterance]]:
        """Every room's utterances, from one recogniser call over all their speech chunks."""
        with observe_stage("vad_asr"):
            requests = [request for one in listened for request in one.state.speech.requests(one.chunks)]
            heard = iter(self.services.recognizer.recognize_many(requests))
            return [one.state.speech.understand([next(heard) for _ in one.chunks]) for one in listened]

    def _listen_to(self, state: _RoomState, fragment: Fragment, start: float) -> list[SpeechChunk]:
        chunks = self._speech_chunks(state, fragment, start)
        # 0.0 is a position, not "none": a file's first fragment can start before it (B-frame delay).
        before = state.last_t0 if state.last_t0 is not None else -math.inf
        state.last_seq, state.last_t0 = fragment.seq, max(fragment.t0, before)
        return chunks

    def _speech_chunks(self, state: _RoomState, fragment: Fragment, start: float) -> list[SpeechChunk]:
        """The fragment's audio from media time `start` on, through the room's VAD."""
        audio = self._decode(state, fragment, start)
        with observe_stage("vad_asr"):
            return state.speech.listen(audio)

    def _conclude(self, listened: _Listened, utterances: list[Utterance]) -> list[Emit]:
        """Label and segment what the room said, close its runs, and record how far it got."""
        room, state, last, end = listened.room, listened.state, listened.last, listened.end
        requests = self._segment(state, utterances)
        if end is not None:
            requests += state.speech.flush(end.t)
        elif last is not None:
            requests += state.speech.idle(last.t1)
        queued = self._queue(state, requests)
        if end is not None:
            self.services.store.mark_processed(room, end.t, resume_from=end.t)
        elif last is not None:
            # Speech at the fragment's end may still be open in the VAD buffer: only its start is final.
            self.services.store.mark_processed(room, last.t0, resume_from=state.resume_point(last.t1))
        return [(topics.UTTERANCES, room, u) for u in utterances] + [(topics.CLIP_REQUESTS, room, r) for r in queued]

    def _new_state(self, room: str, record: Room | None) -> _RoomState:
        services = self.services
        # A recorded file's clips name the file (livecut clip); a live room's name the room.
        source = record.url if record and record.source_type == "file" and record.url else f"room:{room}"
        builder = SegmentBuilder(segment_settings(services.config), room=room, source=source)
        # A clip request's span lies within the last max_s of speech (plus its margins and a closing silence).
        settings = services.config["segments"]
        memory_s = settings["max_s"] + 2 * settings["margin_s"] + settings["close_after_silence_s"]
        products = RoomProducts(room, services.store, memory_s)
        speech = RoomSpeech(
            # The lineup's words join the room's vocabulary (hotwords, pinyin correction) at its start.
            transcriber=Transcriber(
                self.transcriber_settings,
                services.recognizer,
                product_terms=products.terms(),
                full_windows=self.full_windows,
            ),
            builder=builder,
            classifier=services.classifiers.for_brand(record.brand if record else None),
        )
        return _RoomState(speech, FragmentAudio(room, whole_chunks=not self.audio_to_the_end), products)

    def _state_before(self, room: str, seq: int | None, media_t: float) -> tuple[_RoomState, list[Fragment], float]:
        """The room's state, ready for what comes at `media_t`, the stored fragments it must hear
        again first, and the media time from which audio is new to that state."""
        state = self.rooms.get(room)
        record = self.services.store.room(room)
        if state is not None and not self._stale(state, record):
            state.heard_at = self.clock()
            return state, [], -math.inf
        if state is not None:
            log.warning(
                "room %s: another worker processed it to %.2f s since fragment %s (%.2f s): state dropped",
                room,
                record.processed_to if record else 0.0,
                state.last_seq,
                state.last_t0 or 0.0,
            )
        state = self.rooms[room] = self._new_state(room, record)
        state.heard_at = self.clock()
        # What an earlier owner processed is not a sign of staleness later: only progress after now is.
        state.last_t0 = record.processed_to if record else None
        start = record.resume_from if record and record.resume_from is not None else -math.inf
        if start > -math.inf:
            log.info("room %s: taken over at %.2f s, resuming from %.2f s", room, media_t, start)
            state.products.carry(self.services.store.last_product(room, start))
        return state, self._replay(room, seq, start, media_t), start

    @staticmethod
    def _stale(state: _RoomState, record: Room | None) -> bool:
        """Whether another worker processed the room after this one last did (its partition moved
        away and back). Fragment numbers may skip (an ingest worker died), so they cannot tell."""
        return record is not None and state.last_t0 is not None and record.processed_to > state.last_t0 + 1e-6

    def _replay(self, room: str, seq: int | None, start: float, media_t: float) -> list[Fragment]:
        if start == -math.inf or start >= media_t:
            return []
        stored = self.services.store.fragments(room, start, media_t)
        earlier = [f for f in stored if (seq is None or f.seq < seq) and f.t1 > start]
        log.info("room %s: replaying %d stored fragments from %.2f s", room, len(earlier), start)
        return earlier

    def _decode(self, state: _RoomState, fragment: Fragment, start: float) -> list[AudioChunk]:
        with observe_stage("decode"):
            chunks = state.audio.decode(fragment, self.services.media.local_path(fragment.uri))
        return [c for c in (_trimmed(chunk, start) for chunk in chunks) if c is not None]

    def _segment(self, state: _RoomState, utterances: list[Utterance]) -> list[ClipRequest]:
        state.products.link(utterances)
        with observe_stage("classify"):
            requests = state.speech.segment(utterances)
        for utterance in utterances:
            self.services.store.add_utterance(utterance)
        return requests

    def _queue(self, state: _RoomState, requests: list[ClipRequest]) -> list[ClipRequest]:
        """The requests to publish, with their product: those the store has not seen rendered already."""
        state.products.assign(requests)
        return [request for request in requests if self.services.store.queue_clip(request)]


def _trimmed(chunk: AudioChunk, start: float) -> AudioChunk | None:
    """The part of `chunk` at or after media time `start`; None when it ends before."""
    if chunk.t1 <= start:
        return None
    skip = max(0, int(round((start - chunk.t0) * SAMPLE_RATE))) if start > chunk.t0 else 0
    if not skip:
        return chunk
    return AudioChunk(chunk.room, chunk.t0 + skip / SAMPLE_RATE, chunk.samples[skip:], chunk.received_at)


def _parts(items: list[tuple[str, Fragment | EndOfStream]]) -> list[list[tuple[str, Fragment | EndOfStream]]]:
    """The batch cut so that no part holds events of a room after that room's end of stream
    (what follows an end starts afresh, after the end has been recorded)."""
    parts: list[list[tuple[str, Fragment | EndOfStream]]] = [[]]
    ended: set[str] = set()
    for key, event in items:
        if key in ended:
            parts.append([])
            ended.clear()
        parts[-1].append((key, event))
        if isinstance(event, EndOfStream):
            ended.add(key)
    return parts
