"""`livecut catalog extract|export`: a product's attributes with their evidence, and its listings per platform.

Both read a PRODUCT.json: `title`, optional `sku`, `category`, `brand`, `price`, `description`,
`images` (paths relative to the file's folder), `speech` (lines, or {text, t0, t1, sublabel}),
`aliases`, `titles` (a shorter title per platform) and `attributes` (confirmed values). Settings come
from `[catalog]` and `[compliance]`; the sentence embedder is `classifier.embedder`.
Bad input and pre-flight violations exit 1 with one line each on stderr; export then writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from livecut.config import ConfigError
from livecut.runtime.catalog_tools import CatalogTools

BAD_INPUT = 1


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    catalog = commands.add_parser("catalog", help="extract a product's attributes, export its listings", epilog=epilog)
    actions = catalog.add_subparsers(title="actions", metavar="ACTION", required=True)
    extract = actions.add_parser(
        "extract",
        parents=[common],
        help="print a product's attributes with confidence, source and evidence (one JSON object)",
        epilog=epilog,
    )
    extract.add_argument("product", type=Path, metavar="PRODUCT.json")
    extract.add_argument("--category", help="a schema key (apparel, beauty, electronics, food ...); default: detected")
    extract.set_defaults(handler=_extract)
    export = actions.add_parser(
        "export",
        parents=[common],
        help="write each platform's listing.json and fitted images (and a ZIP of all)",
        description="A pre-flight checks every platform first: each violation is printed on its own line and "
        "nothing is written. A title is never truncated: give a shorter one in titles.<platform>.",
        epilog=epilog,
    )
    export.add_argument("product", type=Path, metavar="PRODUCT.json")
    export.add_argument("--platform", required=True, help="a platform key (taobao, tmall, jd, ...) or all")
    export.add_argument("--out", required=True, type=Path, metavar="DIR")
    export.set_defaults(handler=_export)


def _extract(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from catalog import CatalogError, extract

    tools = CatalogTools(config)
    try:
        product = _read(args.product)
        result = extract(
            product, args.category, tools.settings, embed=tools.embed, base_dir=args.product.resolve().parent
        )
    except CatalogError as exc:
        return _refuse([str(exc)])
    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    return 0


def _export(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from catalog import CatalogError, export, product_from_dict

    tools = CatalogTools(config)
    try:
        product = product_from_dict(_read(args.product))
        report = export(
            product,
            args.platform,
            args.out,
            tools.settings,
            base_dir=args.product.resolve().parent,
            extract_kwargs={"embed": tools.embed},
        )
    except CatalogError as exc:
        return _refuse([str(exc)])
    if not report.ok:
        return _refuse(report.violations)
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    return 0


def _read(path: Path) -> dict[str, Any]:
    from catalog import CatalogError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no such file: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError("product", f"{path} is not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError("product", f"{path} holds one JSON object")
    return data


def _refuse(problems: list[str]) -> int:
    for line in problems:
        print(f"livecut: {line}", file=sys.stderr)
    return BAD_INPUT
