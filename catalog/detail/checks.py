"""Checks every generated text passes: 广告法, invented attributes, and the slot's length.

An invented attribute is a claim the product's data does not back: a fibre it is not made of, a
value of an attribute it has another value for (or none), a percentage or a number with a unit it
does not state, or a function (防水, 抗菌 ...) that its title, description and attributes never name.
Shortening drops whole clauses from the end; a text is never cut inside a clause, let alone a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.adlaw import ad_law_findings
from catalog.detail.facts import Facts, claims
from catalog.schema import Schema
from catalog.textmatch import CN_NUMBER, cn_to_number, find_names

_PERCENT = re.compile(rf"(\d+(?:\.\d+)?)\s*[%％]|百分之({CN_NUMBER})")
_MEASURE = re.compile(
    r"(\d+(?:\.\d+)?)\s*(mAh|毫安时?|W|瓦|ml|mL|毫升|L|升|kg|千克|公斤|g|克|cm|厘米|mm|毫米|小时|h|天|个月|年|倍|SPF)",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[，,、；;。！!？?·|/\s]+")


@dataclass(frozen=True)
class Shortened:
    text: str
    fits: bool
    note: str = ""


def shorten(text: str, max_chars: int, rule: str) -> Shortened:
    """Within max_chars by dropping trailing clauses (rule "clauses"), else the whole text, flagged."""
    if max_chars <= 0 or len(text) <= max_chars:
        return Shortened(text, True)
    if rule == "clauses":
        cuts = [m.start() for m in _CLAUSE_END.finditer(text) if 0 < m.start() <= max_chars]
        if cuts:
            kept = text[: cuts[-1]].rstrip()
            return Shortened(kept, True, f"shortened from {len(text)} to {len(kept)} characters (clauses dropped)")
    return Shortened(text, False, f"{len(text)} characters, over the slot's {max_chars}: shorten it")


def text_problems(
    text: str, facts: Facts, schema: Schema, phrases: tuple[str, ...], exceptions: tuple[str, ...]
) -> list[str]:
    """Why the text may not be used: 广告法 phrases and invented claims (empty when it may)."""
    problems = [f"广告法 phrase {f.phrase!r}" for f in ad_law_findings(text, phrases, exceptions)]
    return problems + invented_claims(text, facts, schema)


def invented_claims(text: str, facts: Facts, schema: Schema) -> list[str]:
    stated = _plain(facts.text)
    problems = []
    for mention in find_names(text, _vocabulary(schema)):
        attribute_key, value_key = mention.value.split(":", 1)
        if _has_value(facts.values.get(attribute_key), value_key) or _plain(mention.phrase) in _plain(facts.own_text):
            continue
        attribute = schema.attributes[attribute_key]
        problems.append(f"invented {attribute.zh} {mention.phrase!r}: the product's {attribute.zh} does not say so")
    allowed = _percentages(facts)
    for m in _PERCENT.finditer(text):
        amount = float(m.group(1)) if m.group(1) else cn_to_number(m.group(2))
        if amount not in allowed:
            problems.append(f"invented percentage {m.group(0)!r}: no confirmed value is {amount:g}%")
    for m in _MEASURE.finditer(text):
        if _plain(m.group(0)) not in stated:
            problems.append(f"invented figure {m.group(0)!r}: the product's data does not state it")
    for term in claims().get("functions", {}).get("terms", []):
        if term in text and term not in stated:
            problems.append(f"invented function {term!r}: the product's data does not claim it")
    return problems


def _has_value(value: object, key: str) -> bool:
    if isinstance(value, dict):
        return key in value
    if isinstance(value, list):
        return key in map(str, value)
    return value is not None and str(value) == key


def _percentages(facts: Facts) -> set[float]:
    found = {float(p) for v in facts.values.values() if isinstance(v, dict) for p in v.values() if _number(p)}
    for m in _PERCENT.finditer(facts.own_text):
        found.add(float(m.group(1)) if m.group(1) else cn_to_number(m.group(2)))
    return found


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _vocabulary(schema: Schema) -> list[tuple[str, str]]:
    """(name, "attribute:value") for every listed value; one-character names only for fibres (棉)."""
    names = []
    for attribute in schema.attributes.values():
        if attribute.type not in ("enum", "multi", "composition"):
            continue
        for value in attribute.values:
            for name in value.names:
                if len(name) >= 2 or attribute.type == "composition":
                    names.append((name, f"{attribute.key}:{value.key}"))
    return names
