"""Listings per platform: mapped attributes, title, selling points and fitted images, after a pre-flight.

The pre-flight reports every violation on its own line; if there is any, nothing is written. The
export is staged in a temporary folder under out_dir and moved into place at the end, so a failure
leaves no half-written listing. A title is never truncated: a platform-specific title goes in
product.titles.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catalog.adlaw import ad_law_findings
from catalog.errors import CatalogError
from catalog.export_images import encode_jpeg, fit, image_record, slices
from catalog.extract import ExtractionResult, _schemas, extract
from catalog.imageio import decode_rgb, open_checked
from catalog.model import Product
from catalog.platforms import PlatformProfile, count_length, has_emoji, load_platforms, select_platforms
from catalog.schema import Schema
from catalog.settings import CatalogSettings

FRONT_ROLES = ("packshot", "model", "mannequin", "flat_lay", "detail")
DETAIL_ROLES = ("label", "detail", "model")


@dataclass
class ExportReport:
    ok: bool
    violations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # paths relative to out_dir

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "violations": self.violations, "warnings": self.warnings, "written": self.written}


@dataclass
class _Plan:
    profile: PlatformProfile
    title: str
    attributes: dict[str, Any]
    selling_points: list[str]
    ad_law: list[dict[str, Any]]


def export(
    product: Product | dict[str, Any],
    platforms: str | list[str],
    out_dir: str | Path,
    settings: CatalogSettings | None = None,
    *,
    extraction: ExtractionResult | None = None,
    base_dir: str | Path | None = None,
    extract_kwargs: dict[str, Any] | None = None,
) -> ExportReport:
    """Write out_dir/<platform>/listing.json and images/, and out_dir/<sku>.zip when several platforms."""
    settings = settings or CatalogSettings()
    product = product if isinstance(product, Product) else product_from_dict(product)
    profiles = select_platforms(load_platforms(settings.platform_dirs, settings.platform_overrides), platforms)
    base = Path(base_dir) if base_dir else Path.cwd()
    if extraction is None:
        extraction = extract(_input_of(product), product.category, settings, base_dir=base, **(extract_kwargs or {}))
    schema = _schemas(tuple(map(str, settings.schema_dirs)))[extraction.category]
    values = {**extraction.values(), **product.attributes}
    violations: list[str] = []
    warnings: list[str] = list(extraction.warnings)
    sources = _open_sources(product, base, settings, violations)
    plans = [_plan(p, product, schema, values, extraction, sources, settings, violations, warnings) for p in profiles]
    if violations:
        return ExportReport(False, violations, warnings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=out))
    try:
        written = [_write_platform(staging, plan, product, sources, extraction, settings, violations) for plan in plans]
        if violations:
            return ExportReport(False, violations, warnings)
        files = [f for group in written for f in group]
        if len(plans) > 1:
            files.append(_zip(staging, product.sku, [p.profile.key for p in plans]))
        _move_into_place(staging, out, [p.profile.key for p in plans], files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportReport(True, [], warnings, files)


def product_from_dict(data: dict[str, Any], field_prefix: str = "") -> Product:
    """A Product from a PRODUCT.json object; errors name the field."""
    if not isinstance(data, dict):
        raise CatalogError(field_prefix or "product", "is a JSON object")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CatalogError(f"{field_prefix}title", "is required and is text")
    sku = data.get("sku") or re.sub(r"\W+", "-", title)[:32]
    price = data.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, int | float) or price < 0):
        raise CatalogError(f"{field_prefix}price", f"{price!r} is not a price")
    for key in ("images", "aliases"):
        if not isinstance(data.get(key, []), list):
            raise CatalogError(f"{field_prefix}{key}", "is a list")
    return Product(
        sku=str(sku),
        title=title.strip(),
        category=data.get("category"),
        brand=data.get("brand"),
        price=float(price) if price is not None else None,
        images=[str(p) for p in data.get("images", [])],
        aliases=[str(a) for a in data.get("aliases", [])],
        description=data.get("description") or "",
        speech=list(data.get("speech") or []),
        titles=dict(data.get("titles") or {}),
        attributes=dict(data.get("attributes") or {}),
    )


def _input_of(product: Product) -> dict[str, Any]:
    return {
        "title": product.title,
        "description": product.description,
        "images": product.images,
        "speech": product.speech,
    }


def _open_sources(
    product: Product, base: Path, settings: CatalogSettings, violations: list[str]
) -> list[tuple[str, Callable[[], np.ndarray]]]:
    """Checked image headers now; pixels decoded once, when the first platform needs them."""
    if not product.images:
        violations.append("images: a listing needs at least one image")
    sources = []
    for i, path in enumerate(product.images):
        full = Path(path) if Path(path).is_absolute() else base / path
        field_name = f"images[{i}]"
        try:
            with open_checked(full, field_name, settings.max_megapixels):
                pass
        except CatalogError as exc:
            violations.append(str(exc))
            continue
        sources.append((path, _decoder(full, field_name, settings)))
    return sources


def _decoder(path: Path, field_name: str, settings: CatalogSettings) -> Callable[[], np.ndarray]:
    cache: list[np.ndarray] = []

    def decode() -> np.ndarray:
        if not cache:
            with open_checked(path, field_name, settings.max_megapixels) as image:
                cache.append(decode_rgb(image, field_name))
        return cache[0]

    return decode


def _plan(profile, product, schema, values, extraction, sources, settings, violations, warnings) -> _Plan:
    key = profile.key
    title = product.titles.get(key, product.title)
    rule = profile.title
    try:
        length = count_length(title, rule["count"])
    except UnicodeEncodeError as exc:
        violations.append(
            f"{key}: title: {title[exc.start : exc.end]!r} cannot be written in GBK, which {profile.name} counts in"
        )
        length = 0
    if length > rule["max"]:
        violations.append(
            f"{key}: title: {length} ({rule['count']}) is over the limit of {rule['max']}; "
            f"give a shorter one in titles.{key} (titles are never truncated)"
        )
    if rule.get("no_emoji") and has_emoji(title):
        violations.append(f"{key}: title: emoji are not allowed")
    ad_law = []
    for name, text in (("title", title), ("description", product.description)):
        for finding in ad_law_findings(text, settings.ad_law_phrases, settings.ad_law_exceptions):
            violations.append(f"{key}: {name}: 广告法 phrase {finding.phrase!r} at {finding.start}-{finding.end}")
            ad_law.append({"field": name, **finding.to_json()})
    for required in profile.required(schema.key):
        if values.get(required) in (None, [], {}):
            name = profile.attribute_name(required, required)
            violations.append(f"{key}: attributes.{required}: {name} is required by {profile.name}")
    for slot, spec in profile.images.items():
        minimum = spec.get("min_source_side")
        for path, _ in sources:
            analysis = next((a for a in extraction.images if a.path == path), None)
            if minimum and analysis and min(analysis.width, analysis.height) < minimum and slot == "main":
                violations.append(
                    f"{key}: images: {path} is {analysis.width}x{analysis.height}, "
                    f"under the {minimum} px {profile.name} needs"
                )
        if spec.get("required") and slot == "white" and not any(a.role == "packshot" for a in extraction.images):
            violations.append(
                f"{key}: images.white: {profile.name} needs a white-background packshot; none of the images is one"
            )
    points = _selling_points(product, schema, values, profile, settings, warnings)
    return _Plan(profile, title, _map_attributes(profile, schema, values), points, ad_law)


def _map_attributes(profile: PlatformProfile, schema: Schema, values: dict[str, Any]) -> dict[str, Any]:
    mapped = {}
    zh = profile.language == "zh"
    for key, value in values.items():
        attribute = schema.attributes.get(key)
        if attribute is None or value in (None, [], {}):
            continue
        name = profile.attribute_name(key, attribute.zh if zh else attribute.en)
        mapped[name] = _value_text(profile, attribute, value, zh)
    return mapped


def _value_text(profile: PlatformProfile, attribute, value: Any, zh: bool) -> Any:
    if attribute.type == "composition":
        spec = profile.data.get("composition", {"format": "{zh}{percent}%", "separator": " "})
        parts = []
        for fibre, percent in sorted(value.items(), key=lambda kv: -kv[1]):
            known = attribute.value(fibre)
            names = {
                "zh": known.zh if known else fibre,
                "en_title": (known.en if known else fibre).title(),
                "percent": f"{percent:g}",
            }
            parts.append(spec["format"].format(**names))
        return spec.get("separator", " ").join(parts)
    if attribute.type in ("enum", "multi"):
        keys = value if isinstance(value, list) else [value]
        names = []
        for key in keys:
            known = attribute.value(key)
            fallback = (known.zh if zh else known.en) if known else str(key)
            names.append(profile.value_name(attribute.key, key, fallback))
        return names if attribute.type == "multi" else names[0]
    if attribute.type == "number":
        return f"{value['amount']:g}{value['unit']}" if isinstance(value, dict) else value
    return value


def _selling_points(product, schema, values, profile, settings, warnings) -> list[str]:
    """Short points from the confirmed attributes and the description; any with a 广告法 phrase is left out."""
    limit = profile.text.get("selling_point_max", 150)
    count = profile.text.get("selling_point_count", "chars")
    candidates = [p.strip() for p in re.split(r"[。！!；;\n]+", product.description) if p.strip()]
    points = []
    for point in candidates:
        if ad_law_findings(point, settings.ad_law_phrases, settings.ad_law_exceptions):
            warnings.append(f"{profile.key}: selling point {point!r} left out: 广告法 phrase")
            continue
        if count_length(point, "cjk_double" if count == "cjk_double" else "chars") > limit:
            warnings.append(f"{profile.key}: selling point {point!r} left out: over {limit} {count}")
            continue
        points.append(point)
    return points[: profile.text.get("selling_point_limit", 5)]


def _write_platform(
    staging: Path, plan: _Plan, product: Product, sources, extraction, settings, violations
) -> list[str]:
    key = plan.profile.key
    folder = staging / key / "images"
    folder.mkdir(parents=True)
    roles = {a.path: a.role for a in extraction.images}
    records = []
    for slot, spec in plan.profile.images.items():
        for name, image in _slot_images(slot, spec, sources, roles):
            encoded = encode_jpeg(image, spec["max_bytes"], settings.jpeg_quality)
            if encoded is None:
                violations.append(
                    f"{key}: images.{slot}: {name} stays over {spec['max_bytes']} bytes even at the lowest quality"
                )
                continue
            data, quality = encoded
            (folder / name).write_bytes(data)
            records.append(image_record(f"images/{name}", slot, image, data, quality))
    listing = {
        "platform": key,
        "sku": product.sku,
        "title": plan.title,
        "title_length": {
            "value": count_length(plan.title, plan.profile.title["count"]),
            "max": plan.profile.title["max"],
            "count": plan.profile.title["count"],
        },
        "category": extraction.category,
        "attributes": plan.attributes,
        "selling_points": plan.selling_points,
        "price": product.price,
        "images": records,
        "ad_law": plan.ad_law,
        "unverified_rules": plan.profile.unverified(),
    }
    (staging / key / "listing.json").write_text(json.dumps(listing, ensure_ascii=False, indent=2), encoding="utf-8")
    return [f"{key}/listing.json", *(f"{key}/{r['file']}" for r in records)]


def _slot_images(slot: str, spec: dict[str, Any], sources, roles: dict[str, str]):
    if slot == "detail":
        chosen = [(p, d) for p, d in sources if roles.get(p) in DETAIL_ROLES][: spec.get("max_count", 20)]
        for i, (_, decode) in enumerate(chosen, 1):
            for j, piece in enumerate(slices(decode(), spec["width"], spec.get("max_height", 1500)), 1):
                yield f"detail_{i}_{j}.jpg", piece
        return
    front = sorted(
        ((p, d) for p, d in sources if roles.get(p) != "label"),
        key=lambda s: FRONT_ROLES.index(roles.get(s[0], "detail")),
    )
    if slot == "white":
        front = [(p, d) for p, d in front if roles.get(p) == "packshot"]
    for i, (_, decode) in enumerate(front[: spec.get("count", 5)], 1):
        yield f"{slot}_{i}.jpg", fit(decode(), spec["width"], spec.get("height", spec["width"]), spec.get("fit", "pad"))


def _zip(staging: Path, sku: str, keys: list[str]) -> str:
    name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', sku)}.zip"
    with zipfile.ZipFile(staging / name, "w", zipfile.ZIP_STORED) as archive:  # JPEGs do not compress
        for key in keys:
            for path in sorted((staging / key).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(staging).as_posix())
    return name


def _move_into_place(staging: Path, out: Path, keys: list[str], files: list[str]) -> None:
    """Each platform folder replaces the old one in one rename; the old one is removed after."""
    for name in [*keys, *(f for f in files if "/" not in f)]:
        target = out / name
        old = None
        if target.exists():
            old = staging / f".old-{name}"
            target.rename(old)
        (staging / name).rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
