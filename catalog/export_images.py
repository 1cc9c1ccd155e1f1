"""Fitting product images to a platform's slots: resize, pad or crop, and stay under the byte cap."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

WHITE = (255, 255, 255)
MIN_QUALITY = 40


def fit(image: Image.Image, width: int, height: int, mode: str) -> Image.Image:
    """pad: the whole image on white (nothing of the product is lost); crop: fill the frame, centred."""
    if mode == "crop":
        scale = max(width / image.width, height / image.height)
    else:
        scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image.resize(size, Image.Resampling.BILINEAR if scale < 1 else Image.Resampling.BICUBIC, reducing_gap=2.0)
    canvas = Image.new("RGB", (width, height), WHITE)
    canvas.paste(resized, ((width - size[0]) // 2, (height - size[1]) // 2))
    return canvas


def slices(image: Image.Image, width: int, max_height: int) -> list[Image.Image]:
    """A detail image scaled to the slice width and cut into pieces no taller than max_height."""
    height = max(1, round(image.height * width / image.width))
    scaled = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return [scaled.crop((0, top, width, min(top + max_height, height))) for top in range(0, height, max_height)]


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
