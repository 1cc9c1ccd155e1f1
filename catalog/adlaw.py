"""广告法 check (Advertising Law art. 9: 最, 第一, 唯一, 国家级 ...) on every text the catalog produces.

The patterns come from the caller: the same `[compliance]` lists the clip flags use, so one list
governs clips and listings. A match that overlaps an exception match (最近, 第一次) does not count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from catalog.errors import CatalogError


@dataclass(frozen=True)
class Finding:
    phrase: str
    start: int
    end: int

    def to_json(self) -> dict[str, object]:
        return {"phrase": self.phrase, "start": self.start, "end": self.end}


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...], field: str) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(p) for p in patterns)
    except re.error as exc:
        raise CatalogError(field, f"bad pattern: {exc}") from exc


def ad_law_findings(
    text: str, phrases: list[str] | tuple[str, ...], exceptions: list[str] | tuple[str, ...] = ()
) -> list[Finding]:
    """Banned phrases in the text with their [start, end) positions, longest first where two overlap."""
    excepted = [
        m.span() for p in _compiled(tuple(exceptions), "compliance.banned_claim_exceptions") for m in p.finditer(text)
    ]
    spans = sorted(
        (
            m.span()
            for p in _compiled(tuple(phrases), "compliance.banned_claims")
            for m in p.finditer(text)
            if m.end() > m.start()
        ),
        key=lambda s: (s[0], -s[1]),
    )
    kept: list[tuple[int, int]] = []
    for span in spans:
        if any(span[0] < b and a < span[1] for a, b in [*excepted, *kept]):
            continue
        kept.append(span)
    return [Finding(text[a:b], a, b) for a, b in kept]
