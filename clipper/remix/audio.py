"""Speech loudness of a segment, from the source's audio decoded once to mono 16 kHz."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np

RATE = 16_000
SILENCE_DBFS = -90.0


def decode_mono(path: Path) -> np.ndarray | None:
    """The first audio stream as mono float32 at 16 kHz, or None when the file has no audio."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        chunks = []
        for frame in container.decode(container.streams.audio[0]):
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def rms_dbfs(samples: np.ndarray | None, t0: float, t1: float) -> float | None:
    """RMS level in dBFS of `[t0, t1]`; None without audio, SILENCE_DBFS for digital silence."""
    if samples is None:
        return None
    piece = samples[max(0, int(t0 * RATE)) : max(0, int(t1 * RATE))]
    if piece.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(piece, dtype=np.float64))))
    return max(SILENCE_DBFS, 20 * math.log10(rms)) if rms > 0 else SILENCE_DBFS
