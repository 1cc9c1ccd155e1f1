"""Canonical attribute schemas, one TOML file per category in `catalog/schemas/` (a user adds a folder).

An attribute has a type:
- enum: one value of a list; multi: several values of a list;
- number: an amount in the attribute's unit, `units` says how other units convert (kg -> 1000 g);
- text: a free string, captured by the regular expressions in `patterns`;
- composition: fibre percentages, the values list the fibres;
- fit_advice: a height (and weight) with the size the host recommends.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError

TYPES = ("enum", "multi", "number", "text", "composition", "fit_advice")
LISTED_TYPES = ("enum", "multi", "composition")
BUILTIN_DIR = Path(__file__).parent / "schemas"


@dataclass(frozen=True)
class Value:
    key: str
    zh: str
    en: str
    synonyms: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling that names the value, the canonical ones first."""
        return (self.zh, self.en, *self.synonyms)


@dataclass(frozen=True)
class Attribute:
    key: str
    zh: str
    en: str
    type: str
    values: tuple[Value, ...] = ()
    slots: tuple[str, ...] = ()
    unit: str = ""
    units: dict[str, float] = field(default_factory=dict)
    prefix_units: dict[str, float] = field(default_factory=dict)
    patterns: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def value(self, key: str) -> Value | None:
        return next((v for v in self.values if v.key == key), None)


@dataclass(frozen=True)
class Schema:
    key: str
    zh: str
    en: str
    keywords: tuple[str, ...]
    attributes: dict[str, Attribute]


def load_schemas(extra_dirs: list[str | Path] | tuple[str | Path, ...] = ()) -> dict[str, Schema]:
    """The built-in schemas, then each extra folder's; a later file of the same category replaces it."""
    schemas: dict[str, Schema] = {}
    for folder in (BUILTIN_DIR, *map(Path, extra_dirs)):
        if not folder.is_dir():
            raise CatalogError("schema_dirs", f"{folder} is not a folder")
        for path in sorted(folder.glob("*.toml")):
            schema = load_schema(path)
            schemas[schema.key] = schema
    return schemas


def load_schema(path: Path) -> Schema:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(str(path), f"cannot read the schema: {exc}") from exc
    category = data.get("category") or {}
    if not category.get("key"):
        raise CatalogError(f"{path.name}: category.key", "every schema names its category key")
    attributes = {
        key: _attribute(f"{path.name}: attributes.{key}", key, spec) for key, spec in data.get("attributes", {}).items()
    }
    return Schema(
        key=category["key"],
        zh=category.get("zh", category["key"]),
        en=category.get("en", category["key"]),
        keywords=tuple(category.get("keywords", ())),
        attributes=attributes,
    )


def _attribute(where: str, key: str, spec: dict[str, Any]) -> Attribute:
    kind = spec.get("type")
    if kind not in TYPES:
        raise CatalogError(f"{where}.type", f"{kind!r} is not one of {', '.join(TYPES)}")
    values = tuple(_value(f"{where}.values[{i}]", v) for i, v in enumerate(spec.get("values", ())))
    if kind in LISTED_TYPES and not values:
        raise CatalogError(f"{where}.values", f"a {kind} attribute lists its values")
    if kind == "number" and not (spec.get("units") or spec.get("prefix_units")):
        raise CatalogError(f"{where}.units", "a number attribute says which units it reads")
    return Attribute(
        key=key,
        zh=spec.get("zh", key),
        en=spec.get("en", key),
        type=kind,
        values=values,
        slots=tuple(spec.get("slots", ())),
        unit=spec.get("unit", ""),
        units={str(k): float(v) for k, v in spec.get("units", {}).items()},
        prefix_units={str(k): float(v) for k, v in spec.get("prefix_units", {}).items()},
        patterns=tuple(spec.get("patterns", ())),
        keywords=tuple(spec.get("keywords", ())),
    )


def _value(where: str, spec: dict[str, Any]) -> Value:
    if not spec.get("key") or not spec.get("zh") or not spec.get("en"):
        raise CatalogError(where, "a value has key, zh and en")
    return Value(spec["key"], spec["zh"], spec["en"], tuple(spec.get("synonyms", ())))


def detect_category(schemas: dict[str, Schema], texts: list[str]) -> str | None:
    """The category whose keywords occur most often in the texts; None when none occurs."""
    joined = "\n".join(texts).lower()
    scores = {key: sum(joined.count(word.lower()) for word in s.keywords) for key, s in schemas.items()}
    best = max(scores, key=lambda k: scores[k], default=None)
    return best if best is not None and scores[best] > 0 else None
