"""Importing products from CSV and JSON; every bad row is reported with its row and field."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError
from catalog.export import product_from_dict
from catalog.model import Product

LIST_SEPARATOR = "|"  # images and aliases in one CSV cell: a.jpg|b.jpg
CSV_COLUMNS = ("sku", "title", "category", "brand", "price", "images", "aliases", "description")


class ImportErrors(CatalogError):
    """Rows that could not be read; `errors` has one line per bad field. Nothing is imported."""

    def __init__(self, path: str, errors: list[str]) -> None:
        super().__init__(path, f"{len(errors)} bad row(s):\n" + "\n".join(errors))
        self.errors = errors


def load_products(path: str | Path) -> list[Product]:
    """Products from a .csv (header: sku,title,category,brand,price,images,aliases,description) or .json
    (a list of objects, or {"products": [...]}). All rows are checked first; any bad row raises
    ImportErrors listing every bad row, so a file is imported whole or not at all."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path)
    elif path.suffix.lower() == ".json":
        rows = _json_rows(path)
    else:
        raise CatalogError("file", f"{path.name}: import reads .csv or .json")
    products, errors, seen = [], [], set()
    for label, row in rows:
        try:
            product = product_from_dict(row, f"{label}.")
        except CatalogError as exc:
            errors.append(str(exc))
            continue
        if not row.get("sku"):
            errors.append(f"{label}.sku: is required")
            continue
        if product.sku in seen:
            errors.append(f"{label}.sku: {product.sku!r} appears twice")
            continue
        seen.add(product.sku)
        products.append(product)
    if errors:
        raise ImportErrors(str(path), errors)
    return products


def _csv_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("sku", "title") if c not in (reader.fieldnames or [])]
            if missing:
                raise CatalogError("header", f"{path.name} lacks column(s) {', '.join(missing)}")
            rows = []
            for number, raw in enumerate(reader, start=2):  # line 1 is the header
                row: dict[str, Any] = {k: (v or "").strip() for k, v in raw.items() if k}
                for key in ("images", "aliases"):
                    row[key] = [v.strip() for v in row.get(key, "").split(LIST_SEPARATOR) if v.strip()]
                price = row.get("price", "")
                if price:
                    try:
                        row["price"] = float(price)
                    except ValueError:
                        row["price"] = price  # product_from_dict names it
                else:
                    row.pop("price", None)
                row["category"] = row.get("category") or None
                rows.append((f"row {number}", row))
            return rows
    except UnicodeDecodeError as exc:
        raise CatalogError("file", f"{path.name} is not UTF-8 ({exc.reason})") from exc


def _json_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError("file", f"{path.name} is not JSON: {exc}") from exc
    items = data.get("products") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise CatalogError("file", f'{path.name} holds a list of products or {{"products": [...]}}')
    return [(f"products[{i}]", item) for i, item in enumerate(items)]
