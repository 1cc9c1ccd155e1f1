"""Helpers of the detail-page tests (a unique module name: several test folders have a conftest.py)."""

import json
from pathlib import Path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "catalog"
BANNED = ("最[\u4e00-\u9fff]", "第一", "唯一|国家级")
EXCEPTIONS = ("最近|最后", "第一(次|个|款)")


def product(sku: str):
    from catalog import product_from_dict

    rows = json.loads((FIXTURES / "detail_products.json").read_text(encoding="utf-8"))
    return product_from_dict(next(r for r in rows if r["sku"] == sku))


def images_of(prod, analyses):
    return [analyses[p] for p in prod.images]
