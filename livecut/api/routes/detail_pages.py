"""Detail-page routes (issue 16): a product's detail plan, edited slot by slot and page by page, rendered per
platform into the media store, and confirmed so its brand's next plan starts from it.

Tenancy as for products: another tenant's product is a 404. Viewers read; operators edit, and every
edit is audited. The plan is made on first read (catalog.plan_detail from the product's confirmed
attributes and its images' roles) and stored; an edit re-renders only the page it changed, for each
platform rendered before (Taobao when none was). Rendering runs on the process's one renderer thread
(livecut.api.detail_worker); catalog errors are 422 with the message naming the field.
"""

import asyncio
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from livecut.api import detail_work
from livecut.api.auth import Authenticator
from livecut.api.models import DetailImageRole, DetailPageMove, DetailRenderAsk, DetailSlotEdit
from livecut.api.routes.products import find_product
from livecut.api.views import ApiContext
from livecut.auth import Principal

# The platform a page edit re-renders when the product was not rendered for any yet.
FIRST_PLATFORM = "taobao"


def detail_pages_router(ctx: ApiContext, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["products"])
    store = ctx.store
    Viewer = Annotated[Principal, Depends(auth.require("viewer"))]
    Operator = Annotated[Principal, Depends(auth.require("operator"))]
    # One change of a product's plan at a time in this process (read, change, store).
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def audit(principal: Principal, action: str, product_id: str, detail: dict[str, Any]) -> None:
        store.audit(principal.username, principal.tenant, action, f"product:{product_id}", detail)

    async def current_plan(product: dict[str, Any]) -> Any:
        """The stored plan, or a new one (stored) made from the product."""
        stored = store.detail_plan(product["id"])
        if stored is not None:
            return detail_work.load_plan(stored)
        plan = await catalog_call(asyncio.to_thread(detail_work.make_plan, store, ctx.media, ctx.catalog, product))
        store.save_detail_plan(product["id"], plan.to_json())
        return plan

    async def render(product_id: str, plan: Any, platforms: list[str], page: str | None = None) -> dict[str, Any]:
        """The plan (or its page) rendered for each platform, stored; platform -> the render's JSON."""
        profiles = await catalog_call(asyncio.to_thread(detail_work.platform_profiles, ctx.catalog, platforms))
        local = await asyncio.to_thread(detail_work.with_base, plan, ctx.media)
        done = {}
        for profile in profiles:
            with tempfile.TemporaryDirectory(prefix="livecut-detail-") as folder:
                out = Path(folder)
                keys = None if page is None else [page]
                result = await catalog_call(ctx.detail.render(local, profile, out, ctx.catalog.detail, keys))
                data = await asyncio.to_thread(detail_work.store_render, ctx.media, product_id, result, out, page)
            done[profile.key] = data
            kept = store.detail_render(product_id, profile.key)
            if page is None or kept is None:
                record = data | {"page_renders": {}} if page is None else {"page_renders": {page: data}}
            else:
                record = kept | {"page_renders": kept.get("page_renders", {}) | {page: data}}
            record.pop("updated_at", None)
            store.save_detail_render(product_id, profile.key, record)
        return done

    async def change(
        product_id: str, principal: Principal, edit: Callable[[Any], Any], action: str, detail: dict[str, Any]
    ) -> tuple[dict[str, Any], Any, Any]:
        """Apply edit(plan) to the product's plan under its lock and store it; (product, plan, edit's answer)."""
        product = find_product(ctx, principal, product_id)
        async with locks[product_id]:
            plan = await current_plan(product)
            try:
                answer = edit(plan)
            except _catalog_error() as exc:
                raise HTTPException(_status(exc), str(exc)) from None
            store.save_detail_plan(product_id, plan.to_json())
        audit(principal, action, product_id, detail)
        return product, plan, answer

    @router.get("/api/products/{product_id}/detail")
    async def get_detail(product_id: str, principal: Viewer) -> dict[str, Any]:
        """The product's detail plan: its pages in order, each slot filled or flagged (with what to add), the
        pages left out and why, and the last render per platform. Made on first read from the product's confirmed
        attributes and its images' roles, starting from what its brand kept."""
        product = find_product(ctx, principal, product_id)
        async with locks[product_id]:
            plan = await current_plan(product)
        return detail_work.plan_out(plan) | {"renders": store.detail_renders(product_id)}

    @router.delete("/api/products/{product_id}/detail")
    async def reset_detail(product_id: str, principal: Operator) -> dict[str, Any]:
        """Forget the plan and its renders' records (after the product's attributes or images changed): the next
        read makes a new plan from the product as it is now. The rendered files stay in the media store until the
        next render of their platform replaces them."""
        find_product(ctx, principal, product_id)
        async with locks[product_id]:
            existed = store.delete_detail_plan(product_id)
        audit(principal, "product.detail.reset", product_id, {"existed": existed})
        return {"ok": True, "existed": existed}

    @router.patch("/api/products/{product_id}/detail/pages/{page}/slots/{slot}")
    async def edit_detail_slot(
        product_id: str, page: str, slot: str, body: DetailSlotEdit, principal: Operator
    ) -> dict[str, Any]:
        """A person's text (checked like generated text: kept and flagged when it fails the 广告法 or
        invented-attribute check or is too long) or another of the product's images; then only that page is
        re-rendered, for each platform rendered before."""
        from catalog.detail import choose_image, edit_slot

        def edit(plan: Any) -> Any:
            _page_and_slot(plan, page, slot)
            if body.image is not None:
                return choose_image(plan, page, slot, body.image)
            return edit_slot(plan, page, slot, body.text or "", ctx.catalog.detail)

        detail = {"page": page, "slot": slot} | body.model_dump(exclude_none=True)
        _, plan, fill = await change(product_id, principal, edit, "product.detail.slot", detail)
        platforms = list(store.detail_renders(product_id)) or [FIRST_PLATFORM]
        rendered = await render(product_id, plan, platforms, page)
        out = detail_work.plan_out(plan)
        slot_out = next(s for p in out["pages"] if p["key"] == page for s in p["slots"] if s["name"] == fill.name)
        return {"slot": slot_out, "plan": out, "renders": rendered}

    @router.post("/api/products/{product_id}/detail/images/role")
    async def fix_image_role(product_id: str, body: DetailImageRole, principal: Operator) -> dict[str, Any]:
        """Correct an image's detected role, in the plan and in the product's extraction (a new plan uses it);
        the slots already filled keep their images (choose another per slot)."""

        def edit(plan: Any) -> str:
            image = next((i for i in plan.images if i["path"] == body.path), None)
            if image is None:
                raise HTTPException(422, f"path: {body.path!r} is not one of the product's images")
            was, image["role"] = image["role"], body.role
            return str(was)

        detail = body.model_dump()
        product, plan, was = await change(product_id, principal, edit, "product.detail.role", detail)
        extraction = product["extraction"]
        if extraction and any(i.get("path") == body.path for i in extraction.get("images", [])):
            for image in extraction["images"]:
                if image.get("path") == body.path:
                    image["role"] = body.role
            store.update_product(product_id, {"extraction": extraction})
        return detail_work.plan_out(plan) | {"was": was}

    @router.delete("/api/products/{product_id}/detail/pages/{page}")
    async def remove_detail_page(product_id: str, page: str, principal: Operator) -> dict[str, Any]:
        """Take a page out of the plan (its brand's next plan leaves it out once confirmed)."""
        from catalog.detail import remove_page

        def edit(plan: Any) -> None:
            _page_and_slot(plan, page, None)
            remove_page(plan, page)

        _, plan, _ = await change(product_id, principal, edit, "product.detail.remove", {"page": page})
        return detail_work.plan_out(plan)

    @router.post("/api/products/{product_id}/detail/pages/{page}/move")
    async def move_detail_page(product_id: str, page: str, body: DetailPageMove, principal: Operator) -> dict[str, Any]:
        """Put a page at another position (0 first)."""
        from catalog.detail import move_page

        def edit(plan: Any) -> None:
            _page_and_slot(plan, page, None)
            move_page(plan, page, body.index)

        detail = {"page": page, "index": body.index}
        _, plan, _ = await change(product_id, principal, edit, "product.detail.move", detail)
        return detail_work.plan_out(plan)

    @router.post("/api/products/{product_id}/detail/render")
    async def render_detail(product_id: str, body: DetailRenderAsk, principal: Operator) -> dict[str, Any]:
        """Render the whole plan for each platform (["all"]: every platform with a detail-image rule) into
        products/<id>/detail/<platform>/ in the media store: JPEG slices at the platform's width, no taller and
        no larger than it allows, and a preview PNG. Returns per platform the slices' URLs and the violations."""
        product = find_product(ctx, principal, product_id)
        async with locks[product_id]:
            plan = await current_plan(product)
            rendered = await render(product_id, plan, body.platforms)
        audit(principal, "product.detail.render", product_id, {"platforms": sorted(rendered)})
        return {"ok": all(r["ok"] for r in rendered.values()), "renders": rendered}

    @router.post(
        "/api/products/{product_id}/detail/confirm",
        responses={409: {"description": "a required slot is still flagged"}},
    )
    async def confirm_detail(product_id: str, principal: Operator) -> dict[str, Any]:
        """Confirm the plan as it stands: its brand learns the page order, the pages removed and the phrasing a
        person wrote, and the brand's next plan starts from them. Refused while a required slot is flagged."""
        product = find_product(ctx, principal, product_id)
        async with locks[product_id]:
            plan = await current_plan(product)
            if not plan.ready:
                raise HTTPException(409, {"issues": plan.issues()})
            memory = await asyncio.to_thread(detail_work.brand_memory, store, product)
            try:
                memory.learn(plan)
            except _catalog_error() as exc:
                raise HTTPException(422, str(exc)) from None
            store.save_brand_detail_memory(product["tenant"], memory.brand, memory.to_json())
        audit(principal, "product.detail.confirm", product_id, {"pages": [p.key for p in plan.pages]})
        return {"ok": True, "memory": memory.to_json()}

    return router


async def catalog_call(work: Awaitable[Any]) -> Any:
    """The catalog work's answer; its CatalogError (the message names the field) as a 422."""
    try:
        return await work
    except _catalog_error() as exc:
        raise HTTPException(_status(exc), str(exc)) from None


def _catalog_error() -> type[Exception]:
    from catalog import CatalogError

    return CatalogError


def _status(exc: Exception) -> int:
    # No chromium on this server is not the request's fault.
    return 503 if getattr(exc, "field", "") == "detail.chromium" else 422


def _page_and_slot(plan: Any, page: str, slot: str | None) -> None:
    """A 404 for a page or slot the plan does not have."""
    found = next((p for p in plan.pages if p.key == page), None)
    if found is None:
        raise HTTPException(404, f"page {page} is not in the plan; it has {', '.join(p.key for p in plan.pages)}")
    if slot is not None and all(s.name != slot for s in found.slots):
        raise HTTPException(404, f"page {page} has no slot {slot}")
