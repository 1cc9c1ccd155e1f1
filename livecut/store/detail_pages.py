"""The metadata store's detail-page tables: plans, renders per platform, brands' memory. A mixin of MetadataStore.

The documents are catalog.detail's JSON (DetailPlan, RenderResult, BrandMemory .to_json()); the
store keeps them as they are and knows nothing of their shape. Writes are upserts: a product has
one plan, one render per platform, a brand one memory per tenant. Callers audit the edits.
"""

from __future__ import annotations

import json
import time
from typing import Any

from livecut.store.db import Database, Session


class DetailPageStore:
    """Detail plans, renders and brand memory; see MetadataStore for the database."""

    db: Database

    # plans ---------------------------------------------------------------------------------
    def detail_plan(self, product_id: str) -> dict[str, Any] | None:
        """The product's stored plan (with `updated_at`), or None before one is made."""
        rows = self.db.query("SELECT plan, updated_at FROM detail_plans WHERE product = ?", (product_id,))
        return _document(rows[0], "plan") if rows else None

    def save_detail_plan(self, product_id: str, plan: dict[str, Any]) -> float:
        """Keep the product's plan, replacing the one before; returns its updated_at."""
        return self._upsert("detail_plans", {"product": product_id}, "plan", plan)

    def delete_detail_plan(self, product_id: str) -> bool:
        """Forget the product's plan and renders (a new plan starts from its data again)."""

        def remove(session: Session) -> bool:
            session.execute("DELETE FROM detail_renders WHERE product = ?", (product_id,))
            return session.execute("DELETE FROM detail_plans WHERE product = ?", (product_id,)) == 1

        return self.db.transaction(remove)

    # renders -------------------------------------------------------------------------------
    def detail_render(self, product_id: str, platform: str) -> dict[str, Any] | None:
        rows = self.db.query(
            "SELECT result, updated_at FROM detail_renders WHERE product = ? AND platform = ?", (product_id, platform)
        )
        return _document(rows[0], "result") if rows else None

    def detail_renders(self, product_id: str) -> dict[str, dict[str, Any]]:
        """platform -> the last render's result, of every platform rendered."""
        rows = self.db.query(
            "SELECT platform, result, updated_at FROM detail_renders WHERE product = ? ORDER BY platform",
            (product_id,),
        )
        return {row["platform"]: _document(row, "result") for row in rows}

    def save_detail_render(self, product_id: str, platform: str, result: dict[str, Any]) -> float:
        return self._upsert("detail_renders", {"product": product_id, "platform": platform}, "result", result)

    # brand memory --------------------------------------------------------------------------
    def brand_detail_memory(self, tenant: str, brand: str) -> dict[str, Any] | None:
        rows = self.db.query(
            "SELECT memory, updated_at FROM brand_detail_memory WHERE tenant = ? AND brand = ?", (tenant, brand)
        )
        return _document(rows[0], "memory") if rows else None

    def save_brand_detail_memory(self, tenant: str, brand: str, memory: dict[str, Any]) -> float:
        return self._upsert("brand_detail_memory", {"tenant": tenant, "brand": brand}, "memory", memory)

    def _upsert(self, table: str, key: dict[str, str], column: str, document: dict[str, Any]) -> float:
        now = time.time()
        names = [*key, column, "updated_at"]
        values = (*key.values(), json.dumps(document, ensure_ascii=False), now)
        self.db.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            values,
        )
        return now


def _document(row: dict[str, Any], column: str) -> dict[str, Any]:
    return json.loads(row[column]) | {"updated_at": row["updated_at"]}
