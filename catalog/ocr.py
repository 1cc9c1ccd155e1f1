"""Text in images with RapidOCR (PP-OCR; the weights ship inside the `rapidocr-onnxruntime` wheel)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

_ENGINE = None
_LOCK = threading.Lock()


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: tuple[int, int, int, int]  # x, y, width, height in the image given to read_text


def _engine():
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            from rapidocr_onnxruntime import RapidOCR  # imported late: loading the models takes a second

            _ENGINE = RapidOCR()
    return _ENGINE


def read_text(rgb: np.ndarray, min_score: float = 0.5) -> list[TextLine]:
    """Lines of text, top to bottom. Lines are upright on labels, so the angle classifier is skipped."""
    result, _ = _engine()(np.ascontiguousarray(rgb[:, :, ::-1]), use_cls=False)
    lines = []
    for points, text, score in result or ():
        xs = [int(p[0]) for p in points]
        ys = [int(p[1]) for p in points]
        if float(score) >= min_score and text.strip():
            lines.append(TextLine(text.strip(), float(score), (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))))
    return sorted(lines, key=lambda line: (line.box[1], line.box[0]))
