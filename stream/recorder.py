"""Fragment recorder: cuts a live stream into ~2 s MPEG-TS fragments in the media store.

Why fragments: the live room must be clippable seconds after the host speaks, long
before the broadcast ends, and a crash must lose at most a couple of seconds. Short
stream-copied fragments (no re-encode, so ingest costs almost no CPU) give both; the
renderer concatenates the few it needs, and the same fragments back an HLS replay.

Timestamps: every packet is moved onto the room's media timeline,
`pts * time_base + timeline_offset`, and written that way INTO the MPEG-TS (90 kHz
clock), so a fragment's own timestamps are room-timeline seconds. PyAV's mpegts muxer
adds no offset of its own (measured: a fragment whose first packet is at room time
12.11 s reads back with `start_time` 12.11 s; the ffmpeg CLI's 1.4 s "muxdelay" shift
does not apply to PyAV). When a publisher reconnects, the caller starts a new recorder
with `timeline_offset = old.media_end` and `first_seq = old.next_seq`, so time never
jumps back and no fragment is overwritten.

Cut rule: a fragment starts at a video keyframe and closes at the first keyframe at or
after `t0 + target_s` (audio-only: the first audio packet at or after that time).
Audio packets that arrive after the cutting keyframe but present before it (B-frame
reorder delay: the keyframe's dts precedes its pts) still go to the old fragment, which
is finished as soon as a packet with dts >= the cut arrives. So both streams of a
fragment cover [keyframe pts, next keyframe pts), and consecutive fragments meet
within one audio frame (the last audio packet before a cut may end just after it).
At most two fragments are open at a time: memory stays bounded.

Split fragments (`split_s`, live rooms): a publisher's keyframes come every 2 s or more, and
the transcriber hears a fragment's audio only once the fragment is complete, so speech would
wait up to that long for the fragment that holds its end. With `split_s`, a fragment is also
cut at the first audio packet `split_s` after its own start, between keyframes. Such a fragment
has `keyframe=False`: its video continues the fragment before it (MPEG-TS fragments concatenate
into one stream), and whoever decodes video starts from the keyframe fragment before it
(stream.span). The keyframe rule above is unchanged: it counts from the last keyframe cut.
Video goes to the fragment open when it arrives, and publishers send video ahead of audio
(FLV: ~0.3 s), so a split fragment's t1 may pass the next one's t0 by that much. Splitting
costs the transcriber more work per second of audio; `split_while` lets the caller split only
while it has time to spare (the ingest: while few rooms are live).

MPEG-TS timestamps are 33 bits at 90 kHz: room timelines longer than 26.5 hours wrap.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.container import OutputContainer
from av.stream import Stream

from livecut.contracts import Fragment
from stream.media_store import MediaStore, fragment_key

CLOCK_HZ = 90_000  # MPEG-TS timestamps tick at 90 kHz; all bookkeeping uses this clock.
_CLOCK = Fraction(1, CLOCK_HZ)
_MEDIA_TYPES = ("video", "audio")


@dataclass(frozen=True)
class _Stamp:
    """A packet's timing on the room timeline, in 90 kHz ticks."""

    pts: int
    dts: int
    duration: int

    @property
    def end(self) -> int:
        return self.pts + self.duration


class _FragmentWriter:
    """One fragment being written: an MPEG-TS container on a temporary file."""

    def __init__(self, seq: int, templates: list[Stream], work_dir: Path | None, keyframe: bool) -> None:
        self.seq = seq
        self.keyframe = keyframe
        fd, name = tempfile.mkstemp(prefix=f"livecut-fragment-{seq:06d}-", suffix=".ts", dir=work_dir)
        os.close(fd)
        self.path = Path(name)
        self.container: OutputContainer = av.open(name, "w", format="mpegts")
        self.streams = {s.index: self.container.add_stream_from_template(s) for s in templates}
        self.t0: int | None = None
        self.t1: int | None = None

    def write(self, packet: av.Packet, stamp: _Stamp) -> None:
        """Mux `packet` with room-timeline times, leaving the caller's packet exactly as it was."""
        saved = (packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream)
        try:
            packet.stream = self.streams[packet.stream_index]
            packet.time_base = _CLOCK
            packet.pts, packet.dts, packet.duration = stamp.pts, stamp.dts, stamp.duration
            self.container.mux_one(packet)
        finally:
            packet.pts, packet.dts, packet.duration, packet.time_base, packet.stream = saved
        self.t0 = stamp.pts if self.t0 is None else min(self.t0, stamp.pts)
        self.t1 = stamp.end if self.t1 is None else max(self.t1, stamp.end)

    def finish(self) -> Path:
        self.container.close()
        return self.path

    def discard(self) -> None:
        with contextlib.suppress(av.FFmpegError, OSError):
            self.container.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class FragmentRecorder:
    """Turns one publisher's demuxed packets into fragments of one room.

    The mux() trap: PyAV's mux rewrites a packet's pts, dts, duration, time_base and
    stream in place. `add` saves and restores all of them, so after `add` returns the
    caller's packet is untouched and may still be decoded (e.g. audio handed to the
    transcriber), before or after `add`, as the caller prefers. (Restoring is safe:
    the mpegts muxer takes its own reference to the packet and never holds on to the
    Python object, unlike PyAV's extradata buffering for global-header formats.)

    With a video stream, packets before the first video keyframe are dropped (a pull
    may join mid-GOP; such video cannot be decoded), so pass only streams that carry
    packets: a declared video stream that never sends a keyframe records nothing.
    Packets without pts/dts (PyAV's flush packets), from other streams, or with a dts
    not above the stream's previous one (MPEG-TS needs strictly increasing dts) are
    skipped; so is a packet the muxer refuses as corrupt, counted in `skipped`.
    """

    def __init__(
        self,
        room: str,
        store: MediaStore,
        streams: list[Stream],
        target_s: float = 2.0,
        timeline_offset: float = 0.0,
        first_seq: int = 0,
        *,
        work_dir: Path | None = None,
        split_s: float | None = None,
        split_while: Callable[[], bool] | None = None,
    ) -> None:
        """`streams`: the input streams to record (video and/or audio; others are ignored).

        `work_dir`: where fragments are written before they are moved into the store
        (default: the system temp folder). `split_s`: also cut between keyframes, at the first
        audio packet this long after a fragment's start (see the module docstring); None: never.
        `split_while`: asked before each such cut; False leaves the fragment whole to the next
        keyframe (the ingest splits only while few rooms are live). None: always split.
        """
        if target_s <= 0:
            raise ValueError(f"target_s must be positive, got {target_s}")
        if split_s is not None and split_s <= 0:
            raise ValueError(f"split_s must be positive, got {split_s}")
        fragment_key(room, first_seq)  # fail fast on a room id that is not a clean key segment
        self.room = room
        self.store = store
        self.work_dir = work_dir
        self._templates = [s for s in streams if s.type in _MEDIA_TYPES]
        if not self._templates:
            raise ValueError("FragmentRecorder needs at least one audio or video stream")
        self._has_video = any(s.type == "video" for s in self._templates)
        self._default_duration = {s.index: _default_duration(s) for s in self._templates}
        self._offset = round(Fraction(timeline_offset) * CLOCK_HZ)
        self._target = round(Fraction(target_s) * CLOCK_HZ)
        self._split = round(Fraction(split_s) * CLOCK_HZ) if split_s is not None else None
        self._split_while = split_while or _always
        # Where the last fragment that starts at a keyframe starts: the keyframe rule counts from it.
        self._keyframe_t0: int | None = None
        self._next_seq = first_seq
        self._end = self._offset
        self._last_dts: dict[int, int] = {}
        self._current: _FragmentWriter | None = None
        self._closing: _FragmentWriter | None = None
        self._cut = 0
        self._closed = False
        # Packets the muxer refused (corrupt media: a broken H.264 NAL length, say), and why the last was.
        self.skipped = 0
        self.last_skip: str | None = None

    @property
    def media_end(self) -> float:
        """End (pts + duration) of the latest recorded packet, in room-timeline seconds."""
        return self._end / CLOCK_HZ

    @property
    def next_seq(self) -> int:
        """The seq the next fragment would get (a reconnect's recorder starts here)."""
        return self._next_seq

    def add(self, packet: av.Packet) -> list[Fragment]:
        """Record one packet; returns the fragments it completed (usually none, sometimes one)."""
        if self._closed:
            raise RuntimeError("FragmentRecorder.add after close")
        stamp = self._stamp(packet)
        if stamp is None or not self._is_monotonic(packet.stream_index, stamp):
            return []
        cut = self._cut_here(packet, stamp)
        done = self._rotate(stamp.pts, keyframe=cut == "keyframe") if cut else []
        if self._current is None:
            return done  # still waiting for the first keyframe: nothing before it is decodable video
        try:
            self._route(packet, stamp).write(packet, stamp)
        except av.FFmpegError as exc:
            # One corrupt packet costs that packet, not the broadcast: the fragment goes on without it.
            self.skipped += 1
            self.last_skip = f"corrupt {packet.stream.type} packet at {stamp.pts / CLOCK_HZ:.2f} s: {exc.strerror}"
            return done
        self._last_dts[packet.stream_index] = stamp.dts
        self._end = max(self._end, stamp.end)
        if self._closing is not None and stamp.dts >= self._cut:
            closing, self._closing = self._closing, None
            done.append(self._finish(closing))
        return done

    def close(self) -> list[Fragment]:
        """Finish whatever is open (publisher left, or shutdown). Calling it again returns []."""
        self._closed = True
        writers = [w for w in (self._closing, self._current) if w is not None]
        self._closing = self._current = None
        try:
            return [self._finish(w) for w in writers]
        finally:
            for writer in writers:
                writer.discard()  # a no-op for finished ones; removes the rest if one failed

    def _stamp(self, packet: av.Packet) -> _Stamp | None:
        """Room-timeline ticks, or None for packets not to record (flush packets, other streams)."""
        if packet.pts is None or packet.dts is None or packet.stream_index not in self._default_duration:
            return None
        tb = packet.time_base
        duration = _ticks(packet.duration, tb) if packet.duration else self._default_duration[packet.stream_index]
        return _Stamp(
            pts=_ticks(packet.pts, tb) + self._offset,
            dts=_ticks(packet.dts, tb) + self._offset,
            duration=duration,
        )

    def _cut_here(self, packet: av.Packet, stamp: _Stamp) -> str | None:
        """ "keyframe" when a fragment that decodes on its own starts at this packet, "split" when
        one that continues the last starts here (see split_s), None when the packet joins the open one."""
        kind = packet.stream.type
        starts_gop = kind == "video" and packet.is_keyframe if self._has_video else kind == "audio"
        if starts_gop and (self._keyframe_t0 is None or stamp.pts >= self._keyframe_t0 + self._target):
            return "keyframe"
        current = self._current
        if self._split is None or kind != "audio" or current is None or current.t0 is None:
            return None
        return "split" if stamp.pts >= current.t0 + self._split and self._split_while() else None

    def _rotate(self, cut: int, keyframe: bool) -> list[Fragment]:
        """Open a new fragment at `cut`; the old one stays open for late audio until dts >= cut."""
        closing, self._closing, self._cut = self._closing, self._current, cut
        done = [self._finish(closing)] if closing is not None else []
        if keyframe:
            self._keyframe_t0 = cut
        self._current = _FragmentWriter(self._next_seq, self._templates, self.work_dir, keyframe)
        self._next_seq += 1
        return done

    def _route(self, packet: av.Packet, stamp: _Stamp) -> _FragmentWriter:
        if self._closing is not None and packet.stream.type != "video" and stamp.pts < self._cut:
            return self._closing
        assert self._current is not None
        return self._current

    def _is_monotonic(self, index: int, stamp: _Stamp) -> bool:
        """MPEG-TS needs strictly increasing dts per stream; a repeated or backward packet is dropped."""
        last = self._last_dts.get(index)
        return last is None or stamp.dts > last

    def _finish(self, writer: _FragmentWriter) -> Fragment:
        key = fragment_key(self.room, writer.seq)
        try:
            self.store.put_file(key, writer.finish())
        finally:
            writer.discard()
        assert writer.t0 is not None and writer.t1 is not None
        return Fragment(
            room=self.room,
            seq=writer.seq,
            t0=writer.t0 / CLOCK_HZ,
            t1=writer.t1 / CLOCK_HZ,
            uri=key,
            received_at=time.time(),
            keyframe=writer.keyframe,
        )


def _always() -> bool:
    return True


def _ticks(value: int, time_base: Fraction) -> int:
    """`value * time_base` seconds as 90 kHz ticks, rounded to the nearest tick (exact integer math)."""
    num = value * time_base.numerator * CLOCK_HZ
    return (2 * num + time_base.denominator) // (2 * time_base.denominator)


def _default_duration(stream: Stream) -> int:
    """Ticks to assume for a packet that carries no duration (some FLV sources omit it)."""
    if stream.type == "video":
        rate = stream.average_rate or stream.guessed_rate
        return round(CLOCK_HZ / rate) if rate else 0
    frame_size = stream.codec_context.frame_size
    sample_rate = stream.codec_context.sample_rate
    return round(Fraction(frame_size * CLOCK_HZ, sample_rate)) if frame_size and sample_rate else 0
