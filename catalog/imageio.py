"""Opening product images safely: the size is checked from the header before any pixel is decoded."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from catalog.errors import CatalogError

FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
DEFAULT_MAX_MEGAPIXELS = 50.0


def open_checked(path: str | Path, field: str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> Image.Image:
    """The image with only its header read; refuses what is unreadable, unsupported or too large."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError as exc:
        raise CatalogError(field, f"{path} does not exist") from exc
    except Image.DecompressionBombError as exc:
        raise CatalogError(field, f"{path} is over {max_megapixels:g} megapixels (decompression-bomb guard)") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise CatalogError(field, f"{path} is not a readable image ({exc.__class__.__name__})") from exc
    if image.format not in FORMATS:
        image.close()
        raise CatalogError(field, f"{path} is {image.format}; supported: {', '.join(FORMATS)}")
    width, height = image.size
    if width * height > max_megapixels * 1_000_000:
        image.close()
        raise CatalogError(
            field,
            f"{path} is {width}x{height} = {width * height / 1e6:.1f} megapixels, over the limit of "
            f"{max_megapixels:g} (decompression-bomb guard; nothing was decoded)",
        )
    return image


def decode_rgb(image: Image.Image, field: str, max_side: int | None = None) -> np.ndarray:
    """RGB pixels, optionally no larger than max_side (JPEG decodes at a reduced scale: much faster)."""
    try:
        if max_side and image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))
        rgb = image.convert("RGB")
        if max_side and max(rgb.size) > max_side:
            rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        return np.asarray(rgb)
    except (OSError, ValueError) as exc:
        raise CatalogError(field, f"the image cannot be decoded ({exc})") from exc
