"""Which product each utterance of a room is about, from the room's lineup.

The host names a product by its link ("1号链接", "链接三"), moves on ("下一款"), goes back ("再看
这条", "上一款"), or says its name or an alias ("这件毛衣", "燕麦色那条"). Names are matched by
characters and by toneless pinyin, because Whisper writes homophones (半身群 for 半身裙). The product
carries forward to later utterances until the next cue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pypinyin import lazy_pinyin

from catalog.model import LineupEntry
from catalog.textmatch import cn_to_number

_NUM = r"(\d+|[一二两三四五六七八九十]+)"
_LINK = re.compile(rf"{_NUM}\s*号\s*(?:链接|链|宝贝|商品)|链接\s*{_NUM}|(?i:link\s*(?:number\s*|#\s*)?(\d+))")
_NEXT = re.compile(r"下一(?:款|个|件|条|套|个宝贝)|接下来(?:这|一)(?:款|件|条)|(?i:next (?:one|item|product))")
_BACK = re.compile(
    r"上一(?:款|个|件|条)|再看(?:一下|一眼)?(?:这|那|刚才)?(?:款|条|件|个)?|回到(?:刚才|上一)|刚才那(?:款|条|件)"
)
# "这件", "那条" ... in an alias are a pointer, not the product's name.
_POINTER = re.compile(r"^(?:这|那)(?:件|条|款|个|套|双|只|瓶|支)|(?:这|那)(?:件|条|款|个|套|双|只|瓶|支)$|的$")


@dataclass(frozen=True)
class Link:
    entry: LineupEntry
    cue: str  # "link", "next", "back", "name", "carried"
    phrase: str


class ProductLinker:
    """Feed a room's utterances in order; each gets the lineup entry it is about (or None before any cue)."""

    def __init__(self, lineup: list[LineupEntry], min_name_chars: int = 2) -> None:
        self.lineup = sorted(lineup, key=lambda e: e.link)
        self.min_name_chars = min_name_chars
        self.current: LineupEntry | None = None
        self.previous: LineupEntry | None = None
        self._names = [(entry, name, _syllables(name)) for entry in self.lineup for name in _names(entry)]

    def link(self, utterance) -> Link | None:
        """The product of one utterance (livecut.contracts.Utterance or anything with .text)."""
        text = utterance.text
        found = self._by_link(text) or self._by_name(text)
        if found is None and _NEXT.search(text):
            found = self._step(+1, _NEXT.search(text).group(0))
        if found is None and _BACK.search(text) and self.previous is not None:
            found = Link(self.previous, "back", _BACK.search(text).group(0))
        if found is None:
            return Link(self.current, "carried", "") if self.current else None
        if found.entry is not self.current:
            self.previous, self.current = self.current, found.entry
        return found

    def _by_link(self, text: str) -> Link | None:
        for m in _LINK.finditer(text):
            raw = next(g for g in m.groups() if g)
            number = int(raw) if raw.isdigit() else int(cn_to_number(raw))
            entry = next((e for e in self.lineup if e.link == number), None)
            if entry is not None:
                return Link(entry, "link", m.group(0))
        return None

    def _by_name(self, text: str) -> Link | None:
        """The longest name said, by characters first, then by pinyin."""
        said = [(len(name), entry, name) for entry, name, _ in self._names if name in text]
        if not said:
            heard = _syllables(text)
            said = [(len(syl), entry, name) for entry, name, syl in self._names if _contains(heard, syl)]
        if not said:
            return None
        longest = max(length for length, _, _ in said)
        entries = {id(entry): (entry, name) for length, entry, name in said if length == longest}
        if len(entries) != 1:
            return None  # two products answer to the same words: keep what was presented
        entry, name = next(iter(entries.values()))
        return Link(entry, "name", name)

    def _step(self, offset: int, phrase: str) -> Link | None:
        if self.current is None:
            return Link(self.lineup[0], "next", phrase) if self.lineup else None
        index = self.lineup.index(self.current) + offset
        return Link(self.lineup[index], "next", phrase) if 0 <= index < len(self.lineup) else None


def product_of_span(t0: float, t1: float, linked: list[tuple[float, float, str | None]]) -> str | None:
    """The product (sku) that covers most of [t0, t1] among linked utterances (t0, t1, sku): a clip's product."""
    overlap: dict[str, float] = {}
    for u0, u1, sku in linked:
        shared = min(t1, u1) - max(t0, u0)
        if sku and shared > 0:
            overlap[sku] = overlap.get(sku, 0.0) + shared
    return max(overlap, key=lambda k: overlap[k]) if overlap else None


def _names(entry: LineupEntry) -> list[str]:
    names = []
    for raw in [*entry.product.aliases, entry.product.title]:
        name = _POINTER.sub("", raw.strip())
        if len(name) >= 2:
            names.append(name)
    return list(dict.fromkeys(names))


def _syllables(text: str) -> tuple[str, ...]:
    return tuple(s for s in lazy_pinyin(text) if s.strip() and re.fullmatch(r"[a-z]+", s))


def _contains(heard: tuple[str, ...], name: tuple[str, ...]) -> bool:
    n = len(name)
    return n >= 2 and any(heard[i : i + n] == name for i in range(len(heard) - n + 1))
