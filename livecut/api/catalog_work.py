"""The catalog work behind the product routes: extraction, export, image checks, imports.

The catalog package loads OpenCV and RapidOCR, so it is imported inside these functions: the
API process loads it on its first product request, never at start. The functions are
synchronous (image work); routes run them in a thread. Bad input raises catalog.CatalogError,
whose message names the field.
"""

from __future__ import annotations

import io
import json
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

from livecut.runtime.catalog_tools import CatalogTools, image_extension, product_fields
from livecut.store import MetadataStore
from stream.media_store import MediaStore

# What the host said about a product, at most this many lines, feeds its extraction.
SPEECH_LINES = 200


def store_image(media: MediaStore, product_id: str, upload: Path, max_megapixels: float) -> str:
    """Check an uploaded image and move it into the media store; returns its key."""
    extension = image_extension(upload, "image", max_megapixels)
    key = f"products/{product_id}/images/{uuid.uuid4().hex[:12]}.{extension}"
    media.put_file(key, upload)
    return key


def read_import(body: bytes, kind: str) -> list[dict[str, Any]]:
    """Products of a CSV or JSON import as store fields; catalog.ImportErrors lists every bad row.

    Image paths cannot come with an import over HTTP (the server does not read its own files
    for a client): a row that names images is refused; upload them to the product instead.
    """
    from catalog import ImportErrors, load_products

    with tempfile.TemporaryDirectory(prefix="livecut-import-") as folder:
        path = Path(folder) / f"products.{kind}"
        path.write_bytes(body)
        products = load_products(path)
    with_images = [
        f"{'row ' + str(i + 2) if kind == 'csv' else f'products[{i}]'}.images: upload images with "
        "POST /api/products/{id}/images; an import over the API does not read files"
        for i, product in enumerate(products)
        if product.images
    ]
    if with_images:
        raise ImportErrors("body", with_images)
    return [product_fields(p.to_dict()) for p in products]


def extract_product(
    store: MetadataStore, media: MediaStore, tools: CatalogTools, product: dict[str, Any], category: str | None
) -> dict[str, Any]:
    """catalog.extract on the product's title, description, images and what hosts said about it, with its
    brand's corrections. Returns the extract contract's JSON, images named by their media keys."""
    from catalog import extract

    paths = _local_images(media, product)
    product_input = {
        "title": product["title"],
        "description": product["description"],
        "images": list(paths.values()),
        "speech": _speech(store, product),
    }
    result = extract(
        product_input,
        category or product["category"],
        tools.settings,
        embed=tools.embed,
        corrections=corrections(store, product),
    )
    document = _named_by_key(result.to_json(), {path: key for key, path in paths.items()})
    _add_rooms(document, product_input["speech"])
    return document


def corrections(store: MetadataStore, product: dict[str, Any]) -> Any:
    """The product's brand's corrections as catalog.BrandCorrections (brand "" holds those of products without one)."""
    from catalog import BrandCorrections

    return BrandCorrections.from_examples(store.brand_corrections(product["tenant"], product["brand"] or ""))


def check_examples(examples: list[dict[str, Any]]) -> None:
    """CatalogError naming the bad example, as the next extraction would read them."""
    from catalog import BrandCorrections

    BrandCorrections.from_examples(examples)


def export_product(
    store: MetadataStore,
    media: MediaStore,
    tools: CatalogTools,
    product: dict[str, Any],
    platform: str,
    out_dir: Path,
) -> Any:
    """catalog.export into out_dir (its report: ok, violations, warnings, written), the product's confirmed
    attributes over a fresh extraction made with its brand's corrections."""
    from catalog import export, product_from_dict

    paths = _local_images(media, product)
    data = product_fields(product) | {"images": list(paths.values()), "speech": _speech(store, product)}
    extract_kwargs = {"embed": tools.embed, "corrections": corrections(store, product)}
    report = export(product_from_dict(data), platform, out_dir, tools.settings, extract_kwargs=extract_kwargs)
    names = {path: key for key, path in paths.items()}
    report.violations = [_replace_paths(line, names) for line in report.violations]
    report.warnings = [_replace_paths(line, names) for line in report.warnings]
    return report


def zip_folder(folder: Path, files: list[str]) -> bytes:
    """The exported files as one ZIP (an export of all platforms already made one: it is returned as it is)."""
    archives = [f for f in files if f.endswith(".zip") and "/" not in f]
    if archives:
        return (folder / archives[0]).read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # JPEGs do not compress
        for name in files:
            archive.write(folder / name, name)
    return buffer.getvalue()


def _local_images(media: MediaStore, product: dict[str, Any]) -> dict[str, str]:
    """key -> a local file of it (an S3 store downloads into its cache)."""
    return {key: str(media.local_path(key)) for key in product["images"]}


def _speech(store: MetadataStore, product: dict[str, Any]) -> list[dict[str, Any]]:
    rows = store.product_utterances(product["tenant"], product["sku"], SPEECH_LINES)
    return [
        {"text": r["text"], "t0": r["t0"], "t1": r["t1"], "sublabel": r["sublabel"], "room": r["room"]}
        for r in reversed(rows)
    ]


def _add_rooms(document: dict[str, Any], speech: list[dict[str, Any]]) -> None:
    """Each utterance cited as evidence gets the room it was said in, so a person can play it from its time."""
    for item in document.get("attributes", {}).values():
        evidence = item.get("evidence") or {}
        for cited in [evidence, *evidence.get("mentions", [])]:
            index = cited.get("index")
            if "utterance" in cited and isinstance(index, int) and 0 <= index < len(speech):
                cited["room"] = speech[index]["room"]


def _named_by_key(document: Any, names: dict[str, str]) -> Any:
    """The document with every local image path replaced by the media key it was read from."""
    text = json.dumps(document, ensure_ascii=False)
    for path, key in names.items():
        text = text.replace(json.dumps(path)[1:-1], key)
    return json.loads(text)


def _replace_paths(line: str, names: dict[str, str]) -> str:
    for path, key in names.items():
        line = line.replace(path, key)
    return line
