"""Fitting product images to a platform's slots: resize, pad or crop, and stay under the byte cap."""

from __future__ import annotations

import io
from typing import Any

import cv2
import numpy as np
from PIL import Image

WHITE = (255, 255, 255)
MIN_QUALITY = 40


def _resize(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    # Bilinear is clean down to half size and much cheaper than INTER_AREA at odd ratios; below half,
    # INTER_AREA avoids aliasing; enlarging uses bicubic.
    scale = width / pixels.shape[1]
    method = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
    return cv2.resize(pixels, (width, height), interpolation=method)


def fit(pixels: np.ndarray, width: int, height: int, mode: str) -> Image.Image:
    """pad: the whole image on white (nothing of the product is lost); crop: fill the frame, centred."""
    h, w = pixels.shape[:2]
    scale = max(width / w, height / h) if mode == "crop" else min(width / w, height / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = _resize(pixels, *size)
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    x, y = (width - size[0]) // 2, (height - size[1]) // 2
    # Crop mode: the resized image is larger than the canvas and the offsets are negative.
    src = resized[max(0, -y) : max(0, -y) + min(height, size[1]), max(0, -x) : max(0, -x) + min(width, size[0])]
    canvas[max(0, y) : max(0, y) + src.shape[0], max(0, x) : max(0, x) + src.shape[1]] = src
    return Image.fromarray(canvas)


def slices(pixels: np.ndarray, width: int, max_height: int) -> list[Image.Image]:
    """A detail image scaled to the slice width and cut into pieces no taller than max_height."""
    h, w = pixels.shape[:2]
    height = max(1, round(h * width / w))
    scaled = _resize(pixels, width, height)
    return [Image.fromarray(scaled[top : top + max_height]) for top in range(0, height, max_height)]


def encode_jpeg(image: Image.Image, max_bytes: int, quality: int) -> tuple[bytes, int] | None:
    """JPEG bytes under max_bytes, lowering the quality in steps; None if even the lowest is too big."""
    while quality >= MIN_QUALITY:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=False)
        data = buffer.getvalue()
        if len(data) <= max_bytes:
            return data, quality
        quality -= 10
    return None


def image_record(name: str, slot: str, image: Image.Image, data: bytes, quality: int) -> dict[str, Any]:
    return {
        "file": name,
        "slot": slot,
        "width": image.width,
        "height": image.height,
        "bytes": len(data),
        "quality": quality,
    }
