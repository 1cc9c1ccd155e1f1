"""`livecut product add|import|list`: a tenant's products in the configured metadata and media stores.

Like `livecut user`, these run as the operator of the installation on the machine's own
stores, for the tenant named by --tenant; each change is audited as user "(cli)". Images are
read from local files, checked (format, the decompression-bomb guard) and copied into the
media store. Bad input exits 1 with one line per problem on stderr, and nothing is written.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from pathlib import Path
from typing import Any

from livecut.auth import TENANT_PATTERN
from livecut.config import ConfigError
from livecut.runtime.catalog_tools import catalog_settings, image_extension, product_fields
from livecut.store import CatalogConflict, MetadataStore, build_metadata_store

CLI_USER = "(cli)"
BAD_INPUT = 1


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    product = commands.add_parser("product", help="add, import and list a tenant's products", epilog=epilog)
    actions = product.add_subparsers(title="actions", metavar="ACTION", required=True)
    tenant = argparse.ArgumentParser(add_help=False)
    tenant.add_argument("--tenant", required=True, help="the tenant (brand) that owns the products")
    add = actions.add_parser("add", parents=[common, tenant], help="add one product", epilog=epilog)
    add.add_argument("sku")
    add.add_argument("--title", required=True)
    add.add_argument("--category", help="a schema key (apparel, beauty, electronics, food ...); default: detected")
    add.add_argument("--brand")
    add.add_argument("--price", type=float)
    add.add_argument("--description", default="")
    add.add_argument("--alias", action="append", default=[], help="what the host calls it on air (repeatable)")
    add.add_argument("--image", action="append", default=[], type=Path, help="a product photo (repeatable)")
    add.set_defaults(handler=_add)
    load = actions.add_parser(
        "import",
        parents=[common, tenant],
        help="create or update products from a CSV or JSON file",
        description="CSV header: sku,title,category,brand,price,images,aliases,description (images and aliases "
        'separated by |); JSON: a list of products or {"products": [...]}. Image paths are relative to the '
        "file's folder. Every row is checked first: any bad row, and nothing is imported.",
        epilog=epilog,
    )
    load.add_argument("file", type=Path)
    load.set_defaults(handler=_import)
    listing = actions.add_parser("list", parents=[common, tenant], help="list the tenant's products", epilog=epilog)
    listing.set_defaults(handler=_list)


def _add(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from catalog import CatalogError, product_from_dict

    data = {"sku": args.sku, "title": args.title, "category": args.category, "brand": args.brand}
    data |= {"price": args.price, "description": args.description, "aliases": args.alias}
    data["images"] = [str(path) for path in args.image]
    try:
        product = product_from_dict(data)
    except CatalogError as exc:
        return _refuse([str(exc)])
    return _write(args, config, [product_fields(product.to_dict())], Path.cwd())


def _import(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from catalog import CatalogError, ImportErrors, load_products

    try:
        products = load_products(args.file)
    except ImportErrors as exc:
        return _refuse(exc.errors)
    except CatalogError as exc:
        return _refuse([str(exc)])
    return _write(args, config, [product_fields(p.to_dict()) for p in products], args.file.parent)


def _list(args: argparse.Namespace, config: dict[str, Any]) -> int:
    store = build_metadata_store(config)
    try:
        for product in store.products(args.tenant):
            price = f"{product['price']:g}" if product["price"] is not None else "-"
            print(
                f"{product['sku']:20} {product['step']:10} {price:>9} {len(product['images'])} image(s)  "
                f"{product['title']}"
            )
    finally:
        store.close()
    return 0


def _write(args: argparse.Namespace, config: dict[str, Any], products: list[dict[str, Any]], base: Path) -> int:
    """Check every image, then write the products and copy their images into the media store."""
    if not re.match(TENANT_PATTERN, args.tenant):
        raise ConfigError(f"tenant name {args.tenant!r} must be letters, digits and _.- (up to 64)")
    problems, images = _checked_images(products, base, catalog_settings(config).max_megapixels)
    if problems:
        return _refuse(problems)
    from stream.media_factory import build_media_store

    store, media = build_metadata_store(config), build_media_store(config)
    try:
        if args.handler is _add and store.product_by_sku(args.tenant, products[0]["sku"]):
            return _refuse([f"sku: {products[0]['sku']!r} is taken in tenant {args.tenant}"])
        store.ensure_tenant(args.tenant, "brand")
        # Images go in once copied; a product imported again without images keeps its own.
        without_images = [{k: v for k, v in p.items() if k != "images"} for p in products]
        created, updated = store.import_products(args.tenant, without_images)
        for fields in products:
            _copy_images(store, media, args.tenant, fields["sku"], images[fields["sku"]])
        skus = [p["sku"] for p in products]
        store.audit(CLI_USER, args.tenant, "product.import", "products", {"created": created, "skus": skus})
    except CatalogConflict as exc:
        return _refuse([str(exc)])
    finally:
        store.close()
    print(f"{created} product(s) added, {updated} updated in tenant {args.tenant}: {', '.join(skus)}")
    return 0


def _checked_images(
    products: list[dict[str, Any]], base: Path, max_megapixels: float
) -> tuple[list[str], dict[str, list[tuple[Path, str]]]]:
    """Per sku, (path, extension) of its images; every image that cannot be taken, one line each."""
    from catalog import CatalogError

    problems: list[str] = []
    images: dict[str, list[tuple[Path, str]]] = {}
    for fields in products:
        found = images.setdefault(fields["sku"], [])
        for i, name in enumerate(fields.get("images", [])):
            path = Path(name) if Path(name).is_absolute() else base / name
            try:
                found.append((path, image_extension(path, f"{fields['sku']}.images[{i}]", max_megapixels)))
            except CatalogError as exc:
                problems.append(str(exc))
    return problems, images


def _copy_images(store: MetadataStore, media: Any, tenant: str, sku: str, images: list[tuple[Path, str]]) -> None:
    if not images:
        return
    product = store.product_by_sku(tenant, sku)
    if product is None:  # imported just now
        raise RuntimeError(f"product {sku} of {tenant} vanished while its images were copied")
    keys = []
    for path, extension in images:
        keys.append(f"products/{product['id']}/images/{uuid.uuid4().hex[:12]}.{extension}")
        media.put_bytes(keys[-1], path.read_bytes())
    store.update_product(product["id"], {"images": keys})


def _refuse(problems: list[str]) -> int:
    for line in problems:
        print(f"livecut: {line}", file=sys.stderr)
    return BAD_INPUT
