"""Product routes: a tenant's products (CRUD, import, images), extraction, the confirm steps, export, room lineups.

Tenancy as for rooms: another tenant's product is reported exactly like a missing one (404).
Every write is audited. Extraction and export run the catalog package in a thread; its
errors (an unreadable image, an unknown category or platform, a title over a limit) are 422
with the message naming the field.
"""

import asyncio
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from livecut.api import catalog_work
from livecut.api.auth import Authenticator
from livecut.api.models import (
    LineupOut,
    LineupSet,
    ProductCreate,
    ProductOut,
    ProductPatch,
    ProductStep,
    StepConfirm,
)
from livecut.api.views import ApiContext, find_room
from livecut.auth import Principal
from livecut.store import PRODUCT_STEPS, CatalogConflict

# Request bodies these routes take beyond the API's 64 KiB (livecut.api.limits.BodyLimit).
IMAGE_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_BYTES = 4 * 1024 * 1024
BODY_LIMITS = (
    ("POST", r"/api/products/[^/]+/images", IMAGE_MAX_BYTES),
    ("POST", r"/api/products/import", IMPORT_MAX_BYTES),
)
IMPORT_TYPES = {"text/csv": "csv", "application/json": "json"}
# What an edit of each step may change.
STEP_CHANGES = {
    "images": {"images"},
    "attributes": {"attributes"},
    "copy": {"title", "titles", "description"},
    "layout": {"images"},
}


def find_product(ctx: ApiContext, principal: Principal, product_id: str) -> dict[str, Any]:
    product = ctx.store.product(product_id)
    if product is None or product["tenant"] != principal.tenant:
        raise HTTPException(404, f"product {product_id} not found")
    return product


def product_now(ctx: ApiContext, product_id: str, changed: dict[str, Any] | None) -> dict[str, Any]:
    """A product as a write left it; a 404 when it was deleted meanwhile."""
    if changed is None:
        raise HTTPException(404, f"product {product_id} not found")
    return changed


def product_out(product: dict[str, Any]) -> dict[str, Any]:
    return product | {"image_urls": [f"/media/{key}" for key in product["images"]]}


def products_router(ctx: ApiContext, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["products"])
    store = ctx.store
    Viewer = Annotated[Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[Principal, Depends(auth.require("operator"))]

    def audit(principal: Principal, action: str, product_id: str, detail: dict[str, Any] | None = None) -> None:
        store.audit(principal.username, principal.tenant, action, f"product:{product_id}", detail)

    @router.get("/api/products", response_model=list[ProductOut])
    async def list_products(principal: Viewer) -> list[dict[str, Any]]:
        """Your tenant's products, by sku."""
        return [product_out(p) for p in store.products(principal.tenant)]

    @router.post(
        "/api/products",
        status_code=201,
        response_model=ProductOut,
        responses={409: {"description": "the sku is taken"}},
    )
    async def create_product(body: ProductCreate, principal: Operator) -> dict[str, Any]:
        try:
            product = store.create_product(principal.tenant, body.model_dump())
        except CatalogConflict as exc:
            raise HTTPException(409, str(exc)) from None
        audit(principal, "product.create", product["id"], {"sku": body.sku})
        return product_out(product)

    @router.post("/api/products/import", responses={422: {"description": "every bad row, one line each"}})
    async def import_products(request: Request, principal: Operator) -> dict[str, Any]:
        """A CSV (Content-Type text/csv; header sku,title,category,brand,price,images,aliases,description) or
        JSON (application/json; a list of products or {"products": [...]}) of up to 4 MiB. Products are created
        or updated by sku, all or none."""
        kind = IMPORT_TYPES.get(request.headers.get("content-type", "").split(";")[0].strip().lower())
        if kind is None:
            raise HTTPException(415, f"send the import as {' or '.join(IMPORT_TYPES)}")
        body = await request.body()
        from catalog import CatalogError, ImportErrors

        try:
            fields = await asyncio.to_thread(catalog_work.read_import, body, kind)
        except ImportErrors as exc:
            raise HTTPException(422, {"errors": exc.errors}) from None
        except CatalogError as exc:
            raise HTTPException(422, str(exc)) from None
        created, updated = store.import_products(principal.tenant, fields)
        skus = [f["sku"] for f in fields]
        store.audit(
            principal.username, principal.tenant, "product.import", "products", {"created": created, "skus": skus}
        )
        return {"created": created, "updated": updated, "skus": skus}

    @router.get("/api/products/{product_id}", response_model=ProductOut)
    async def get_product(product_id: str, principal: Viewer) -> dict[str, Any]:
        return product_out(find_product(ctx, principal, product_id))

    @router.patch(
        "/api/products/{product_id}", response_model=ProductOut, responses={409: {"description": "the sku is taken"}}
    )
    async def change_product(product_id: str, body: ProductPatch, principal: Operator) -> dict[str, Any]:
        product = find_product(ctx, principal, product_id)
        changes = body.model_dump(exclude_unset=True)
        try:
            changed = store.update_product(product_id, changes)
        except CatalogConflict as exc:
            raise HTTPException(409, str(exc)) from None
        audit(principal, "product.update", product_id, {"changes": changes, "was": {k: product[k] for k in changes}})
        return product_out(product_now(ctx, product_id, changed))

    @router.delete("/api/products/{product_id}", response_model=ProductOut)
    async def delete_product(product_id: str, principal: Operator) -> dict[str, Any]:
        """Remove a product and its places in lineups; its images stay in the media store."""
        product = find_product(ctx, principal, product_id)
        store.delete_product(product_id)
        audit(principal, "product.delete", product_id, {"sku": product["sku"]})
        return product_out(product)

    @router.post(
        "/api/products/{product_id}/images",
        status_code=201,
        response_model=ProductOut,
        responses={413: {"description": "over 20 MiB"}},
    )
    async def upload_image(product_id: str, request: Request, principal: Operator) -> dict[str, Any]:
        """One image as the raw body (JPEG, PNG, WebP or BMP, up to 20 MiB and catalog.max_megapixels);
        added after the product's images."""
        find_product(ctx, principal, product_id)
        from catalog import CatalogError

        body = await request.body()
        with tempfile.TemporaryDirectory(prefix="livecut-upload-") as folder:
            upload = Path(folder) / "upload"
            upload.write_bytes(body)
            try:
                key = await asyncio.to_thread(
                    catalog_work.store_image, ctx.media, product_id, upload, ctx.catalog.settings.max_megapixels
                )
            except CatalogError as exc:
                raise HTTPException(422, str(exc)) from None
        current = product_now(ctx, product_id, store.product(product_id))
        changed = store.update_product(product_id, {"images": [*current["images"], key]})
        audit(principal, "product.image", product_id, {"key": key, "bytes": len(body)})
        return product_out(product_now(ctx, product_id, changed))

    @router.post("/api/products/{product_id}/extract", response_model=ProductOut)
    async def extract_product(
        product_id: str, principal: Operator, category: Annotated[str | None, Query(max_length=64)] = None
    ) -> dict[str, Any]:
        """Attributes from the title, description, images and what hosts said about the product on air,
        each with confidence, source and evidence, using the brand's corrections. Kept as `extraction`."""
        product = find_product(ctx, principal, product_id)
        from catalog import CatalogError

        try:
            result = await asyncio.to_thread(
                catalog_work.extract_product, store, ctx.media, ctx.catalog, product, category
            )
        except CatalogError as exc:
            raise HTTPException(422, str(exc)) from None
        changes: dict[str, Any] = {"extraction": result}
        if product["category"] is None:
            changes["category"] = result["category"]
        audit(principal, "product.extract", product_id, {"category": result["category"]})
        return product_out(product_now(ctx, product_id, store.update_product(product_id, changes)))

    @router.post(
        "/api/products/{product_id}/steps/{step}",
        response_model=ProductOut,
        responses={409: {"description": "the product is at another step"}},
    )
    async def confirm_step(
        product_id: str, step: ProductStep, body: StepConfirm, principal: Operator
    ) -> dict[str, Any]:
        """Approve the product's current step, or edit it; either moves it to the next step
        (images → attributes → copy → layout → ready). Edits are audited; an edit of an extracted
        attribute, and each example given, is kept as the brand's correction for its next extraction."""
        product = find_product(ctx, principal, product_id)
        if product["step"] != step:
            raise HTTPException(409, f"product {product_id} is at step {product['step']}, not {step}")
        if step == "ready":
            raise HTTPException(409, f"product {product_id} is ready: no step is left to confirm")
        changes, examples = _step_changes(product, step, body)
        if examples:
            from catalog import CatalogError

            try:
                catalog_work.check_examples(examples)
            except CatalogError as exc:
                raise HTTPException(422, str(exc)) from None
        following = PRODUCT_STEPS[PRODUCT_STEPS.index(step) + 1]
        changed = store.update_product(product_id, changes | {"step": following})
        if examples:
            store.add_brand_corrections(product["tenant"], product["brand"] or "", examples)
        detail = {"step": step, "action": body.action, "changes": body.changes, "examples": examples}
        audit(principal, f"product.step.{body.action}", product_id, detail)
        return product_out(product_now(ctx, product_id, changed))

    @router.post("/api/products/{product_id}/export", responses={422: {"description": "the violations, one a line"}})
    async def export_product(
        product_id: str,
        principal: Operator,
        platform: Annotated[str, Query(min_length=1, max_length=64, description="a platform key or all")],
        download: Annotated[bool, Query(description="return the ZIP instead of writing to the media store")] = False,
    ) -> Any:
        """Each platform's listing.json and fitted images, after a pre-flight: any violation is a 422 listing
        them all, and nothing is written. Written to products/<id>/exports/ in the media store (the keys are
        returned), or returned as a ZIP with `download=true`."""
        product = find_product(ctx, principal, product_id)
        from catalog import CatalogError

        with tempfile.TemporaryDirectory(prefix="livecut-export-") as folder:
            out = Path(folder)
            try:
                report = await asyncio.to_thread(
                    catalog_work.export_product, store, ctx.media, ctx.catalog, product, platform, out
                )
            except CatalogError as exc:
                raise HTTPException(422, str(exc)) from None
            if not report.ok:
                raise HTTPException(422, {"violations": report.violations, "warnings": report.warnings})
            audit(principal, "product.export", product_id, {"platform": platform, "download": download})
            if download:
                data = catalog_work.zip_folder(out, report.written)
                # An ASCII file name: a header cannot carry every character a sku may have.
                name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{product['sku']}-{platform}") + ".zip"
                disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
                return Response(data, media_type="application/zip", headers=disposition)
            prefix = f"products/{product_id}/exports"
            keys = []
            for name in report.written:
                keys.append(f"{prefix}/{name}")
                await asyncio.to_thread(ctx.media.put_file, keys[-1], out / name)
        return {"ok": True, "platform": platform, "warnings": report.warnings, "keys": keys}

    @router.get("/api/rooms/{room_id}/lineup", tags=["rooms"], response_model=list[LineupOut])
    async def get_lineup(room_id: str, principal: Viewer) -> list[dict[str, Any]]:
        """The room's products by link number."""
        find_room(ctx, principal, room_id)
        return [{"link": e["link"], "product": product_out(e["product"])} for e in store.lineup(room_id)]

    @router.put("/api/rooms/{room_id}/lineup", tags=["rooms"], response_model=list[LineupOut])
    async def set_lineup(room_id: str, body: LineupSet, principal: Operator) -> list[dict[str, Any]]:
        """Replace the room's lineup: the products (skus of the room's tenant) under their link numbers. A live
        room picks it up at its next fragment: its utterances and clips then carry the product presented."""
        room = find_room(ctx, principal, room_id)
        entries, missing = [], []
        for i, item in enumerate(body.entries):
            product = store.product_by_sku(room.tenant, item.sku)
            if product is None:
                missing.append(f"entries[{i}].sku: no product {item.sku!r} in tenant {room.tenant}")
            else:
                entries.append((item.link, product["id"]))
        if missing:
            raise HTTPException(422, {"errors": missing})
        try:
            store.set_lineup(room_id, entries)
        except CatalogConflict as exc:
            raise HTTPException(422, str(exc)) from None
        detail = {"entries": [item.model_dump() for item in body.entries]}
        store.audit(principal.username, principal.tenant, "room.lineup", f"room:{room_id}", detail, room_id)
        return [{"link": e["link"], "product": product_out(e["product"])} for e in store.lineup(room_id)]

    return router


def _step_changes(product: dict[str, Any], step: str, body: StepConfirm) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The product's fields after the step is confirmed, and the brand corrections it makes."""
    unknown = set(body.changes) - STEP_CHANGES[step]
    if unknown or (body.action == "approve" and body.changes):
        allowed = ", ".join(sorted(STEP_CHANGES[step]))
        raise HTTPException(422, f"changes: an edit of step {step} changes {allowed}; approve changes nothing")
    if body.examples and step != "attributes":
        raise HTTPException(422, "examples: only the attributes step takes the brand's examples")
    if step in ("images", "layout"):
        return _images_step(product, step, body.changes.get("images")), []
    if step == "attributes":
        return _attributes_step(product, body)
    changes = dict(body.changes)
    if "title" in changes and (not isinstance(changes["title"], str) or not changes["title"].strip()):
        raise HTTPException(422, "changes.title: is text and not empty")
    if "description" in changes and not isinstance(changes["description"], str):
        raise HTTPException(422, "changes.description: is text")
    titles = changes.get("titles", {})
    if not isinstance(titles, dict) or not all(isinstance(t, str) and t.strip() for t in titles.values()):
        raise HTTPException(422, "changes.titles: maps platform keys to titles")
    return changes, []


def _images_step(product: dict[str, Any], step: str, images: Any) -> dict[str, Any]:
    if images is None:
        if not product["images"]:
            raise HTTPException(422, "images: upload at least one image before confirming")
        return {}
    if not isinstance(images, list) or not images or not all(isinstance(k, str) for k in images):
        raise HTTPException(422, "changes.images: a list of the product's image keys, at least one")
    strangers = [k for k in images if k not in product["images"]]
    if strangers or len(set(images)) != len(images):
        raise HTTPException(422, f"changes.images: not the product's images, or twice: {strangers or images}")
    if step == "layout" and set(images) != set(product["images"]):
        raise HTTPException(422, "changes.images: the layout orders the images (main first); it removes none")
    return {"images": images}


def _attributes_step(product: dict[str, Any], body: StepConfirm) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    extraction = product["extraction"] or {}
    extracted = {key: found["value"] for key, found in extraction.get("attributes", {}).items()}
    if not extracted and not product["attributes"] and body.action == "approve":
        raise HTTPException(422, "attributes: extract them (POST /api/products/{id}/extract) or edit them first")
    edits = body.changes.get("attributes", {})
    if not isinstance(edits, dict):
        raise HTTPException(422, "changes.attributes: maps attribute keys to values (null removes one)")
    attributes = {**extracted, **product["attributes"], **edits}
    attributes = {key: value for key, value in attributes.items() if value is not None}
    examples = list(body.examples)
    for key, value in edits.items():
        if value is not None and key in extracted and extracted[key] != value:
            examples += _replacements(key, extracted[key], value)
    return {"attributes": attributes}, examples


def _replacements(key: str, was: Any, value: Any) -> list[dict[str, Any]]:
    """The brand's override examples an edit of an extracted value makes. A multi-valued attribute is
    corrected value by value (catalog.BrandCorrections), so only a one-for-one swap is an example."""
    if not isinstance(was, list) or not isinstance(value, list):
        return [{"attribute": key, "was": was, "value": value}]
    removed = [v for v in was if v not in value]
    added = [v for v in value if v not in was]
    if len(removed) == 1 and len(added) == 1:
        return [{"attribute": key, "was": removed[0], "value": added[0]}]
    return []
