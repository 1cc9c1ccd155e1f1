"""A detail page as planned: its pages in order, each slot filled or flagged, with notes a person reads.

A plan is plain data (to_json / from_json): the shell stores it, a person edits it step by step,
and the renderer draws it. `ready` is False while a required slot is flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from catalog.errors import CatalogError

STATUSES = ("filled", "flagged", "empty")


@dataclass
class SlotFill:
    name: str
    kind: str
    status: str  # filled, flagged (needs a person: missing photo, over-long text ...), empty (optional, nothing)
    required: bool = False
    text: str = ""
    image: str = ""  # a path as the product lists it
    role: str = ""  # the image's role, or for a missing image the role asked for
    table: dict[str, list[Any]] | None = None  # {"columns": [...], "rows": [[...], ...]}
    swatches: list[dict[str, str]] = field(default_factory=list)  # [{"name": "米色", "hex": "#e6d8bd"}]
    source: str = ""  # template, brand, llm, edit, rule
    notes: list[str] = field(default_factory=list)
    hint: str = ""  # for a flagged slot: what to add, in the page's language (drawn on the page)


@dataclass
class PagePlan:
    key: str
    title: str
    slots: list[SlotFill]

    def slot(self, name: str) -> SlotFill:
        found = next((s for s in self.slots if s.name == name), None)
        if found is None:
            raise CatalogError(f"pages.{self.key}.slots", f"no slot {name!r}")
        return found

    @property
    def flagged(self) -> list[SlotFill]:
        return [s for s in self.slots if s.status == "flagged"]


@dataclass
class DetailPlan:
    sku: str
    brand: str
    category: str
    template_set: str
    pages: list[PagePlan]
    base_dir: str  # where the product's relative image paths are
    images: list[dict[str, Any]] = field(default_factory=list)  # [{"path", "role", "width", "height"}]
    left_out: list[dict[str, str]] = field(default_factory=list)  # [{"page", "reason"}]: pages it could not fill
    removed: list[str] = field(default_factory=list)  # pages a person removed
    edits: list[dict[str, Any]] = field(default_factory=list)  # [{"op": "edit"|"remove"|"move", ...}]
    notes: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # the template fields (what the copy may say)
    values: dict[str, Any] = field(default_factory=dict)
    own_text: str = ""

    def page(self, key: str) -> PagePlan:
        found = next((p for p in self.pages if p.key == key), None)
        if found is None:
            raise CatalogError("page", f"no page {key!r} in the plan; has {', '.join(p.key for p in self.pages)}")
        return found

    @property
    def ready(self) -> bool:
        return not any(p.flagged for p in self.pages)

    def issues(self) -> list[str]:
        """One line per flagged slot: what a person has to do."""
        return [f"{p.key}.{s.name}: {'; '.join(s.notes) or 'flagged'}" for p in self.pages for s in p.flagged]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ready"] = self.ready
        data["issues"] = self.issues()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetailPlan:
        try:
            pages = [PagePlan(p["key"], p["title"], [SlotFill(**s) for s in p["slots"]]) for p in data.get("pages", [])]
            fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "pages"}
            return cls(pages=pages, **fields)
        except (KeyError, TypeError) as exc:
            raise CatalogError("detail plan", f"not a stored plan: {exc}") from exc
