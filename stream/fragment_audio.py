"""Audio of a live room, decoded fragment by fragment as the recorder stores them.

The transcriber reads fragments back from the media store rather than taking audio
from the ingest in memory, so transcription can run on another machine than ingest.
One decoder and one resampler serve all of a room's fragments, so the audio is the
same continuous signal a decoder of the whole stream would give (restarting them at
every fragment would put a glitch every two seconds into what Whisper hears).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from livecut.contracts import SAMPLE_RATE, AudioChunk, Fragment
from stream.pcm import PcmAccumulator


class FragmentAudio:
    """One per room: `decode` each fragment in order; chunks of `chunk_s` come out.

    `whole_chunks`: the audio after the last whole chunk waits for the next fragment, so
    every chunk is `chunk_s` long whatever the fragments' lengths (a recorded file: its
    speech is cut the same however it was fragmented). Without, each fragment's audio comes
    out to its end (a live room: the VAD hears a sentence end as soon as its fragment is in).
    """

    def __init__(self, room: str, chunk_s: float = 1.0, *, whole_chunks: bool = True) -> None:
        self.room = room
        self.chunk_samples = int(chunk_s * SAMPLE_RATE)
        self.whole_chunks = whole_chunks
        self.pending = PcmAccumulator()
        self.decoder: av.AudioCodecContext | None = None
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def decode(self, fragment: Fragment, path: Path) -> list[AudioChunk]:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return []
            stream = container.streams.audio[0]
            to_room = fragment.t0 - (container.start_time or 0) / av.time_base
            decoder = self._decoder(stream)
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                at = float(packet.pts * packet.time_base) + to_room
                self.pending.add_samples(self._pcm(decoder, packet), at if self.pending.t0 is None else None)
        chunks = self._whole_chunks(fragment)
        if not self.whole_chunks and self.pending.size:
            chunks.append(self._chunk(*self.pending.take(self.pending.size), fragment.received_at))
        return chunks

    @property
    def held_from(self) -> float | None:
        """Media time of the decoded audio not yet handed out as a chunk (None when there is none)."""
        return self.pending.t0 if self.pending.size else None

    def flush(self, received_at: float) -> list[AudioChunk]:
        if not self.pending.size:
            return []
        return [self._chunk(*self.pending.take(self.pending.size), received_at)]

    def _decoder(self, stream: av.audio.AudioStream) -> av.AudioCodecContext:
        if self.decoder is None:
            self.decoder = av.CodecContext.create(stream.codec_context.name, "r")
            if stream.codec_context.extradata:
                self.decoder.extradata = stream.codec_context.extradata
        return self.decoder

    def _pcm(self, decoder: av.AudioCodecContext, packet: av.Packet) -> np.ndarray:
        parts = []
        try:
            frames = decoder.decode(packet)
        except av.FFmpegError:
            return np.zeros(0, dtype=np.float32)
        for frame in frames:
            frame.pts = None
            parts += [out.to_ndarray().reshape(-1) for out in self.resampler.resample(frame)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _whole_chunks(self, fragment: Fragment) -> list[AudioChunk]:
        chunks = []
        while self.pending.size >= self.chunk_samples:
            t0, samples = self.pending.take(self.chunk_samples)
            t1 = t0 + len(samples) / SAMPLE_RATE
            # The fragment is complete when its last packet arrived; earlier audio arrived earlier.
            chunks.append(self._chunk(t0, samples, fragment.received_at - max(0.0, fragment.t1 - t1)))
        return chunks

    def _chunk(self, t0: float, samples: np.ndarray, received_at: float) -> AudioChunk:
        return AudioChunk(room=self.room, t0=t0, samples=samples, received_at=received_at)
