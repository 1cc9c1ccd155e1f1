"""Live pipeline workers: fragments -> utterances -> clip requests -> rendered clips.

Each worker consumes one bus topic and does its CPU-heavy work on its own single
thread, so the event loop (HTTP API, RTMP) stays responsive and one room's events
are handled in order. The transcribe worker keeps each room's bounded state
(VAD buffer, open topic run); the render worker cuts clips from the stored
fragments, never from memory, so any machine can render them.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipper.renderer import Renderer, RenderError
from livecut import bus as topics
from livecut.bus import MemoryBus
from livecut.events import ClipReady, ClipRequest, EndOfStream, Fragment, Utterance
from livecut.pipeline import Classifier
from livecut.room_classifiers import RoomClassifiers
from livecut.settings import render_settings, segment_settings
from livecut.store import MetadataStore
from segmenter.segment_builder import SegmentBuilder
from segmenter.transcriber import Transcriber, TranscriberSettings
from stream.fragment_audio import FragmentAudio
from stream.media_store import LocalMediaStore
from stream.span import SpanUnavailableError, assemble_span

log = logging.getLogger(__name__)


@dataclass
class LiveServices:
    """What the workers share: configuration, stores, bus and the loaded models."""

    config: dict[str, Any]
    store: MetadataStore
    media: LocalMediaStore
    bus: MemoryBus
    transcriber_settings: TranscriberSettings
    recognizer: Any
    classifiers: RoomClassifiers


@dataclass
class _RoomSpeech:
    audio: FragmentAudio
    transcriber: Transcriber
    builder: SegmentBuilder
    classifier: Classifier


class TranscribeWorker:
    """FRAGMENTS (each room's fragments, then its EndOfStream) in; UTTERANCES and CLIP_REQUESTS out."""

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
                utterances, requests = await loop.run_in_executor(self.thread, handle, event)
                for utterance in utterances:
                    await self.services.bus.publish(topics.UTTERANCES, room, utterance)
                for request in requests:
                    await self.services.bus.publish(topics.CLIP_REQUESTS, room, request)
            except Exception:
                log.exception("transcription failed for room %s", room)
            finally:
                queue.task_done()

    def _room(self, room: str) -> _RoomSpeech:
        if room not in self.rooms:
            settings = self.services.transcriber_settings
            record = self.services.store.room(room)
            self.rooms[room] = _RoomSpeech(
                audio=FragmentAudio(room),
                transcriber=Transcriber(settings, self.services.recognizer),
                builder=SegmentBuilder(segment_settings(self.services.config), room=room, source=f"room:{room}"),
                classifier=self.services.classifiers.for_brand(record.brand if record else None),
            )
        return self.rooms[room]

    def _on_fragment(self, fragment: Fragment) -> tuple[list[Utterance], list[ClipRequest]]:
        speech = self._room(fragment.room)
        chunks = speech.audio.decode(fragment, self.services.media.local_path(fragment.uri))
        utterances = [u for chunk in chunks for u in speech.transcriber.feed(chunk)]
        requests = self._segment(speech, utterances) + speech.builder.idle(now=fragment.t1)
        self._queue(requests)
        # Speech at the fragment's end may still be open in the VAD buffer: only its start is final.
        self.services.store.mark_processed(fragment.room, fragment.t0)
        return utterances, requests

    def _on_end(self, end: EndOfStream) -> tuple[list[Utterance], list[ClipRequest]]:
        """Flush the room's open speech and topic; its state is dropped (a reconnect starts afresh)."""
        speech = self._room(end.room)
        del self.rooms[end.room]
        utterances = [u for chunk in speech.audio.flush(time.time()) for u in speech.transcriber.feed(chunk)]
        utterances += list(speech.transcriber.feed(end))
        requests = self._segment(speech, utterances) + speech.builder.flush(media_end=end.t)
        self._queue(requests)
        self.services.store.mark_processed(end.room, end.t)
        return utterances, requests

    def _queue(self, requests: list[ClipRequest]) -> None:
        for request in requests:
            self.services.store.queue_clip(request)

    def _segment(self, speech: _RoomSpeech, utterances: list[Utterance]) -> list[ClipRequest]:
        speech.classifier.label(utterances)
        requests = []
        for utterance in utterances:
            self.services.store.add_utterance(utterance)
            requests += speech.builder.feed(utterance)
        return requests


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
        """Render one request; a failure is recorded on the clip row, never lost silently."""
        try:
            clip = self._render(request)
        except (RenderError, SpanUnavailableError, OSError) as exc:
            log.error("clip %s of room %s failed: %s", request.clip_id, request.room, exc)
            self.services.store.fail_clip(
                request.clip_id, request.room, request.t0, request.t1, request.label, str(exc)
            )
            return None
        latency = time.time() - request.received_at if request.received_at else None
        self.services.store.save_clip(clip, latency)
        return clip

    def _render(self, request: ClipRequest) -> ClipReady:
        media = self.services.media
        room_prefix = f"rooms/{request.room}"
        fragments = self.services.store.fragments(request.room, request.t0, request.t1)
        renderer = Renderer(self.settings, media.local_path(room_prefix))
        with tempfile.TemporaryDirectory(prefix="livecut-span-") as scratch:
            # Matroska: ffmpeg seeks frame-exactly in it with -ss before -i; in MPEG-TS it does not.
            span = Path(scratch) / "span.mkv"
            offset = assemble_span(media, fragments, request.t0, request.t1, span)
            clip = renderer.render(request, span, source_offset=offset)
        return _as_media_keys(clip, room_prefix)


def _as_media_keys(clip: ClipReady, prefix: str) -> ClipReady:
    """Renderer paths are relative to the room's folder; the API serves media by store key."""
    for name in ("video", "captions", "captions_vtt", "thumbnail", "vertical"):
        value = getattr(clip, name)
        if value:
            setattr(clip, name, f"{prefix}/{value}")
    return clip
