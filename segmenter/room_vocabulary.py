"""A room's vocabulary at work on its utterances: Whisper hotwords, sound-alike correction,
and numbers in one readable form. Every change is recorded on the utterance (corrections)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from livecut.contracts import Utterance
from segmenter.lexicon import Lexicon, build_lexicon
from segmenter.numbers import number_edits
from segmenter.pinyin_correction import CorrectionSettings, PinyinCorrector
from segmenter.text_edits import apply_edits


@dataclass(frozen=True)
class VocabularySettings:
    # The taxonomy's keyword words (lexicon.taxonomy_terms), given by the caller.
    taxonomy_terms: tuple[str, ...] = ()
    # Add the shipped live-commerce word list.
    commerce_words: bool = True
    # Pass the lexicon to Whisper as hotwords (Mandarin chunks), at most hotwords_max_chars.
    hotwords: bool = True
    hotwords_max_chars: int = 120
    # Sound-alike correction of Mandarin text to lexicon terms.
    correction: CorrectionSettings = field(default_factory=CorrectionSettings)
    # Prices, percentages and sizes as digits.
    numbers: bool = True

    def __post_init__(self) -> None:
        if self.hotwords_max_chars < 1:
            raise ValueError(f"lexicon.hotwords_max_chars must be >= 1, got {self.hotwords_max_chars}")


class RoomVocabulary:
    """One per room: its lexicon (taxonomy, products, live-commerce words) and what uses it."""

    def __init__(self, settings: VocabularySettings, product_terms: Iterable[str] = ()) -> None:
        self.settings = settings
        self.lexicon: Lexicon = build_lexicon(
            product_terms, settings.taxonomy_terms, commerce_words=None if settings.commerce_words else ()
        )
        self.corrector = PinyinCorrector(self.lexicon, settings.correction)
        self.hotwords = {"zh": self.lexicon.hotwords(settings.hotwords_max_chars)} if settings.hotwords else None

    def apply(self, utterance: Utterance) -> Utterance:
        """Correct the utterance in place (lexicon words, then numbers) and return it."""
        self.correct_words(utterance)
        if self.settings.numbers:
            self.normalize_numbers(utterance)
        return utterance

    def correct_words(self, utterance: Utterance) -> None:
        if utterance.lang == "zh":
            apply_edits(utterance, self.corrector.edits(utterance.text), kind="lexicon")

    @staticmethod
    def normalize_numbers(utterance: Utterance) -> None:
        apply_edits(utterance, number_edits(utterance.text), kind="number")
