"""Advertising-compliance flags on host speech, so an operator checks a clip before it is posted.

Two things make a live-commerce clip risky to repost out of its moment:

- a **time-bound claim** ("今晚", "倒计时", "只剩三件", "tonight only") is true on air and false a day
  later, so a clip that carries it needs a trim or a caption;
- an **absolute claim** (最, 第一, 国家级, 全网最低, "best ever", "number one") is banned by the PRC
  Advertising Law (article 9) and by the platforms that follow it.

Both lists are regular expressions in the `[compliance]` table of config.toml, so a user extends them
without code. Plain superlative patterns catch too much ("最近" means "recently", "第一次" is "the first
time", "link number one" is a link), so each list has an exception list: a match that overlaps an
exception match is not a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class ComplianceError(ValueError):
    """The `[compliance]` table has a bad pattern."""


@dataclass(frozen=True)
class ComplianceFlags:
    time_bound: bool = False
    banned_claims: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PhraseRules:
    """Patterns whose matches count, unless they overlap a match of an exception pattern."""

    patterns: tuple[re.Pattern[str], ...]
    exceptions: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> list[str]:
        """Matched phrases, longest first where two overlap, in text order, without repeats."""
        excepted = [m.span() for p in self.exceptions for m in p.finditer(text)]
        spans = sorted(
            (m.span() for p in self.patterns for m in p.finditer(text) if m.end() > m.start()),
            key=lambda span: (span[0], -span[1]),
        )
        kept: list[tuple[int, int]] = []
        for span in spans:
            if _overlaps_any(span, excepted) or _overlaps_any(span, kept):
                continue
            kept.append(span)
        return list(dict.fromkeys(text[a:b] for a, b in kept))


class ComplianceChecker:
    def __init__(self, time_bound: PhraseRules, banned: PhraseRules) -> None:
        self.time_bound = time_bound
        self.banned = banned

    def check(self, text: str) -> ComplianceFlags:
        return ComplianceFlags(time_bound=bool(self.time_bound.matches(text)), banned_claims=self.banned.matches(text))


def load_compliance(table: dict[str, Any]) -> ComplianceChecker:
    """Build the checker from the `[compliance]` table of the configuration."""
    return ComplianceChecker(
        time_bound=PhraseRules(_compile(table, "time_bound"), _compile(table, "time_bound_exceptions")),
        banned=PhraseRules(_compile(table, "banned_claims"), _compile(table, "banned_claim_exceptions")),
    )


def _compile(table: dict[str, Any], key: str) -> tuple[re.Pattern[str], ...]:
    try:
        return tuple(re.compile(pattern) for pattern in table.get(key, ()))
    except re.error as exc:
        raise ComplianceError(f"compliance.{key} has a bad pattern: {exc}") from exc


def _overlaps_any(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)
