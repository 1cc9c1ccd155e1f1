"""A brand's confirmed corrections, used as examples by its next extraction.

Two kinds of example, as a person makes them in the confirm step:
- {"attribute": "fit", "phrase": "落肩", "value": "loose"}: this brand's word for a value; the next
  extraction reads the phrase as that value (a synonym table of the brand);
- {"attribute": "color", "was": "khaki", "value": "beige"}: the brand calls what was extracted as
  `was` by `value`; the next extraction replaces it (an override table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.errors import CatalogError


@dataclass
class BrandCorrections:
    synonyms: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # attribute -> [(phrase, value)]
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # attribute -> {was: value}

    @classmethod
    def from_examples(cls, examples: list[dict[str, Any]]) -> BrandCorrections:
        corrections = cls()
        for i, example in enumerate(examples):
            where = f"corrections[{i}]"
            if not isinstance(example, dict) or not example.get("attribute") or "value" not in example:
                raise CatalogError(where, "an example has attribute and value")
            attribute, value = str(example["attribute"]), example["value"]
            if example.get("phrase"):
                corrections.synonyms.setdefault(attribute, []).append((str(example["phrase"]), str(value)))
            elif "was" in example:
                corrections.overrides.setdefault(attribute, {})[_key(example["was"])] = value
            else:
                raise CatalogError(where, "an example has a phrase (the brand's word) or was (the value it replaces)")
        return corrections

    def phrases(self, attribute: str) -> list[tuple[str, str]]:
        return self.synonyms.get(attribute, [])

    def override(self, attribute: str, value: Any) -> tuple[bool, Any]:
        table = self.overrides.get(attribute, {})
        key = _key(value)
        return (True, table[key]) if key in table else (False, value)


def _key(value: Any) -> str:
    """A hashable spelling of a value (compositions and lists are compared by content)."""
    if isinstance(value, dict):
        return repr(sorted(value.items()))
    if isinstance(value, list):
        return repr(sorted(map(str, value)))
    return str(value)
