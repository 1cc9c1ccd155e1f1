"""The catalog.detail work behind the detail-page routes: making a product's plan, storing renders in the media store.

The catalog loads OpenCV, so it is imported inside these functions (the API loads it on its first
detail request). Images in a plan are the product's media keys; the plan's base_dir (where keys
are files) is filled in only while the plan is made or rendered, so no server path is stored or
shown. Bad input raises catalog.CatalogError, whose message names the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecut.runtime.catalog_tools import CatalogTools, product_fields
from livecut.store import MetadataStore
from stream.media_store import MediaStore

if TYPE_CHECKING:  # the catalog loads OpenCV: only types here
    from catalog.detail import BrandMemory, DetailPlan, RenderResult
    from catalog.images import ImageAnalysis
    from catalog.platforms import PlatformProfile


def media_base(media: MediaStore, keys: list[str]) -> Path:
    """The local folder under which the keys are files (a remote store's cache)."""
    for key in keys:
        local = str(media.local_path(key))
        if not local.endswith(key):
            raise ValueError(f"the media store keeps {key} at {local}, not under a folder of keys")
        return Path(local[: -len(key)])
    return Path(str(media.local_path("products/_")).removesuffix("products/_"))


def brand_memory(store: MetadataStore, product: dict[str, Any]) -> BrandMemory:
    """What the product's brand kept (brand "" for products without one), empty before its first confirm."""
    from catalog.detail import BrandMemory

    brand = product["brand"] or ""
    stored = store.brand_detail_memory(product["tenant"], brand)
    return BrandMemory.from_json(stored) if stored else BrandMemory(brand)


def make_plan(store: MetadataStore, media: MediaStore, tools: CatalogTools, product: dict[str, Any]) -> DetailPlan:
    """catalog.plan_detail from the product's confirmed attributes and its images' roles (the extraction's,
    else each image analysed), starting from what its brand kept."""
    from catalog import product_from_dict
    from catalog.detail import plan_detail

    base = media_base(media, product["images"])
    plan = plan_detail(
        product_from_dict(product_fields(product)),
        tools.detail,
        values=product["attributes"],
        images=_analyses(product, base, tools.detail.max_megapixels),
        memory=brand_memory(store, product),
        base_dir=base,
    )
    plan.base_dir = ""
    return plan


def load_plan(data: dict[str, Any]) -> DetailPlan:
    from catalog.detail import DetailPlan

    return DetailPlan.from_json(data)


def plan_out(plan: DetailPlan) -> dict[str, Any]:
    """The plan as the API shows it: no server path, each image with its URL."""
    data = plan.to_json() | {"base_dir": ""}
    for image in data["images"]:
        image["url"] = f"/media/{image['path']}"
    for page in data["pages"]:
        for slot in page["slots"]:
            slot["image_url"] = f"/media/{slot['image']}" if slot["image"] else ""
    return data


def platform_profiles(tools: CatalogTools, wanted: list[str]) -> list[PlatformProfile]:
    """The profiles of the wanted platforms ("all": every one with a detail-image rule); CatalogError naming
    the unknown one."""
    from catalog import CatalogError, load_platforms

    profiles = load_platforms(tools.settings.platform_dirs, tools.settings.platform_overrides)
    if wanted == ["all"]:
        return [p for p in profiles.values() if p.images.get("detail")]
    for i, key in enumerate(wanted):
        if key not in profiles:
            raise CatalogError(f"platforms[{i}]", f"{key!r} is not a platform; known: {', '.join(sorted(profiles))}")
    return [profiles[key] for key in dict.fromkeys(wanted)]


def with_base(plan: DetailPlan, media: MediaStore) -> DetailPlan:
    """A copy of the plan whose images resolve to local files, for the renderer."""
    from catalog.detail import DetailPlan

    copy = DetailPlan.from_json(json.loads(json.dumps(plan.to_json())))
    copy.base_dir = str(media_base(media, [i["path"] for i in plan.images]))
    return copy


def store_render(
    media: MediaStore, product_id: str, result: RenderResult, out: Path, page: str | None
) -> dict[str, Any]:
    """Move a render's slices and preview into products/<id>/detail/<platform>/ (replacing the previous ones of
    the whole page, or of that page); the result's JSON with each file's key and URL."""
    prefix = f"products/{product_id}/detail/{result.platform}/"
    # A page's own files only: page "size" must not take page "size_table"'s.
    own = re.compile(rf"page_{re.escape(page)}_(\d+\.jpg|preview\.png)") if page is not None else None
    for key in media.list(prefix):
        if own is None or own.fullmatch(key.removeprefix(prefix)):
            media.delete(key)
    data = result.to_json()
    for piece in data["slices"]:
        piece["key"] = prefix + piece["file"]
        piece["url"] = "/media/" + piece["key"]
        media.put_file(piece["key"], out / piece["file"])
    if result.preview:
        data["preview_key"] = prefix + result.preview
        data["preview_url"] = "/media/" + data["preview_key"]
        media.put_file(data["preview_key"], out / result.preview)
    data.pop("html", None)
    return data


def _analyses(product: dict[str, Any], base: Path, max_megapixels: float) -> list[ImageAnalysis] | None:
    """The extraction's image roles with each image's size (its header only); None (analyse every image) when
    the product has no extraction of its current images."""
    from catalog.imageio import open_checked
    from catalog.images import ImageAnalysis

    extracted = {i["path"]: i for i in ((product["extraction"] or {}).get("images") or [])}
    if not product["images"] or any(key not in extracted for key in product["images"]):
        return None
    analyses = []
    for i, key in enumerate(product["images"]):
        with open_checked(base / key, f"images[{i}]", max_megapixels) as image:
            width, height = image.size
        analyses.append(ImageAnalysis(key, width, height, extracted[key]["role"], [], (0.0, 0.0, 1.0, 1.0)))
    return analyses
