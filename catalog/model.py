"""The catalog's data: products, a room's lineup, and attribute values with their evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Where a value came from; the extraction's confidence depends on it.
SOURCES = ("title", "description", "ocr", "image", "speech", "correction")


@dataclass
class Product:
    """A tenant's product as the brand lists it. `attributes` hold confirmed values (key -> value)."""

    sku: str
    title: str
    category: str | None = None
    brand: str | None = None
    price: float | None = None
    images: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    speech: list[Any] = field(default_factory=list)
    # A shorter title per platform where the main one is over a platform's limit (never truncated).
    titles: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LineupEntry:
    """A product on a room's lineup under its link number (1号链接)."""

    room: str
    link: int
    product: Product


@dataclass
class AttributeValue:
    """One extracted value. `evidence` says where exactly: a text span, an image region, an utterance."""

    value: Any
    confidence: float
    source: str
    evidence: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "source": self.source,
            "evidence": self.evidence,
        }
