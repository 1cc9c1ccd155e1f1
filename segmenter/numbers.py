"""Numbers a person can read: prices, percentages, sizes and link numbers in one form.

Whisper writes the same amount as "三百五十九" or "359", a height as "一米六二" or "1米62".
Captions, the classifier, the compliance flags and the catalog's fit advice should read them
alike, so these come out as digits: "三百五十九元" → "359元", "百分之八十" → "80%", "一米六二"
→ "162 cm", "一百一十斤" → "110斤", "二号链接" → "2号链接", "九块九" → "9.9元".

Only a numeral next to a unit or a price word changes; a numeral that is part of a word
(一点, 一下, 小一号, 大一码, 第一) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL = "[零〇一二两三四五六七八九十百千万]"
_NUMBER = rf"(?:\d+(?:\.\d+)?|{_NUMERAL}+)"
_DIGIT = "[零〇一二三四五六七八九0-9]"
# A numeral of several characters, or one with a place unit: a real amount, not 一 in 一件.
_AMOUNT = rf"(?:\d+(?:\.\d+)?|{_NUMERAL}*[十百千万]{_NUMERAL}*|{_NUMERAL}{{2,}})"
_PRICE_WORDS = "原价|现价|到手价|到手|只要|只需|仅需|仅要|售价|价格是|价格|券后价?|秒杀价|活动价|直播价|日常价"


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] by `replacement`."""

    start: int
    end: int
    replacement: str


def chinese_to_int(numeral: str) -> int:
    """The value of a Chinese numeral: 三百五十九 → 359, 两千 → 2000, 三百五 → 350, 一万二 → 12000,
    一六二 → 162 (digit by digit). Raises ValueError naming the text when it is not one."""
    if not numeral or any(ch not in _DIGITS and ch not in _UNITS and ch != "万" for ch in numeral):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    if all(ch in _DIGITS for ch in numeral):
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    if "万" in numeral:
        high, _, low = numeral.partition("万")
        high_value = chinese_to_int(high) if high else 1
        if low and len(low) == 1 and low in _DIGITS:  # 一万二 = 12000
            return high_value * 10000 + _DIGITS[low] * 1000
        return high_value * 10000 + (chinese_to_int(low) if low else 0)
    return _below_10000(numeral)


def _below_10000(numeral: str) -> int:
    total, digit, last_unit = 0, None, 10000
    for ch in numeral:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
            continue
        unit = _UNITS[ch]
        total += (1 if digit is None else digit) * unit
        digit, last_unit = None, unit
    if digit is not None:
        # 三百五 = 350: a last digit right after a place unit counts in the place below it.
        total += digit * (last_unit // 10 if last_unit >= 100 and numeral[-2] in _UNITS else 1)
    return total


def _value(text: str) -> str:
    return text if text[0].isdigit() else str(chinese_to_int(text))


def _percent(m: re.Match) -> str:
    value = "100" if m["n"] == "百" else _value(m["n"])
    return f"{value}%"


def _height(m: re.Match) -> str:
    metres = _value(m["m"])
    rest = m["cm"] or ""
    if not rest:
        return f"{metres}米"
    centimetres = int(_value(rest)) * (10 if len(rest) == 1 else 1)
    return f"{int(metres) * 100 + centimetres} cm"


def _price_decimal(m: re.Match) -> str:
    return f"{_value(m['n'])}.{_value(m['d'])}元"


def _amount(m: re.Match) -> str:
    return _value(m["n"])


# (pattern, replacement), tried in this order on the original text; a later rule never
# touches what an earlier one matched.
# A rule with a group name replaces only that group (the price word stays as it is).
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match], str], str | int]] = [
    (re.compile(rf"百分之(?P<n>{_NUMBER}|百)"), _percent, 0),
    (re.compile(rf"(?P<m>[一1])米(?P<cm>[五六七八九5-9]{_DIGIT}?)"), _height, 0),
    (re.compile(rf"(?P<n>{_NUMBER})块(?P<d>[一二三四五六七八九1-9])(?![0-9{_NUMERAL[1:-1]}钱])"), _price_decimal, 0),
    (re.compile(rf"(?<![大小第])(?P<n>{_AMOUNT}|{_NUMERAL})(?P<unit>元|折|号链接|号连接)"), _amount, "n"),
    (
        re.compile(rf"(?<![大小第])(?P<n>{_AMOUNT})(?P<unit>块钱|块|毛|斤|公斤|千克|厘米|公分|码|件|单|份|毫升|克)"),
        _amount,
        "n",
    ),
    (re.compile(rf"(?P<word>{_PRICE_WORDS})\s*(?P<n>{_AMOUNT})(?![0-9{_NUMERAL[1:-1]}])"), _amount, "n"),
]


def number_edits(text: str) -> list[Edit]:
    """The edits that put the text's prices, percentages and sizes into digits, left to right,
    as positions in the original text (they never overlap)."""
    edits: list[Edit] = []
    for pattern, render, group in _RULES:
        taken = [(e.start, e.end) for e in edits]
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            try:
                replacement = render(m)
            except ValueError:
                continue
            if replacement != m.group(group):
                edits.append(Edit(m.start(group), m.end(group), replacement))
    return sorted(edits, key=lambda e: e.start)


def normalize_numbers(text: str) -> str:
    """`text` with number_edits applied."""
    return apply_to_text(text, number_edits(text))


def apply_to_text(text: str, edits: list[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text
