"""What a brand keeps: its template set, page order and removed pages per category, and its phrasing.

BrandMemory is plain data the shell stores per brand (to_json / from_json). `learn(plan)` reads a
confirmed plan: its final page order, the pages a person removed, and each text a person rewrote,
generalised into a copy template ("米色羊毛开衫" -> "{color}{composition_fibre}开衫" where the words
are this product's field values) so the next product of the brand starts from that phrasing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from catalog.detail.plan import DetailPlan
from catalog.errors import CatalogError

# Fields too generic to stand for a value in a phrasing (a two-letter size would match anywhere).
_MIN_FIELD_CHARS = 2
_SKIP_FIELDS = ("title", "brand_story", "care", "fit_advice")


@dataclass
class BrandMemory:
    brand: str
    template_set: dict[str, str] = field(default_factory=dict)  # category -> set key
    orders: dict[str, list[str]] = field(default_factory=dict)  # category -> page keys as confirmed
    removed: dict[str, list[str]] = field(default_factory=dict)  # category -> pages the brand removes
    phrasing: dict[str, str] = field(default_factory=dict)  # "page.slot" -> copy template
    confirmed: int = 0  # plans learned from

    def learn(self, plan: DetailPlan) -> None:
        if plan.brand and self.brand and plan.brand.casefold() != self.brand.casefold():
            raise CatalogError("brand", f"the plan is {plan.brand!r}'s, this memory is {self.brand!r}'s")
        category = plan.category
        self.template_set[category] = plan.template_set
        self.orders[category] = [p.key for p in plan.pages]
        kept = set(self.orders[category])
        self.removed[category] = sorted({*self.removed.get(category, []), *plan.removed} - kept)
        for page in plan.pages:
            for slot in page.slots:
                if slot.kind == "text" and slot.source == "edit" and slot.status == "filled":
                    self.phrasing[f"{page.key}.{slot.name}"] = generalise(slot.text, plan.facts)
        self.confirmed += 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BrandMemory:
        try:
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except TypeError as exc:
            raise CatalogError("brand memory", f"not a stored memory: {exc}") from exc


def generalise(text: str, fields: dict[str, str]) -> str:
    """The text with this product's field values replaced by {field}, longest value first."""
    text = text.replace("{", "{{").replace("}", "}}")
    candidates = sorted(
        ((k, v) for k, v in fields.items() if k not in _SKIP_FIELDS and len(v) >= _MIN_FIELD_CHARS),
        key=lambda kv: -len(kv[1]),
    )
    for key, value in candidates:
        text = text.replace(value, "{" + key + "}")
    return text
