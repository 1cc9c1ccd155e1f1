"""`livecut catalog extract|export|detail`: a product's attributes with their evidence, its listings per platform,
and its detail page (详情页) rendered per platform.

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
    detail = actions.add_parser(
        "detail",
        parents=[common],
        help="plan and render a product's detail page (JPEG slices and a preview PNG per platform)",
        description="Plans the detail page from the product's attributes over a fresh extraction and its images' "
        "roles, then renders it with Debian's chromium into DIR/<platform>/ and prints the plan and each render "
        "as one JSON object. A flagged slot (a missing photo, a text failing a check) and a render violation "
        "(a slice over the platform's size or byte cap) are printed one a line on stderr, and the exit status "
        "is 1. Settings come from [catalog.detail].",
        epilog=epilog,
    )
    detail.add_argument("product", type=Path, metavar="PRODUCT.json")
    detail.add_argument("--platform", required=True, help="a platform key (taobao, jd, ...) or all")
    detail.add_argument("--out", required=True, type=Path, metavar="DIR")
    detail.add_argument("--pages", help="render only these pages of the plan (comma-separated page keys)")
    detail.set_defaults(handler=_detail)


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


def _detail(args: argparse.Namespace, config: dict[str, Any]) -> int:
    from catalog import CatalogError, extract, load_platforms, product_from_dict
    from catalog.detail import DetailRenderer, plan_detail

    tools = CatalogTools(config)
    base = args.product.resolve().parent
    pages = [key.strip() for key in args.pages.split(",") if key.strip()] if args.pages is not None else None
    try:
        data = _read(args.product)
        product = product_from_dict(data)
        profiles = load_platforms(tools.settings.platform_dirs, tools.settings.platform_overrides)
        wanted = _detail_platforms(profiles, args.platform)
        if pages == []:
            raise CatalogError("--pages", "names no page")
        extraction = extract(data, product.category, tools.settings, embed=tools.embed, base_dir=base)
        values = {**extraction.values(), **product.attributes}
        plan = plan_detail(
            product, tools.detail, values=values, images=extraction.images, category=extraction.category, base_dir=base
        )
        renders = {}
        with DetailRenderer(tools.detail) as renderer:
            for key in wanted:
                renders[key] = renderer.render(plan, profiles[key], args.out / key, pages)
    except CatalogError as exc:
        return _refuse([str(exc)])
    print(
        json.dumps(
            {"plan": plan.to_json(), "renders": {k: r.to_json() for k, r in renders.items()}},
            ensure_ascii=False,
            indent=2,
        )
    )
    shown = {p.key for p in plan.pages} if pages is None else set(pages)
    problems = [f"detail: {line}" for line in plan.issues() if line.split(".", 1)[0] in shown]
    problems += [f"{key}: {line}" for key, result in renders.items() for line in result.violations]
    return _refuse(problems) if problems else 0


def _detail_platforms(profiles: dict[str, Any], platform: str) -> list[str]:
    from catalog import CatalogError

    if platform == "all":
        return [key for key, profile in profiles.items() if profile.images.get("detail")]
    if platform not in profiles:
        raise CatalogError("platform", f"{platform!r} is not a platform; known: {', '.join(sorted(profiles))}, all")
    return [platform]


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
