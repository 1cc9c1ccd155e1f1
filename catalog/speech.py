"""The host's words about a product: speech lines, the slots their sublabels route to, fit advice."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from catalog.errors import CatalogError
from catalog.textmatch import cn_to_number


@dataclass(frozen=True)
class SpeechLine:
    text: str
    t0: float | None = None
    t1: float | None = None
    sublabel: str | None = None

    def evidence(self) -> dict[str, Any]:
        return {"utterance": self.text, "t0": self.t0, "t1": self.t1, "sublabel": self.sublabel}


def speech_lines(items: list[Any], field: str = "speech") -> list[SpeechLine]:
    """Lines from strings, dicts {text, t0, t1, sublabel} or livecut.contracts.Utterance objects."""
    if not isinstance(items, list):
        raise CatalogError(field, "is a list of lines")
    lines = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            lines.append(SpeechLine(item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            lines.append(SpeechLine(item["text"], item.get("t0"), item.get("t1"), item.get("sublabel")))
        elif hasattr(item, "text") and hasattr(item, "t0"):
            lines.append(SpeechLine(item.text, item.t0, item.t1, getattr(item, "sublabel", None)))
        else:
            raise CatalogError(f"{field}[{i}]", "is a string or an object with text")
    return lines


def routed(slots: tuple[str, ...], line: SpeechLine) -> bool:
    """An utterance with a sublabel fills only the attributes of that slot; one without fills any."""
    return line.sublabel is None or not slots or line.sublabel in slots


_HEIGHT = re.compile(
    r"(?:身高|我|模特)?\s*(一米[零一二三四五六七八九]{1,2}|1米\d{1,2}|1\.\d{2}\s*m|1[4-9]\d)\s*(?:cm|厘米|公分)?"
)
_WEIGHT = re.compile(r"(\d{2,3}|[一二三四五六七八九十百]{1,4})\s*斤")
_SIZE = re.compile(r"穿\s*(?:的是|了|的)?\s*(XXXL|XXL|XL|XS|S|M|L|\d{2,3})\s*(?:码|号)?", re.IGNORECASE)


def fit_advice(text: str) -> tuple[dict[str, Any], tuple[int, int]] | None:
    """ "身高一米六二穿M码" -> {"height_cm": 162, "size": "M"} and the span it was read from."""
    height, size = _HEIGHT.search(text), _SIZE.search(text)
    if not height or not size or size.start() < height.start():
        return None
    advice: dict[str, Any] = {"height_cm": _height_cm(height.group(1)), "size": size.group(1).upper()}
    weight = _WEIGHT.search(text)
    if weight:
        raw = weight.group(1)
        advice["weight_jin"] = int(raw) if raw.isdigit() else int(cn_to_number(raw))
    start = min(height.start(1), weight.start() if weight else height.start(1))
    return advice, (start, size.end())


def _height_cm(raw: str) -> int:
    raw = raw.replace(" ", "")
    if raw.startswith("一米"):
        rest = raw[2:]
        tail = cn_to_number(rest)
        return int(100 + (tail * 10 if len(rest) == 1 else tail))
    if raw.startswith("1米"):
        rest = raw[2:]
        return int(100 + (int(rest) * 10 if len(rest) == 1 else int(rest)))
    if raw.endswith("m"):
        return round(float(raw[:-1]) * 100)
    return int(raw)
