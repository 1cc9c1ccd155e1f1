"""Live pipeline workers: fragments -> utterances -> clip requests -> rendered clips.

Each worker consumes one bus topic and does its CPU-heavy work on its own single
thread, so the event loop (HTTP API, RTMP) stays responsive and one room's events
are handled in order. The transcribe worker keeps each room's bounded state
(VAD buffer, open topic run); the render worker cuts clips from the stored
fragments, never from memory, so any machine can render them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipper.renderer import Renderer, RenderError
from livecut.contracts import topics
from livecut.bus import Bus
from livecut.contracts import SAMPLE_RATE, AudioChunk, ClipReady, ClipRequest, EndOfStream, Fragment, Utterance
from livecut.logs import log_context
from livecut.metrics import clip_made, error, observe_stage
from livecut.pipeline import Classifier
from livecut.room_classifiers import RoomClassifiers
from livecut.settings import render_settings, segment_settings
from livecut.store import MetadataStore, Room
from segmenter.segment_builder import SegmentBuilder
from segmenter.transcriber import Transcriber, TranscriberSettings
from stream.fragment_audio import FragmentAudio
from stream.media_store import MediaStore
from stream.span import SpanUnavailableError, assemble_span

log = logging.getLogger(__name__)


@dataclass
class LiveServices:
    """What the workers share: configuration, stores, bus and the loaded models."""

    config: dict[str, Any]
    store: MetadataStore
    media: MediaStore
    bus: Bus
    transcriber_settings: TranscriberSettings
    recognizer: Any
    # None in a process without the transcribe role.
    classifiers: RoomClassifiers | None


@dataclass
class _RoomSpeech:
    audio: FragmentAudio
    transcriber: Transcriber
    builder: SegmentBuilder
    classifier: Classifier
    last_seq: int | None = None
    last_t0: float | None = None

    def resume_point(self, media_now: float) -> float:
        """The earliest media time this state still depends on: open VAD speech or an open topic run."""
        held = [media_now]
        chunker = self.transcriber.chunker
        if len(chunker.buffer) and chunker.buffer_t0 is not None:
            held.append(chunker.buffer_t0)
        if self.audio.pending.size and self.audio.pending.t0 is not None:
            held.append(self.audio.pending.t0)
        if self.builder.run:
            held.append(self.builder.run[0].t0 - REPLAY_LEAD_S)
        return max(0.0, min(held))


# Audio replayed before an open run's first word, so VAD sees its onset as the first worker did.
REPLAY_LEAD_S = 1.0
Outputs = tuple[list[Utterance], list[ClipRequest]]


class TranscribeWorker:
    """FRAGMENTS (each room's fragments, then its EndOfStream) in; UTTERANCES and CLIP_REQUESTS out.

    After each fragment the room's resume point goes to the metadata store. A worker that
    gets a room's fragment without holding that room's state (another worker died or
    the room moved to it) first replays the stored fragments from that point, so no open
    speech is lost; the store drops what the replay makes twice.
    """

    def __init__(self, services: LiveServices) -> None:
        self.services = services
        self.rooms: dict[str, _RoomSpeech] = {}
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcribe")
        self.fragments = services.bus.subscribe(topics.FRAGMENTS, "transcribe")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self.fragments
        while True:
            room, event = await queue.get()
            handle = self._on_end if isinstance(event, EndOfStream) else self._on_fragment
            try:
                with log_context(room=room):
                    run = contextvars.copy_context().run
                    utterances, requests = await loop.run_in_executor(self.thread, run, handle, event)
                for utterance in utterances:
                    await self.services.bus.publish(topics.UTTERANCES, room, utterance)
                for request in requests:
                    await self.services.bus.publish(topics.CLIP_REQUESTS, room, request)
            except Exception:
                error("transcribe")
                log.exception("transcription failed for room %s", room)
            finally:
                queue.task_done()

    def _room(self, room: str, record: Room | None) -> _RoomSpeech:
        settings = self.services.transcriber_settings
        return _RoomSpeech(
            audio=FragmentAudio(room),
            transcriber=Transcriber(settings, self.services.recognizer),
            builder=SegmentBuilder(segment_settings(self.services.config), room=room, source=f"room:{room}"),
            classifier=self.services.classifiers.for_brand(record.brand if record else None),
        )

    def _speech_before(self, room: str, seq: int | None, media_t: float) -> tuple[_RoomSpeech, list[Utterance], float]:
        """The room's state, ready for what comes at `media_t`, the utterances a replay made, and
        the media time from which audio is new to that state."""
        speech = self.rooms.get(room)
        record = self.services.store.room(room)
        if speech is not None and not self._stale(speech, record):
            return speech, [], -math.inf
        if speech is not None:
            log.warning("room %s: another worker handled it since fragment %s: state dropped", room, speech.last_seq)
        speech = self.rooms[room] = self._room(room, record)
        # What an earlier owner processed is not a sign of staleness later: only progress after now is.
        speech.last_t0 = record.processed_to if record else None
        start = record.resume_from if record and record.resume_from is not None else -math.inf
        if start > -math.inf:
            log.info("room %s: taken over at %.2f s, resuming from %.2f s", room, media_t, start)
        return speech, self._replay(speech, room, seq, start, media_t), start

    @staticmethod
    def _stale(speech: _RoomSpeech, record: Room | None) -> bool:
        """Whether another worker processed the room after this one last did (its partition moved
        away and back). Fragment numbers may skip (an ingest worker died), so they cannot tell."""
        return record is not None and speech.last_t0 is not None and record.processed_to > speech.last_t0 + 1e-6

    def _replay(self, speech: _RoomSpeech, room: str, seq: int | None, start: float, media_t: float) -> list[Utterance]:
        if start == -math.inf or start >= media_t:
            return []
        stored = self.services.store.fragments(room, start, media_t)
        earlier = [f for f in stored if (seq is None or f.seq < seq) and f.t1 > start]
        log.info("room %s: replaying %d stored fragments from %.2f s", room, len(earlier), start)
        utterances = []
        for fragment in earlier:
            utterances += self._transcribe(speech, self._decode(speech, fragment, start))
            speech.last_seq = fragment.seq
        return utterances

    def _decode(self, speech: _RoomSpeech, fragment: Fragment, start: float) -> list[AudioChunk]:
        with observe_stage("decode"):
            chunks = speech.audio.decode(fragment, self.services.media.local_path(fragment.uri))
        return [c for c in (_trimmed(chunk, start) for chunk in chunks) if c is not None]

    def _on_fragment(self, fragment: Fragment) -> Outputs:
        speech, utterances, start = self._speech_before(fragment.room, fragment.seq, fragment.t0)
        if speech.last_seq is not None and fragment.seq <= speech.last_seq:
            return [], []  # delivered again after it was handled: at-least-once
        utterances += self._transcribe(speech, self._decode(speech, fragment, start))
        speech.last_seq, speech.last_t0 = fragment.seq, max(fragment.t0, speech.last_t0 or -math.inf)
        requests = self._segment(speech, utterances) + speech.builder.idle(now=fragment.t1)
        requests = self._queue(requests)
        # Speech at the fragment's end may still be open in the VAD buffer: only its start is final.
        self.services.store.mark_processed(fragment.room, fragment.t0, resume_from=speech.resume_point(fragment.t1))
        return utterances, requests

    def _on_end(self, end: EndOfStream) -> Outputs:
        """Flush the room's open speech and topic; its state is dropped (a reconnect starts afresh)."""
        speech, utterances, _ = self._speech_before(end.room, None, end.t)
        del self.rooms[end.room]
        utterances += self._transcribe(speech, speech.audio.flush(time.time()))
        utterances += list(speech.transcriber.feed(end))
        requests = self._queue(self._segment(speech, utterances) + speech.builder.flush(media_end=end.t))
        self.services.store.mark_processed(end.room, end.t, resume_from=end.t)
        return utterances, requests

    @staticmethod
    def _transcribe(speech: _RoomSpeech, chunks: list[AudioChunk]) -> list[Utterance]:
        with observe_stage("vad_asr"):
            return [u for chunk in chunks for u in speech.transcriber.feed(chunk)]

    def _queue(self, requests: list[ClipRequest]) -> list[ClipRequest]:
        """The requests to publish: those the store has not seen rendered already."""
        return [request for request in requests if self.services.store.queue_clip(request)]

    def _segment(self, speech: _RoomSpeech, utterances: list[Utterance]) -> list[ClipRequest]:
        with observe_stage("classify"):
            speech.classifier.label(utterances)
        requests = []
        for utterance in utterances:
            self.services.store.add_utterance(utterance)
            requests += speech.builder.feed(utterance)
        return requests


def _trimmed(chunk: AudioChunk, start: float) -> AudioChunk | None:
    """The part of `chunk` at or after media time `start`; None when it ends before."""
    if chunk.t1 <= start:
        return None
    skip = max(0, int(round((start - chunk.t0) * SAMPLE_RATE))) if start > chunk.t0 else 0
    if not skip:
        return chunk
    return AudioChunk(chunk.room, chunk.t0 + skip / SAMPLE_RATE, chunk.samples[skip:], chunk.received_at)


class RenderWorker:
    """CLIP_REQUESTS in; a rendered clip in the media store, a row in the metadata store, CLIPS out."""

    def __init__(self, services: LiveServices) -> None:
        self.services = services
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")
        self.requests = services.bus.subscribe(topics.CLIP_REQUESTS, "render")
        self.settings = render_settings(services.config)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            room, request = await self.requests.get()
            try:
                clip = await loop.run_in_executor(self.thread, self.render, request)
                if clip is not None:
                    await self.services.bus.publish(topics.CLIPS, room, clip)
            finally:
                self.requests.task_done()

    def render(self, request: ClipRequest) -> ClipReady | None:
        """Render one request; a failure is recorded on the clip row, never lost silently.

        A request whose clip is already rendered, or was replaced by a replayed request,
        is skipped: requests are delivered at least once.
        """
        if not self.services.store.needs_render(request.clip_id):
            return None
        with log_context(room=request.room, clip=request.clip_id):
            try:
                with observe_stage("render"):
                    clip = self._render(request)
            except (RenderError, SpanUnavailableError, OSError) as exc:
                log.error("clip %s of room %s failed: %s", request.clip_id, request.room, exc)
                self.services.store.fail_clip(
                    request.clip_id, request.room, request.t0, request.t1, request.label, str(exc)
                )
                clip_made(request.label, "failed")
                return None
            latency = time.time() - request.received_at if request.received_at else None
            self.services.store.save_clip(clip, latency)
            clip_made(request.label, "ready", latency)
            return clip

    def _render(self, request: ClipRequest) -> ClipReady:
        media = self.services.media
        fragments = self.services.store.fragments(request.room, request.t0, request.t1)
        with tempfile.TemporaryDirectory(prefix="livecut-render-") as scratch:
            # Matroska: ffmpeg seeks frame-exactly in it with -ss before -i; in MPEG-TS it does not.
            span = Path(scratch) / "span.mkv"
            offset = assemble_span(media, fragments, request.t0, request.t1, span)
            out_dir = Path(scratch) / "out"
            clip = Renderer(self.settings, out_dir).render(request, span, source_offset=offset)
            return _stored(clip, out_dir, f"rooms/{request.room}", media)


def _stored(clip: ClipReady, out_dir: Path, prefix: str, media: MediaStore) -> ClipReady:
    """Move the rendered files into the media store; the clip then names them by store key.

    The video goes last: a clip whose video exists is complete.
    """
    for name in ("thumbnail", "captions", "captions_vtt", "vertical", "video"):
        value = getattr(clip, name)
        if value:
            key = f"{prefix}/{value}"
            media.put_file(key, out_dir / value)
            setattr(clip, name, key)
    return clip
