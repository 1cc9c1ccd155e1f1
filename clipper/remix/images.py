"""Product images as footage: each image is one short Ken Burns shot (a slow zoom towards its centre)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from clipper.remix.errors import RemixError
from clipper.remix.footage import Footage, Quality, Segment
from clipper.remix.signature import frame_hash

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
KEN_BURNS_ZOOM = 1.15  # the last frame shows the middle 1/1.15 of the image


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def kb_crop(width: int, height: int, progress: float) -> tuple[float, float, float, float]:
    """(x, y, w, h) of the Ken Burns window at `progress` in [0, 1]: zooming in on the centre."""
    zoom = 1.0 + (KEN_BURNS_ZOOM - 1.0) * min(1.0, max(0.0, progress))
    w, h = width / zoom, height / zoom
    return ((width - w) / 2, (height - h) / 2, w, h)


def image_footage(path: Path, product: str | None, seconds: float = 3.0) -> Footage:
    """Footage of one image: a single `seconds`-long segment whose hashes follow the zoom."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise RemixError(f"cannot read product image {path}: {exc}") from exc
    width, height = image.size
    hashes = []
    for second in range(max(1, int(seconds))):
        x, y, w, h = kb_crop(width, height, (second + 0.5) / seconds)
        crop = image.crop((round(x), round(y), round(x + w), round(y + h))).resize((256, round(256 * h / w)))
        hashes.append(frame_hash(np.asarray(crop)))
    segment = Segment(
        source=str(path),
        t0=0.0,
        t1=seconds,
        kind="image",
        product=product,
        quality=Quality(0.0, 0.0, None, 0.5),
        hashes=hashes,
    )
    note = "product image: shown as a Ken Burns shot, no speech"
    return Footage(str(path), seconds, width, height, 0.0, False, [(0.0, seconds)], [segment], product, notes=[note])
