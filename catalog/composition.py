"""Fibre composition: "棉95% 氨纶5%", "95% cotton 5% spandex", "百分之八十的羊毛 加上百分之二十的羊绒".

A composition is fibre -> percent with canonical fibre keys ({"wool": 80, "cashmere": 20}). The
percentages of one part (shell, lining ...) must sum to 100; a label read wrong by OCR or a typo in
a title is refused rather than listed, because a wrong composition on a listing is a legal defect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.errors import CompositionError
from catalog.schema import Value
from catalog.textmatch import CN_NUMBER, cn_to_number, find_names

_PERCENT = re.compile(rf"(\d+(?:\.\d+)?)\s*[%％]|百分之({CN_NUMBER})")
# Labels start a new part of the garment; the first part that is not a lining is the main one.
_SECTION = re.compile(r"(面料|主料|面布|大身|里料|里布|里衬|填充物|罗纹|(?i:lining|shell|body|filling))\s*[:：]?")
_LINING = ("里料", "里布", "里衬", "lining")
_MAX_GAP = 6  # characters between a fibre and its percent ("的", "含量", " ")
_TOLERANCE = 0.5


@dataclass(frozen=True)
class CompositionPart:
    section: str  # "main", "lining", "filling" ...
    fibres: dict[str, float]
    start: int
    end: int
    text: str


def parse_composition(text: str, fibres: tuple[Value, ...], field: str = "composition") -> list[CompositionPart]:
    """Every composition part found in the text; a part that does not sum to 100 raises CompositionError."""
    parts: list[CompositionPart] = []
    bounds = [(m.start(), m.group(1)) for m in _SECTION.finditer(text)]
    starts = [0, *[b[0] for b in bounds if b[0] > 0]] if not bounds or bounds[0][0] > 0 else [b[0] for b in bounds]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        label = next((name for pos, name in bounds if pos == start), "")
        part = _parse_part(text, start, end, fibres)
        if part is None:
            continue
        fibre_map, span = part
        total = sum(fibre_map.values())
        snippet = text[span[0] : span[1]]
        if abs(total - 100) > _TOLERANCE:
            raise CompositionError(field, f"{snippet!r} sums to {total:g} %, not 100")
        parts.append(CompositionPart(_section_name(label, parts), fibre_map, span[0], span[1], snippet))
    return parts


def main_composition(parts: list[CompositionPart]) -> CompositionPart | None:
    return next((p for p in parts if p.section == "main"), None)


def _section_name(label: str, earlier: list[CompositionPart]) -> str:
    if label.lower() in _LINING:
        return "lining"
    if label in ("填充物",) or label.lower() == "filling":
        return "filling"
    if label == "罗纹":
        return "rib"
    return "main" if not any(p.section == "main" for p in earlier) else "other"


def _parse_part(
    text: str, start: int, end: int, fibres: tuple[Value, ...]
) -> tuple[dict[str, float], tuple[int, int]] | None:
    chunk = text[start:end]
    names = [(name, fibre.key) for fibre in fibres for name in fibre.names]
    tokens: list[tuple[int, int, str, object]] = [(m.start, m.end, "fibre", m.value) for m in find_names(chunk, names)]
    for m in _PERCENT.finditer(chunk):
        amount = float(m.group(1)) if m.group(1) else cn_to_number(m.group(2))
        tokens.append((m.start(), m.end(), "percent", amount))
    tokens.sort()
    pairs: list[tuple[str, float, int, int]] = []
    order: tuple[str, str] | None = None
    i = 0
    while i + 1 < len(tokens):
        first, second = tokens[i], tokens[i + 1]
        kinds = (first[2], second[2])
        if kinds[0] != kinds[1] and second[0] - first[1] <= _MAX_GAP and (order is None or kinds == order):
            order = kinds
            fibre, percent = (first, second) if first[2] == "fibre" else (second, first)
            pairs.append((str(fibre[3]), float(percent[3]), first[0], second[1]))
            i += 2
        else:
            i += 1
    if not pairs:
        return None
    result: dict[str, float] = {}
    for fibre, percent, _, _ in pairs:
        result[fibre] = result.get(fibre, 0) + percent
    clean = {k: int(v) if float(v).is_integer() else v for k, v in result.items()}
    return clean, (start + pairs[0][2], start + pairs[-1][3])
