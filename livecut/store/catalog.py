"""The metadata store's catalog tables: products, rooms' lineups, brands' corrections. A mixin of MetadataStore.

JSON columns (images, aliases, titles, attributes, extraction) go in and come out as Python
values. Writes to the catalog through the API or the CLI are audited by their callers in the
audit table (TenancyStore.audit).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from livecut.store.db import Database, Session

# The steps a person confirms, in order (issue 13): a product starts at the first.
PRODUCT_STEPS = ("images", "attributes", "copy", "layout", "ready")
PRODUCT_FIELDS = ("sku", "title", "category", "brand", "price", "description")
PRODUCT_JSON_FIELDS: dict[str, Any] = {"images": [], "aliases": [], "titles": {}, "attributes": {}}
PRODUCT_COLUMNS = (
    "id, tenant, sku, title, category, brand, price, images, aliases, description, titles, attributes, "
    "extraction, step, created_at, updated_at"
)


class CatalogConflict(ValueError):
    """A write the catalog's rules refuse: a sku taken in the tenant, a lineup naming one product twice..."""


class CatalogStore:
    """Products, lineups and brand corrections; see MetadataStore for the database."""

    db: Database

    # products ------------------------------------------------------------------------------
    def create_product(self, tenant: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A new product of `tenant` at the first step; CatalogConflict when its sku is taken there."""
        return self.db.transaction(lambda session: _insert_product(session, tenant, fields))

    def import_products(self, tenant: str, products: list[dict[str, Any]]) -> tuple[int, int]:
        """Create or update (by sku) every product in one transaction; (created, updated).

        An update replaces the fields given and keeps the product's id, step and extraction.
        """
        return self.db.transaction(lambda session: _import(session, tenant, products))

    def product(self, product_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?", (product_id,))
        return _product_row(rows[0]) if rows else None

    def product_by_sku(self, tenant: str, sku: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant = ? AND sku = ?", (tenant, sku))
        return _product_row(rows[0]) if rows else None

    def products(self, tenant: str, limit: int = 1000) -> list[dict[str, Any]]:
        """A tenant's products, by sku."""
        rows = self.db.query(
            f"SELECT {PRODUCT_COLUMNS} FROM products WHERE tenant = ? ORDER BY sku LIMIT ?", (tenant, limit)
        )
        return [_product_row(r) for r in rows]

    def update_product(self, product_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Set the given fields (PRODUCT_FIELDS, the JSON fields, extraction, step); None when there is no such
        product, CatalogConflict when a new sku is taken in its tenant."""
        return self.db.transaction(lambda session: _update_product(session, product_id, changes))

    def delete_product(self, product_id: str) -> bool:
        """Remove a product and its places in lineups; false when there was none."""
        return self.db.transaction(lambda session: _delete_product(session, product_id))

    # lineups -------------------------------------------------------------------------------
    def set_lineup(self, room: str, entries: list[tuple[int, str]]) -> None:
        """Replace a room's lineup with (link number, product id) pairs."""
        links = [link for link, _ in entries]
        products = [product for _, product in entries]
        if len(set(links)) != len(links):
            raise CatalogConflict("a link number appears twice in the lineup")
        if len(set(products)) != len(products):
            raise CatalogConflict("a product appears twice in the lineup")
        self.db.transaction(lambda session: _replace_lineup(session, room, entries))

    def lineup(self, room: str) -> list[dict[str, Any]]:
        """The room's lineup by link number: {"link", "product": the product's row}."""
        columns = ", ".join(f"p.{c.strip()}" for c in PRODUCT_COLUMNS.split(","))
        rows = self.db.query(
            f"SELECT l.link AS lineup_link, {columns} FROM lineups l JOIN products p ON p.id = l.product "
            "WHERE l.room = ? ORDER BY l.link",
            (room,),
        )
        return [{"link": row.pop("lineup_link"), "product": _product_row(row)} for row in rows]

    def lineup_version(self, room: str) -> float | None:
        """When the room's lineup, or a product on it, last changed; None without a lineup.

        The transcribe stage rebuilds a room's product linker when this moves.
        """
        rows = self.db.query(
            "SELECT MAX(l.updated_at) AS lineup, MAX(p.updated_at) AS products FROM lineups l "
            "JOIN products p ON p.id = l.product WHERE l.room = ?",
            (room,),
        )
        stamps = [v for v in (rows[0]["lineup"], rows[0]["products"]) if v is not None]
        return max(stamps) if stamps else None

    # what was said about products ----------------------------------------------------------
    def last_product(self, room: str, before: float) -> str | None:
        """The product of the room's last linked utterance starting before `before`: what a worker
        taking the room over carries forward."""
        rows = self.db.query(
            "SELECT product FROM utterances WHERE room = ? AND t0 < ? AND product IS NOT NULL ORDER BY t0 DESC LIMIT 1",
            (room, before),
        )
        return rows[0]["product"] if rows else None

    def linked_utterances(self, room: str, t0: float, t1: float) -> list[tuple[float, float, str | None]]:
        """(t0, t1, product) of the room's utterances overlapping [t0, t1]: catalog.product_of_span's input."""
        rows = self.db.query(
            "SELECT t0, t1, product FROM utterances WHERE room = ? AND t1 > ? AND t0 < ? ORDER BY t0", (room, t0, t1)
        )
        return [(row["t0"], row["t1"], row["product"]) for row in rows]

    def product_utterances(self, tenant: str, sku: str, limit: int = 200) -> list[dict[str, Any]]:
        """What hosts said about a product in the tenant's rooms, newest first (speech for extraction)."""
        return self.db.query(
            "SELECT u.room, u.t0, u.t1, u.text, u.sublabel FROM utterances u JOIN rooms r ON r.id = u.room "
            "WHERE r.tenant = ? AND u.product = ? ORDER BY r.created_at DESC, u.t0 DESC LIMIT ?",
            (tenant, sku, limit),
        )

    # brand corrections ---------------------------------------------------------------------
    def add_brand_corrections(self, tenant: str, brand: str, examples: list[dict[str, Any]]) -> None:
        now = time.time()
        for example in examples:
            self.db.execute(
                "INSERT INTO brand_corrections (id, tenant, brand, example, created_at) VALUES (?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, tenant, brand, json.dumps(example, ensure_ascii=False), now),
            )

    def brand_corrections(self, tenant: str, brand: str) -> list[dict[str, Any]]:
        """The brand's examples, oldest first (a later correction of the same value wins)."""
        rows = self.db.query(
            "SELECT example FROM brand_corrections WHERE tenant = ? AND brand = ? ORDER BY created_at, id",
            (tenant, brand),
        )
        return [json.loads(r["example"]) for r in rows]


def _product_row(row: dict[str, Any]) -> dict[str, Any]:
    product = dict(row)
    for name in PRODUCT_JSON_FIELDS:
        product[name] = json.loads(product[name])
    product["extraction"] = json.loads(product["extraction"]) if product["extraction"] else None
    return product


def _column_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The columns of the fields given, JSON fields encoded."""
    values = {name: fields[name] for name in PRODUCT_FIELDS if name in fields}
    for name in PRODUCT_JSON_FIELDS:
        if name in fields:
            values[name] = json.dumps(fields[name], ensure_ascii=False)
    if "extraction" in fields:
        extraction = fields["extraction"]
        values["extraction"] = json.dumps(extraction, ensure_ascii=False) if extraction is not None else None
    if "step" in fields:
        if fields["step"] not in PRODUCT_STEPS:
            raise ValueError(f"unknown product step {fields['step']!r}")
        values["step"] = fields["step"]
    return values


def _insert_product(session: Session, tenant: str, fields: dict[str, Any]) -> dict[str, Any]:
    if session.query("SELECT id FROM products WHERE tenant = ? AND sku = ?", (tenant, fields["sku"])):
        raise CatalogConflict(f"sku {fields['sku']!r} is taken in tenant {tenant}")
    now = time.time()
    values = {name: json.dumps(default) for name, default in PRODUCT_JSON_FIELDS.items()} | _column_values(fields)
    values |= {"id": uuid.uuid4().hex[:12], "tenant": tenant, "created_at": now, "updated_at": now}
    columns = ", ".join(values)
    session.execute(f"INSERT INTO products ({columns}) VALUES ({', '.join('?' * len(values))})", tuple(values.values()))
    rows = session.query(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?", (values["id"],))
    return _product_row(rows[0])


def _import(session: Session, tenant: str, products: list[dict[str, Any]]) -> tuple[int, int]:
    created = updated = 0
    for fields in products:
        rows = session.query("SELECT id FROM products WHERE tenant = ? AND sku = ?", (tenant, fields["sku"]))
        if rows:
            _update_product(session, rows[0]["id"], fields)
            updated += 1
        else:
            _insert_product(session, tenant, fields)
            created += 1
    return created, updated


def _update_product(session: Session, product_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    rows = session.query("SELECT tenant, sku FROM products WHERE id = ?", (product_id,))
    if not rows:
        return None
    tenant, sku = rows[0]["tenant"], rows[0]["sku"]
    if changes.get("sku", sku) != sku and session.query(
        "SELECT id FROM products WHERE tenant = ? AND sku = ?", (tenant, changes["sku"])
    ):
        raise CatalogConflict(f"sku {changes['sku']!r} is taken in tenant {tenant}")
    values = _column_values(changes) | {"updated_at": time.time()}
    assignments = ", ".join(f"{name} = ?" for name in values)
    session.execute(f"UPDATE products SET {assignments} WHERE id = ?", (*values.values(), product_id))
    if "sku" in values and values["sku"] != sku:
        # What was said and clipped keeps pointing at the product under its new sku.
        for table in ("utterances", "clips"):
            session.execute(
                f"UPDATE {table} SET product = ? WHERE product = ? AND room IN (SELECT id FROM rooms WHERE tenant = ?)",
                (values["sku"], sku, tenant),
            )
    found = session.query(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?", (product_id,))
    return _product_row(found[0])


def _delete_product(session: Session, product_id: str) -> bool:
    # The rooms that lose it get a newer lineup version, so their linkers forget it.
    session.execute(
        "UPDATE lineups SET updated_at = ? WHERE room IN (SELECT room FROM lineups WHERE product = ?)",
        (time.time(), product_id),
    )
    session.execute("DELETE FROM lineups WHERE product = ?", (product_id,))
    # Its detail page goes with it (0011_detail_pages).
    session.execute("DELETE FROM detail_renders WHERE product = ?", (product_id,))
    session.execute("DELETE FROM detail_plans WHERE product = ?", (product_id,))
    return session.execute("DELETE FROM products WHERE id = ?", (product_id,)) == 1


def _replace_lineup(session: Session, room: str, entries: list[tuple[int, str]]) -> None:
    session.execute("DELETE FROM lineups WHERE room = ?", (room,))
    now = time.time()
    for link, product in entries:
        session.execute(
            "INSERT INTO lineups (room, link, product, updated_at) VALUES (?, ?, ?, ?)", (room, link, product, now)
        )
