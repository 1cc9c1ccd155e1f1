"""What a product photo is (its role), its dominant colours and its text, from OpenCV measures.

Roles: label (hang tag or wash label: most of it is text), model (a person wears the product),
mannequin (a body form without a person), packshot (white background), flat_lay (a uniform
coloured surface) and detail (the product fills the frame: a close-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from catalog.colors import NamedColor, dominant_colors
from catalog.imageio import DEFAULT_MAX_MEGAPIXELS, decode_rgb, open_checked
from catalog.ocr import TextLine, read_text

ANALYSIS_SIDE = 384  # pixels: roles and colours are decided on a small copy
OCR_SIDE = 1280
ROLES = ("label", "model", "mannequin", "packshot", "flat_lay", "detail")


@dataclass
class ImageAnalysis:
    path: str
    width: int
    height: int
    role: str
    colors: list[NamedColor]
    product_box: tuple[float, float, float, float]  # x, y, w, h as fractions of the image
    text: list[TextLine] = field(default_factory=list)
    measures: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "role": self.role, "colors": [c.to_json() for c in self.colors]}


def analyse_image(
    path: str | Path, field_name: str, ocr: str = "auto", max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
) -> ImageAnalysis:
    """Role, colours and text of one image. ocr: "auto" (when the image looks like text), "always", "never"."""
    with open_checked(path, field_name, max_megapixels) as image:
        width, height = image.size
        rgb = decode_rgb(image, field_name, max(ANALYSIS_SIDE, OCR_SIDE if ocr == "always" else ANALYSIS_SIDE))
    small = _fit(rgb, ANALYSIS_SIDE)
    background, uniform, white = _background(small)
    foreground = _foreground(small, background) if uniform >= 0.85 else np.ones(small.shape[:2], bool)
    skin = _skin(small) & foreground
    measures = {
        "border_uniformity": uniform,
        "white_background": float(white),
        "foreground": float(foreground.mean()),
        "text_likeness": _text_likeness(small),
    }
    lines: list[TextLine] = []
    if ocr == "always" or (ocr == "auto" and measures["text_likeness"] >= 0.5):
        with open_checked(path, field_name, max_megapixels) as image:
            page = decode_rgb(image, field_name, OCR_SIDE)
        lines = read_text(page)
        measures["text_area"] = _text_area(lines, (page.shape[1], page.shape[0]))
    person = _has_person(small, skin, foreground)
    measures["person"] = float(person)
    role = _role(measures, person, foreground)
    product = foreground & ~skin if person else foreground
    colors = dominant_colors(small[product]) if product.any() else dominant_colors(small.reshape(-1, 3))
    return ImageAnalysis(str(path), width, height, role, colors, _box(foreground), lines, measures)


def _fit_size(width: int, height: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(width, height))
    return round(width * scale), round(height * scale)


def _fit(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    if max(height, width) <= side:
        return rgb
    size = _fit_size(width, height, side)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _background(rgb: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """The border's median colour, how much of the border is that colour, and whether it is white."""
    h, w = rgb.shape[:2]
    m = max(2, int(min(h, w) * 0.04))
    border = np.concatenate(
        [rgb[:m].reshape(-1, 3), rgb[-m:].reshape(-1, 3), rgb[:, :m].reshape(-1, 3), rgb[:, -m:].reshape(-1, 3)]
    )
    median = np.median(border, axis=0)
    near = np.linalg.norm(border.astype(np.float32) - median, axis=1) < 24
    uniform = float(near.mean())
    return median, uniform, bool(uniform >= 0.85 and median.min() >= 232)


def _foreground(rgb: np.ndarray, background: np.ndarray) -> np.ndarray:
    distance = np.linalg.norm(rgb.astype(np.float32) - background, axis=2)
    mask = (distance > 30).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return mask.astype(bool)


def _skin(rgb: np.ndarray) -> np.ndarray:
    """Skin tones in YCrCb (the classic Cr 135-175, Cb 85-130 box)."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    y, cr, cb = ycrcb[..., 0], ycrcb[..., 1], ycrcb[..., 2]
    return (y > 70) & (cr > 135) & (cr < 175) & (cb > 85) & (cb < 130)


def _has_person(rgb: np.ndarray, skin: np.ndarray, foreground: np.ndarray) -> bool:
    """A face: a frontal-face cascade where the installed OpenCV ships one, else a head-shaped skin blob."""
    if _cascade_face(rgb):
        return True
    count, _, stats, _ = cv2.connectedComponentsWithStats(skin.astype(np.uint8), connectivity=8)
    ys, _ = np.nonzero(foreground)
    if count <= 1 or len(ys) == 0:
        return False
    top, bottom = ys.min(), ys.max()
    image_area = skin.size
    for x, y, w, h, area in stats[1:]:
        round_enough = 0.6 <= w / max(h, 1) <= 1.5 and area / max(w * h, 1) >= 0.55
        in_upper_part = y + h / 2 < top + 0.35 * (bottom - top)
        body_below = (
            foreground[min(y + h + 2, foreground.shape[0] - 1) :, x : x + w].mean() > 0.2
            if y + h + 2 < foreground.shape[0]
            else False
        )
        if round_enough and in_upper_part and body_below and area >= 0.003 * image_area:
            return True
    return False


_CASCADE = None


def _cascade_face(rgb: np.ndarray) -> bool:
    """OpenCV 4 ships haar cascades (cv2.data.haarcascades); OpenCV 5 dropped them, then this is False."""
    global _CASCADE
    if not hasattr(cv2, "CascadeClassifier"):
        return False
    if _CASCADE is None:
        path = Path(getattr(cv2, "data", None).haarcascades) / "haarcascade_frontalface_default.xml"
        if not path.exists():
            return False
        _CASCADE = cv2.CascadeClassifier(str(path))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return len(_CASCADE.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20))) > 0


def _text_likeness(rgb: np.ndarray) -> float:
    """0..1: how many small, letter-sized high-contrast blobs the image has (cheap gate for OCR)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, binary = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    h = rgb.shape[0]
    letters = [s for s in stats[1:] if 0.012 * h <= s[3] <= 0.08 * h and s[2] <= 0.12 * h and s[4] >= 6]
    return min(1.0, len(letters) / 40)


def _text_area(lines: list[TextLine], size: tuple[int, int]) -> float:
    return sum(line.box[2] * line.box[3] for line in lines) / max(size[0] * size[1], 1)


def _role(measures: dict[str, float], person: bool, foreground: np.ndarray) -> str:
    if measures.get("text_area", 0.0) >= 0.06:
        return "label"
    if person:
        return "model"
    if measures["border_uniformity"] >= 0.85 and measures["foreground"] < 0.8:
        if _mannequin_profile(foreground):
            return "mannequin"
        return "packshot" if measures["white_background"] else "flat_lay"
    return "detail"


def _mannequin_profile(foreground: np.ndarray) -> bool:
    """A body form: narrow at the neck, wide at the body, a thin stand down to a base."""
    rows = foreground.sum(axis=1)
    filled = np.nonzero(rows)[0]
    if len(filled) < 10:
        return False
    span = rows[filled[0] : filled[-1] + 1].astype(float)
    n = len(span)
    widest = span.max()
    neck = span[: max(1, n // 10)].mean()
    stand = span[int(n * 0.75) : int(n * 0.9)].mean()
    return neck < 0.35 * widest and stand < 0.2 * widest


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return (0.0, 0.0, 1.0, 1.0)
    h, w = mask.shape
    return (xs.min() / w, ys.min() / h, (xs.max() - xs.min() + 1) / w, (ys.max() - ys.min() + 1) / h)
