"""One decoding pass over a video: per-second samples with hash, sharpness, motion and subject box.

Second k is represented by the frame shown at k + 0.5 s. Sharpness is the variance of the
Laplacian of the luma (blurry frames score low); motion is the mean absolute luma change to the
frame before the sample. The subject box is a detected face when the installed OpenCV has Haar
cascades (OpenCV 4.x), otherwise the most salient region by spectral residual saliency
(Hou & Zhang 2007), which needs nothing but numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np

from clipper.remix.footage import Box
from clipper.remix.signature import frame_hash

_HASH_WIDTH = 256
_MEASURE_WIDTH = 320
_SALIENCY_WIDTH = 64


@dataclass(frozen=True)
class SecondSample:
    """What one sampled frame says about its second of video."""

    second: int
    hash: str
    sharpness: float
    motion: float
    box: Box | None


def sample_seconds(path: Path, detect_faces: bool = True) -> list[SecondSample]:
    """Decode the first video stream once and sample one frame per second."""
    samples: list[SecondSample] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        previous: np.ndarray | None = None
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            gray = _gray(frame)
            while frame.time + 1e-6 >= len(samples) + 0.5:
                samples.append(_sample(len(samples), frame, gray, previous, detect_faces))
            previous = gray
    return samples


def _gray(frame: av.VideoFrame) -> np.ndarray:
    height = max(2, round(frame.height * _MEASURE_WIDTH / frame.width / 2) * 2)
    return frame.reformat(width=_MEASURE_WIDTH, height=height, format="gray").to_ndarray()


def _sample(
    second: int, frame: av.VideoFrame, gray: np.ndarray, previous: np.ndarray | None, detect_faces: bool
) -> SecondSample:
    height = max(2, round(frame.height * _HASH_WIDTH / frame.width))
    rgb = frame.reformat(width=_HASH_WIDTH, height=height, format="rgb24").to_ndarray()
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    motion = float(np.abs(gray.astype(np.int16) - previous).mean()) if previous is not None else 0.0
    scale = frame.width / gray.shape[1]
    box = (_face(gray, scale) if detect_faces else None) or _salient(gray, scale)
    return SecondSample(second, frame_hash(rgb), sharpness, motion, box)


@cache
def _face_cascade() -> object | None:
    """OpenCV's frontal-face Haar cascade, or None where this OpenCV build has none (5.x dropped them)."""
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        return None
    path = Path(getattr(cv2.data, "haarcascades", "")) / "haarcascade_frontalface_default.xml"
    return cv2.CascadeClassifier(str(path)) if path.exists() else None


def _face(gray: np.ndarray, scale: float) -> Box | None:
    cascade = _face_cascade()
    if cascade is None:
        return None
    found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    if len(found) == 0:
        return None
    x, y, w, h = max(found, key=lambda r: r[2] * r[3])
    return Box(round(x * scale), round(y * scale), round(w * scale), round(h * scale), "face")


def _salient(gray: np.ndarray, scale: float) -> Box | None:
    """Bounding box of the most salient blob: spectral residual saliency, thresholded at 3x its mean."""
    small_h = max(8, round(gray.shape[0] * _SALIENCY_WIDTH / gray.shape[1]))
    small = cv2.resize(gray, (_SALIENCY_WIDTH, small_h), interpolation=cv2.INTER_AREA).astype(np.float32)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-6)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    saliency = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    saliency = cv2.GaussianBlur(saliency.astype(np.float32), (5, 5), 2)
    if saliency.max() <= 0:
        return None
    mask = (saliency > 3 * saliency.mean()).astype(np.uint8)
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask)
    if count <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[best, :4])
    factor = scale * gray.shape[1] / _SALIENCY_WIDTH
    return Box(round(x * factor), round(y * factor), round(w * factor), round(h * factor), "subject")
