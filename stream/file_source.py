"""Recorded files as a source: PyAV opens them, audio comes out as 16 kHz mono chunks.

The chunks carry media-timeline times taken from packet timestamps, so the stages
downstream behave the same on a file as on a live room. The original packets stay
in the file, which the renderer cuts from.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from livecut.contracts import SAMPLE_RATE, AudioChunk, EndOfStream, MediaInfo
from stream.pcm import PcmAccumulator


class SourceError(RuntimeError):
    """The input cannot be used: unreadable, corrupt, no audio, or an unsupported codec."""


def probe(path: Path) -> MediaInfo:
    """Open `path` and describe it; raise SourceError with a one-line reason if it is unusable."""
    with _open(path) as container:
        audio = _audio_stream(container, path)
        video = container.streams.video[0] if container.streams.video else None
        duration = container.duration / av.time_base if container.duration else None
        return MediaInfo(
            source=str(path),
            duration=duration,
            has_video=video is not None,
            audio_codec=audio.codec_context.name,
            video_codec=video.codec_context.name if video is not None else None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
        )


class FileSource:
    """Decodes the first audio stream of a file into AudioChunk events, then EndOfStream."""

    def __init__(self, path: Path, room: str, chunk_s: float = 1.0) -> None:
        self.path = Path(path)
        self.room = room
        self.chunk_samples = int(chunk_s * SAMPLE_RATE)

    def events(self) -> Iterator[AudioChunk | EndOfStream]:
        """Times are relative to the container's start, which is where a cutter's seek counts from."""
        with _open(self.path) as container:
            stream = _audio_stream(container, self.path)
            pending = PcmAccumulator(offset=(container.start_time or 0) / av.time_base)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in _decode(container, stream, self.path):
                for out in resampler.resample(frame):
                    pending.add(out)
                while pending.size >= self.chunk_samples:
                    yield self._chunk(*pending.take(self.chunk_samples))
            for out in resampler.resample(None):
                pending.add(out)
        if pending.size:
            yield self._chunk(*pending.take(pending.size))
        yield EndOfStream(room=self.room, t=pending.end)

    def _chunk(self, t0: float, samples: np.ndarray) -> AudioChunk:
        return AudioChunk(room=self.room, t0=t0, samples=samples, received_at=time.time())


def _open(path: Path) -> av.container.InputContainer:
    if not Path(path).is_file():
        raise SourceError(f"{path}: no such file")
    try:
        return av.open(str(path), mode="r")
    except av.FFmpegError as exc:
        raise SourceError(f"{path}: not a readable media file ({_reason(exc)})") from exc


def _audio_stream(container: av.container.InputContainer, path: Path) -> av.audio.AudioStream:
    if not container.streams.audio:
        raise SourceError(f"{path}: has no audio stream, so there is no speech to clip")
    stream = container.streams.audio[0]
    if stream.codec_context is None or not stream.codec_context.name:
        raise SourceError(f"{path}: audio codec is not supported")
    return stream


def _decode(container: av.container.InputContainer, stream: av.audio.AudioStream, path: Path):
    """Decoded audio frames; damaged packets are skipped, a file with no decodable audio is an error."""
    decoded = 0
    failed = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                failed += 1
                continue
            for frame in frames:
                decoded += 1
                yield frame
    except av.FFmpegError as exc:
        if decoded == 0:
            raise SourceError(f"{path}: corrupt media ({_reason(exc)})") from exc
    if decoded == 0:
        detail = f"{failed} damaged packets" if failed else "no audio packets"
        raise SourceError(f"{path}: no decodable audio ({detail})")


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
