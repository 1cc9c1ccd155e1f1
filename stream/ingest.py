"""One publish session of a room: demux the live stream, record fragments, announce them.

Runs on a worker thread (PyAV blocks). What the session learns and makes goes through a
`RecordingSink` the app shell provides (store rows, bus events); the session itself knows
neither. The room's timeline continues across
sessions: a reconnecting publisher's timestamps restart near zero, so the recorder
is given the room's previous media end as its offset and the next fragment number,
and nothing is overwritten or jumps back in time.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import av

from livecut.contracts import EndOfStream, Fragment
from stream.hls import write_playlist
from stream.media_store import MediaStore
from stream.recorder import FragmentRecorder

log = logging.getLogger(__name__)

# Audio codecs a room may publish, by codec name: the fragments are stream-copied MPEG-TS, so these
# are the codecs MPEG-TS carries, and PyAV decodes each of them to PCM for the transcriber. FLV's own
# codecs (Nellymoser, Speex, PCM, ADPCM) cannot be stored without re-encoding and are refused.
AUDIO_CODECS = {"aac", "mp3", "mp2", "ac3", "eac3", "opus"}
# A first timestamp later than this means the session joined a stream that was already running.
JOINED_RUNNING_STREAM_S = 1.0
VIDEO_CODECS = {"h264", "hevc"}


def codec_name(stream: av.stream.Stream) -> str:
    """The codec's own name, not its decoder's: PyAV's MP3 decoder is 'mp3float', the codec 'mp3'."""
    codec = stream.codec_context.codec
    return codec.canonical_name if codec is not None else stream.codec_context.name


class RecordingSink(Protocol):
    """Where a session's results go; called from the session's thread."""

    def timeline(self) -> tuple[float, int]:
        """The room's media end so far and its next fragment number (0, 0 for a new room)."""
        ...

    def recorded(self) -> tuple[list[Fragment], set[int]]:
        """The room's stored fragments and the numbers that follow a discontinuity (for the playlist)."""
        ...

    def fragment(self, fragment: Fragment, discontinuity: bool, next_seq: int) -> None:
        """A fragment is complete in the media store: record it and announce it."""
        ...

    def end(self, end: EndOfStream) -> None:
        """The session is over; announced after its last fragment."""
        ...

    def skipped(self, count: int, reason: str) -> None:
        """`count` more corrupt packets were left out of the recording; `reason` is the latest's."""
        ...


class IngestError(RuntimeError):
    """The stream cannot be used (no audio, unsupported codec); the room goes to `error`."""


def check_streams(container: av.container.InputContainer) -> list[av.stream.Stream]:
    """The streams to record; raises IngestError with a reason a person can act on."""
    if not container.streams.audio:
        raise IngestError("the stream has no audio track, so there is no speech to clip")
    audio = container.streams.audio[0]
    if codec_name(audio) not in AUDIO_CODECS:
        raise IngestError(f"unsupported audio codec {codec_name(audio)!r} (use AAC or MP3)")
    # Clips are videos: an audio-only room would transcribe and then fail every clip, so it is refused here.
    if not container.streams.video:
        raise IngestError("the stream has no video track, and livecut's clips are videos: send video with the audio")
    video = container.streams.video[0]
    if codec_name(video) not in VIDEO_CODECS:
        raise IngestError(f"unsupported video codec {codec_name(video)!r} (use H.264 or HEVC)")
    return [video, audio]


class IngestSession:
    """Records one publish session of `room`; `run` returns when the stream ends."""

    def __init__(
        self,
        room: str,
        media: MediaStore,
        sink: RecordingSink,
        fragment_s: float = 2.0,
        work_dir: Path | None = None,
        *,
        split_s: float | None = None,
        split_while: Callable[[], bool] | None = None,
    ) -> None:
        """`work_dir`: where fragments are written before they go to the media store (None: the system temp).
        `split_s`, `split_while`: also cut fragments between keyframes (FragmentRecorder); None: at keyframes only."""
        self.room = room
        self.media = media
        self.sink = sink
        self.fragment_s = fragment_s
        self.split_s = split_s
        self.split_while = split_while
        self.work_dir = work_dir
        self.stopping = threading.Event()
        self.fragments: list[Fragment] = []
        self.discontinuities: set[int] = set()
        self.skipped = 0  # corrupt packets left out, reported to the sink with each fragment
        self._skips_reported = 0

    def stop(self) -> None:
        """Finish at the next packet (the room was stopped or the server shuts down)."""
        self.stopping.set()

    def run(self, container: av.container.InputContainer) -> None:
        streams = check_streams(container)
        media_end, next_seq = self.sink.timeline()
        # Read once per session; the playlist then grows with each fragment instead of re-reading the room.
        self.fragments, self.discontinuities = self.sink.recorded()
        packets = _packets(container, streams)
        opening = next((p for p in packets if p.pts is not None), None)
        offset = media_end - _rebase_from(opening, reconnect=next_seq > 0)
        recorder = FragmentRecorder(
            self.room,
            self.media,
            streams,
            target_s=self.fragment_s,
            timeline_offset=offset,
            first_seq=next_seq,
            work_dir=self.work_dir,
            split_s=self.split_s,
            split_while=self.split_while,
        )
        first = True
        try:
            for packet in itertools.chain([opening] if opening is not None else [], packets):
                if self.stopping.is_set():
                    break
                for fragment in recorder.add(packet):
                    self._announce(fragment, recorder, discontinuity=first and fragment.seq > 0)
                    first = False
                if recorder.skipped != self.skipped and self.skipped == self._skips_reported:
                    log.warning("room %s: skipping %s (the recording goes on)", self.room, recorder.last_skip)
                self.skipped = recorder.skipped
        finally:
            for fragment in recorder.close():
                self._announce(fragment, recorder, discontinuity=first and fragment.seq > 0)
                first = False
            if self.fragments:
                self._write_playlist()
            self.skipped = recorder.skipped
            self._report_skips(recorder)
            self.sink.end(EndOfStream(self.room, recorder.media_end))

    def _report_skips(self, recorder: FragmentRecorder) -> None:
        new = self.skipped - self._skips_reported
        if new:
            self.sink.skipped(new, recorder.last_skip or "")
            log.warning("room %s: %d corrupt packet(s) skipped, %d this session", self.room, new, self.skipped)
            self._skips_reported = self.skipped

    def _announce(self, fragment: Fragment, recorder: FragmentRecorder, discontinuity: bool) -> None:
        fragment = dataclasses.replace(fragment, received_at=time.time())
        self.sink.fragment(fragment, discontinuity, recorder.next_seq)
        self.skipped = recorder.skipped
        self._report_skips(recorder)
        self.fragments.append(fragment)
        if discontinuity:
            self.discontinuities.add(fragment.seq)
        if fragment.keyframe:
            # Not after every split fragment: the whole playlist is rewritten each time, and a replay
            # does not need the last second.
            self._write_playlist()

    def _write_playlist(self) -> None:
        write_playlist(self.media, self.room, self.fragments, ended=False, discontinuities=self.discontinuities)


def _rebase_from(opening: av.Packet | None, reconnect: bool) -> float:
    """The session time that maps to the room's current media end.

    A reconnecting publisher restarts its clock near zero and a pulled stream may have
    been running for hours: both continue the room timeline exactly where it ended.
    A first push keeps its own small start offset, so its times match the file's.
    The decode timestamp is used: it is the earliest of the session's clocks.
    """
    if opening is None:
        return 0.0
    stamp = opening.dts if opening.dts is not None else opening.pts
    start = float(stamp * opening.time_base)
    return start if reconnect or start > JOINED_RUNNING_STREAM_S else 0.0


def _packets(container: av.container.InputContainer, streams: list[Any]):
    """Demuxed packets until the publisher leaves; PyAV reports some ends as OSError, not EOF.

    A track that appears mid-stream (an encoder that switched codec, or stray media messages)
    makes PyAV's demux raise IndexError for the stream it does not know. The session ends there
    with the reason logged; the publisher is then dropped, and its reconnect is probed afresh.
    """
    try:
        yield from container.demux(streams)
    except (av.FFmpegError, OSError) as exc:
        log.info("stream ended: %s", exc)
    except IndexError:
        log.warning("stream ended: a new track appeared mid-stream (a codec change?); the publisher must reconnect")
