"""The room's vocabulary: the words that matter in this room, for Whisper and for correction.

Three sources: the taxonomy's keyword phrases (面料, 垂感, 显瘦 ...), the room's products as
the catalog knows them (names, aliases, attribute values, colors, link numbers: a plain list
of terms the shell passes in), and a shipped list of live-commerce words
(segmenter/data/live_commerce_words.txt: 小黄车, 链接, 领券, 到手价, 拍, 码 ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from segmenter.taxonomy import TopicClass

COMMERCE_WORDS_PATH = Path(__file__).resolve().parent / "data" / "live_commerce_words.txt"
_CJK_WORD = re.compile(r"^[\u3400-\u9fff]+$")
_TERM = re.compile(r"^[\u3400-\u9fffA-Za-z0-9]+$")
# Product terms the shell passes in longer than this are descriptions, not words.
MAX_TERM_CHARS = 12


@dataclass(frozen=True)
class Lexicon:
    """Terms, each once, most specific first."""

    terms: tuple[str, ...]

    def hotwords(self, max_chars: int) -> str:
        """Whisper hotwords: the terms joined by spaces, cut at a term boundary to at most max_chars."""
        picked: list[str] = []
        used = 0
        for term in self.terms:
            if used + len(term) + 1 > max_chars:
                break
            picked.append(term)
            used += len(term) + 1
        return " ".join(picked)


def build_lexicon(
    product_terms: Iterable[str] = (),
    taxonomy_words: Iterable[str] = (),
    commerce_words: Iterable[str] | None = None,
) -> Lexicon:
    """The room's lexicon: products first (most specific), then live-commerce words, then the
    taxonomy's words (see taxonomy_terms). `commerce_words` None: the shipped list. Raises
    ValueError naming `product_terms[i]` when a product term is not one word."""
    products = [_checked(term, i) for i, term in enumerate(product_terms)]
    words = load_commerce_words() if commerce_words is None else list(commerce_words)
    return Lexicon(tuple(dict.fromkeys(t for t in [*products, *words, *taxonomy_words] if t)))


def taxonomy_terms(taxonomy: Iterable[TopicClass]) -> list[str]:
    """The literal Chinese words among the taxonomy's keyword alternatives (面料|材质|成分 ...)."""
    terms: list[str] = []
    for topic in taxonomy:
        for pattern in topic.keywords:
            for part in re.split(r"[|()]", pattern.pattern):
                if len(part) >= 2 and _CJK_WORD.match(part):
                    terms.append(part)
    return terms


def load_commerce_words(path: Path = COMMERCE_WORDS_PATH) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _checked(term: object, index: int) -> str:
    if not isinstance(term, str) or not term.strip():
        raise ValueError(f"product_terms[{index}] must be a non-empty string, got {term!r}")
    term = re.sub(r"\s+", "", term)
    if len(term) > MAX_TERM_CHARS or not _TERM.match(term):
        raise ValueError(
            f"product_terms[{index}] {term!r} is not one word (letters, digits, Chinese; at most {MAX_TERM_CHARS})"
        )
    return term
