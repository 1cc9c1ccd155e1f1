"""Post-correction by sound: a span Whisper wrote with the wrong characters becomes the lexicon
term it sounds like (闲兽 → 显瘦, 线为 → 纤维, 练结 → 链接).

A span is replaced only when
- its pinyin (tones ignored) is the term's, or close to it (near sounds such as z/zh, n/l,
  an/ang count half; `max_distance` for two characters, more for longer terms) with at least
  one character already right;
- the span as written is not itself a common word (jieba's dictionary, frequency at least
  `common_word_frequency`): 真是 is what the host said, not 真丝;
- it holds no number (digits or Chinese numerals): numbers are never touched.
Longer terms and nearer sounds win when candidates overlap.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from segmenter.lexicon import Lexicon
from segmenter.numbers import Edit

_CJK = re.compile(r"[\u3400-\u9fff]")
_NUMERALS = set("零〇一二两三四五六七八九十百千万亿")
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s")
_NEAR = {
    frozenset(pair)
    for pair in (
        ("z", "zh"),
        ("c", "ch"),
        ("s", "sh"),
        ("n", "l"),
        ("f", "h"),
        ("an", "ang"),
        ("en", "eng"),
        ("in", "ing"),
        ("ian", "iang"),
        ("uan", "uang"),
    )
}


@dataclass(frozen=True)
class CorrectionSettings:
    enabled: bool = True
    # Summed over the syllables: 0 = same pinyin; a near initial or final counts 0.5, another 1.
    # A two-character term may differ by max_distance, each further character allows this much more.
    max_distance: float = 0.5
    extra_distance_per_char: float = 0.0
    min_term_chars: int = 2
    common_word_frequency: int = 20

    def __post_init__(self) -> None:
        for name in ("max_distance", "extra_distance_per_char"):
            if getattr(self, name) < 0:
                raise ValueError(f"lexicon.{name} must be >= 0, got {getattr(self, name)}")
        if self.min_term_chars < 2:
            raise ValueError(f"lexicon.min_term_chars must be >= 2, got {self.min_term_chars}")


@dataclass(frozen=True)
class _Term:
    text: str
    syllables: tuple[str, ...]


class PinyinCorrector:
    """Built once per lexicon; `edits` proposes the replacements for one text."""

    def __init__(self, lexicon: Lexicon, settings: CorrectionSettings) -> None:
        self.settings = settings
        terms = [t for t in lexicon.terms if _correctable(t, settings.min_term_chars)]
        self.terms = [_Term(t, tuple(lazy_pinyin(t, style=Style.NORMAL))) for t in terms]
        self.lengths = sorted({len(t.text) for t in self.terms}, reverse=True)
        self.by_length = {n: [t for t in self.terms if len(t.text) == n] for n in self.lengths}
        # Read (or taken from the process's copy) now, not on the room's first utterance.
        self.common_words = _common_words(settings.common_word_frequency) if settings.enabled else frozenset()

    def edits(self, text: str) -> list[Edit]:
        if not self.settings.enabled or not self.terms or not _CJK.search(text):
            return []
        syllables = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: [""] * len(chars))
        if len(syllables) != len(text):
            return []
        candidates = [
            c for n in self.lengths for i in range(len(text) - n + 1) for c in self._at(text, syllables, i, n)
        ]
        return _non_overlapping(candidates, text)

    def _at(self, text: str, syllables: list[str], start: int, n: int) -> list[tuple[float, int, Edit]]:
        span = text[start : start + n]
        if not all(_CJK.match(ch) for ch in span) or _NUMERALS & set(span):
            return []
        sounds = syllables[start : start + n]
        found = []
        for term in self.by_length[n]:
            if term.text == span:
                return [(-1.0, n, Edit(start, start + n, span))]  # already right: protects the span
            distance = sum(_syllable_distance(a, b) for a, b in zip(sounds, term.syllables, strict=True))
            anchored = distance == 0 or any(a == b for a, b in zip(span, term.text, strict=True))
            if distance <= self._allowed(n) and anchored and not self._common(span):
                found.append((distance, n, Edit(start, start + n, term.text)))
        return found

    def _allowed(self, n: int) -> float:
        return self.settings.max_distance + (n - 2) * self.settings.extra_distance_per_char

    def _common(self, span: str) -> bool:
        return span in self.common_words


def _non_overlapping(candidates: list[tuple[float, int, Edit]], text: str) -> list[Edit]:
    """Exact lexicon words first, then nearest sound, then longest term; overlaps lose."""
    taken: list[Edit] = []
    for _, _, edit in sorted(candidates, key=lambda c: (c[0], -c[1], c[2].start)):
        if all(edit.end <= e.start or e.end <= edit.start for e in taken):
            taken.append(edit)
    return sorted((e for e in taken if text[e.start : e.end] != e.replacement), key=lambda e: e.start)


def _correctable(term: str, min_chars: int) -> bool:
    return len(term) >= min_chars and all(_CJK.match(ch) for ch in term) and not _NUMERALS & set(term)


def _split(syllable: str) -> tuple[str, str]:
    for initial in _INITIALS:
        if syllable.startswith(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def _syllable_distance(a: str, b: str) -> float:
    if a == b:
        return 0.0
    if not a or not b:
        return 1.0
    (ia, fa), (ib, fb) = _split(a), _split(b)
    distance = sum(0.0 if x == y else 0.5 if frozenset((x, y)) in _NEAR else 1.0 for x, y in ((ia, ib), (fa, fb)))
    return min(distance, 1.0)


def preload_common_words(settings: CorrectionSettings) -> None:
    """Read the common words on a thread of their own now (about 0.6 s), while the caller loads
    other things, instead of when the first room starts."""
    if settings.enabled:
        threading.Thread(
            target=_common_words, args=(settings.common_word_frequency,), name="common-words", daemon=True
        ).start()


_COMMON_WORDS_LOCK = threading.Lock()


def _common_words(min_frequency: int) -> frozenset[str]:
    with _COMMON_WORDS_LOCK:  # a room that starts while they are being read waits for them, not reads them again
        return _read_common_words(min_frequency)


@functools.cache
def _read_common_words(min_frequency: int) -> frozenset[str]:
    """Words of two or more characters in jieba's dictionary at least this frequent, read as plain
    text (no segmenter is loaded); shared by every room of the process."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("pinyin correction needs the jieba package (pip install jieba)")
    words = set()
    with (Path(spec.origin).parent / "dict.txt").open(encoding="utf-8") as handle:
        for line in handle:
            word, frequency, *_ = line.split(" ")
            if len(word) >= 2 and int(frequency) >= min_frequency:
                words.add(word)
    return frozenset(words)
