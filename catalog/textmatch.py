"""Finding an attribute's values in text: synonyms, numbers with units, Chinese numerals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from catalog.schema import Attribute

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = "[零〇一二两三四五六七八九十百千点]+"


@dataclass(frozen=True)
class Mention:
    """A value named in a text at [start, end)."""

    value: str
    start: int
    end: int
    phrase: str


def cn_to_number(text: str) -> float:
    """八十 -> 80, 九十五 -> 95, 一百 -> 100, 五点五 -> 5.5, 六二 -> 62 (digits read one by one)."""
    whole, _, frac = text.partition("点")
    value = _cn_integer(whole)
    if frac:
        value += float("0." + "".join(str(_DIGITS[c]) for c in frac))
    return value


def _cn_integer(text: str) -> float:
    if text and all(c in _DIGITS for c in text):
        return float("".join(str(_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (digit or 1) * _UNITS[char]
            digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return float(total + digit)


def _is_latin(name: str) -> bool:
    return bool(re.fullmatch(r"[\x00-\x7f]+", name))


@lru_cache(maxsize=512)
def _name_pattern(name: str) -> re.Pattern[str]:
    escaped = re.escape(name.lower())
    # A Latin name is a whole word ("stretch" is not in "stretched"); a Chinese one is any substring.
    return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if _is_latin(name) else escaped)


def find_names(text: str, names: list[tuple[str, str]]) -> list[Mention]:
    """Mentions of (name, value) pairs in the text, longest first where two overlap, in text order."""
    lowered = text.lower()
    found = [
        Mention(value, m.start(), m.end(), text[m.start() : m.end()])
        for name, value in names
        if name
        for m in _name_pattern(name).finditer(lowered)
    ]
    kept: list[Mention] = []
    for mention in sorted(found, key=lambda m: (-(m.end - m.start), m.start)):
        # One phrase may name two values (秋冬 is autumn and winter): the same span is kept for each.
        same_span = [k for k in kept if (k.start, k.end) == (mention.start, mention.end)]
        another_value = bool(same_span) and all(k.value != mention.value for k in same_span)
        if another_value or all(mention.end <= k.start or k.end <= mention.start for k in kept):
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)


def value_mentions(attribute: Attribute, text: str, extra: list[tuple[str, str]] = ()) -> list[Mention]:
    """Mentions of the attribute's listed values; `extra` adds (phrase, value) pairs, e.g. a brand's."""
    names = [(name, value.key) for value in attribute.values for name in value.names]
    return find_names(text, [*names, *extra])


def number_mentions(attribute: Attribute, text: str) -> list[tuple[float, Mention]]:
    """Amounts in the attribute's unit: "500g" -> 500, "1.5kg" -> 1500, "SPF50" -> 50."""
    results: list[tuple[float, Mention]] = []
    if attribute.units:
        units = "|".join(re.escape(u) for u in sorted(attribute.units, key=len, reverse=True))
        pattern = re.compile(rf"(\d+(?:\.\d+)?)\s*({units})(?![A-Za-z])")
        for m in pattern.finditer(text):
            amount = float(m.group(1)) * attribute.units[m.group(2)]
            results.append((round(amount, 3), Mention(str(amount), m.start(), m.end(), m.group(0))))
    if attribute.prefix_units:
        units = "|".join(re.escape(u) for u in sorted(attribute.prefix_units, key=len, reverse=True))
        for m in re.finditer(rf"({units})\s*(\d+(?:\.\d+)?)", text):
            amount = float(m.group(2)) * attribute.prefix_units[m.group(1)]
            results.append((round(amount, 3), Mention(str(amount), m.start(), m.end(), m.group(0))))
    if attribute.keywords:
        near = [r for r in results if any(k in text[max(0, r[1].start - 12) : r[1].start] for k in attribute.keywords)]
        results = near or results
    return results


def text_mentions(attribute: Attribute, text: str) -> list[Mention]:
    """Captures of the attribute's patterns (group 1 when there is one)."""
    found = []
    for pattern in attribute.patterns:
        for m in re.finditer(pattern, text):
            group = 1 if m.groups() else 0
            found.append(Mention(m.group(group).strip(), m.start(group), m.end(group), m.group(0)))
    return found
