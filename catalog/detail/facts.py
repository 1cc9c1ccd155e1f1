"""What a product says about itself, as the fields copy templates use ({color}, {composition} ...).

Only confirmed attribute values, the title, the description and the brand count: copy says
nothing the product's own data does not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from catalog.colors import PALETTE
from catalog.model import Product
from catalog.schema import Attribute, Schema

CLAIMS_FILE = Path(__file__).parent / "claims.toml"


@dataclass(frozen=True)
class Facts:
    fields: dict[str, str]  # template field -> its text
    own_text: str  # title and description: the brand's own words
    values: dict[str, Any]  # confirmed attribute key -> canonical value

    @property
    def text(self) -> str:
        """Everything the product states, for the invented-claim check."""
        return "\n".join([self.own_text, *self.fields.values()])


@lru_cache(maxsize=1)
def claims() -> dict[str, Any]:
    return tomllib.loads(CLAIMS_FILE.read_text(encoding="utf-8"))


def product_facts(product: Product, values: dict[str, Any], schema: Schema, story: str = "") -> Facts:
    fields: dict[str, str] = {"title": product.title}
    if product.brand:
        fields["brand"] = product.brand
        if story:
            fields["brand_story"] = story.replace("{brand}", product.brand)
    if product.price is not None:
        fields["price"] = f"{product.price:g}"
    for key, value in values.items():
        attribute = schema.attributes.get(key)
        if attribute is None or value in (None, "", [], {}):
            continue
        fields.update(_attribute_fields(attribute, value))
    care = _care(values.get("composition"))
    if care:
        fields["care"] = care
    return Facts(fields, f"{product.title}\n{product.description}", dict(values))


def value_text(attribute: Attribute, value: Any) -> str:
    """A value in Chinese as a listing writes it: 羊毛80% 羊绒20%, 秋季、冬季, 250ml."""
    if attribute.type == "composition" and isinstance(value, dict):
        parts = sorted(value.items(), key=lambda kv: -float(kv[1]))
        return " ".join(f"{_zh(attribute, fibre)}{float(percent):g}%" for fibre, percent in parts)
    if attribute.type in ("enum", "multi"):
        keys = value if isinstance(value, list) else [value]
        return "、".join(_zh(attribute, str(k)) for k in keys)
    if attribute.type == "number" and isinstance(value, dict) and "amount" in value:
        return f"{float(value['amount']):g}{value.get('unit', attribute.unit)}"
    if attribute.type == "fit_advice" and isinstance(value, dict):
        return f"身高{value.get('height_cm', '?')}cm穿{value.get('size', '?')}码"
    return str(value)


def swatch_hex(color_key: str) -> str:
    return next((hex_ for key, _, _, hex_ in PALETTE if key == color_key), "#cccccc")


def _attribute_fields(attribute: Attribute, value: Any) -> dict[str, str]:
    if attribute.type == "fit_advice":
        if not isinstance(value, dict):
            return {}
        found = {"fit_advice": value_text(attribute, value)}
        if value.get("height_cm"):
            found["fit_height"] = f"{value['height_cm']}cm"
        if value.get("weight_kg"):
            found["fit_weight"] = f"{value['weight_kg']}kg"
        if value.get("size"):
            found["fit_size"] = str(value["size"])
        return found
    return {attribute.key: value_text(attribute, value)}


def _zh(attribute: Attribute, key: str) -> str:
    known = attribute.value(key)
    return known.zh if known else key


def _care(composition: Any) -> str:
    if not isinstance(composition, dict) or not composition:
        return ""
    table = claims().get("care", {})
    for fibre, _ in sorted(composition.items(), key=lambda kv: -float(kv[1])):
        if fibre in table:
            return str(table[fibre])
    return ""
