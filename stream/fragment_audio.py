"""Audio of a live room, decoded fragment by fragment as the recorder stores them.

The transcriber reads fragments back from the media store rather than taking audio
from the ingest in memory, so transcription can run on another machine than ingest.
Times come from the fragment's packets, mapped onto the room timeline by the
fragment's `t0`.
"""

from __future__ import annotations

from pathlib import Path

import av

from livecut.events import SAMPLE_RATE, AudioChunk, Fragment
from stream.pcm import PcmAccumulator


class FragmentAudio:
    """One per room: `decode` each fragment in order; whole chunks of `chunk_s` come out."""

    def __init__(self, room: str, chunk_s: float = 1.0) -> None:
        self.room = room
        self.chunk_samples = int(chunk_s * SAMPLE_RATE)
        self.pending = PcmAccumulator()

    def decode(self, fragment: Fragment, path: Path) -> list[AudioChunk]:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return []
            stream = container.streams.audio[0]
            self.pending.offset = (container.start_time or 0) / av.time_base - fragment.t0
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for packet in container.demux(stream):
                for frame in _decode(packet):
                    for out in resampler.resample(frame):
                        self.pending.add(out)
            for out in resampler.resample(None):
                self.pending.add(out)
        return self._whole_chunks(fragment)

    def flush(self, received_at: float) -> list[AudioChunk]:
        if not self.pending.size:
            return []
        return [self._chunk(*self.pending.take(self.pending.size), received_at)]

    def _whole_chunks(self, fragment: Fragment) -> list[AudioChunk]:
        chunks = []
        while self.pending.size >= self.chunk_samples:
            t0, samples = self.pending.take(self.chunk_samples)
            t1 = t0 + len(samples) / SAMPLE_RATE
            # The fragment is complete when its last packet arrived; earlier audio arrived earlier.
            chunks.append(self._chunk(t0, samples, fragment.received_at - max(0.0, fragment.t1 - t1)))
        return chunks

    def _chunk(self, t0: float, samples, received_at: float) -> AudioChunk:
        return AudioChunk(room=self.room, t0=t0, samples=samples, received_at=received_at)


def _decode(packet: av.Packet) -> list[av.AudioFrame]:
    try:
        return packet.decode()
    except av.FFmpegError:
        return []
