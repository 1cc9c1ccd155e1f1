"""The label taxonomy, read from the `[taxonomy]` table of config.toml.

A class is a label (price_promo, chitchat, ...) or a label with a sublabel
(selling_point/fabric, ...). Each has a description, example phrases that become
embedding prototypes, and keyword rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class TaxonomyError(ValueError):
    """The taxonomy in the configuration is malformed."""


@dataclass(frozen=True)
class TopicClass:
    label: str
    sublabel: str | None
    description: str
    examples: tuple[str, ...]
    keywords: tuple[re.Pattern[str], ...]

    @property
    def name(self) -> str:
        return f"{self.label}/{self.sublabel}" if self.sublabel else self.label

    def keyword_hits(self, text: str) -> int:
        """Distinct keyword matches in `text`."""
        return len({m.group(0).lower() for pattern in self.keywords for m in pattern.finditer(text)})


def load_taxonomy(table: dict[str, Any]) -> list[TopicClass]:
    classes: list[TopicClass] = []
    for label, spec in table.items():
        if _is_class(spec):
            classes.append(_topic_class(label, None, spec))
            continue
        for sublabel, sub_spec in spec.items():
            if not isinstance(sub_spec, dict) or not _is_class(sub_spec):
                raise TaxonomyError(f"taxonomy.{label}.{sublabel} needs description, examples and keywords")
            classes.append(_topic_class(label, sublabel, sub_spec))
    if len(classes) < 2:
        raise TaxonomyError("the taxonomy needs at least two classes")
    return classes


def _is_class(spec: Any) -> bool:
    return isinstance(spec, dict) and "examples" in spec


def _topic_class(label: str, sublabel: str | None, spec: dict[str, Any]) -> TopicClass:
    where = f"taxonomy.{label}" + (f".{sublabel}" if sublabel else "")
    examples = tuple(spec.get("examples", ()))
    if not examples:
        raise TaxonomyError(f"{where} has no examples")
    try:
        keywords = tuple(re.compile(p) for p in spec.get("keywords", ()))
    except re.error as exc:
        raise TaxonomyError(f"{where} has a bad keyword pattern: {exc}") from exc
    return TopicClass(label, sublabel, spec.get("description", ""), examples, keywords)
