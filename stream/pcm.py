"""Decoded audio frames joined into fixed-size chunks on the media timeline.

A timestamp jump larger than GAP_TOLERANCE_S (dropped packets, a reconnect) is filled
with silence, so sample positions and media times never drift apart.
"""

from __future__ import annotations

import av
import numpy as np

from livecut.contracts import SAMPLE_RATE

GAP_TOLERANCE_S = 0.05


class PcmAccumulator:
    """Concatenates resampled mono float frames; `offset` maps a frame's time to the media timeline."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset
        self.parts: list[np.ndarray] = []
        self.size = 0
        self.t0: float | None = None

    @property
    def end(self) -> float:
        return (self.t0 or 0.0) + self.size / SAMPLE_RATE

    def add(self, frame: av.AudioFrame) -> None:
        at = None if frame.time is None else float(frame.time) - self.offset
        self.add_samples(frame.to_ndarray().reshape(-1), at)

    def add_samples(self, samples: np.ndarray, at: float | None) -> None:
        """Append samples that start at media time `at` (None: right after what is held)."""
        samples = samples.astype(np.float32, copy=False)
        if self.t0 is None:
            self.t0 = at if at is not None else 0.0
        elif at is not None and at - self.end > GAP_TOLERANCE_S:
            self._append(np.zeros(int((at - self.end) * SAMPLE_RATE), dtype=np.float32))
        self._append(samples)

    def _append(self, samples: np.ndarray) -> None:
        self.parts.append(samples)
        self.size += len(samples)

    def take(self, count: int) -> tuple[float, np.ndarray]:
        joined = np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0]
        head, rest = joined[:count], joined[count:]
        t0 = self.t0 or 0.0
        self.parts = [rest] if len(rest) else []
        self.size = len(rest)
        self.t0 = t0 + count / SAMPLE_RATE
        return t0, head
