"""A plan as one HTML document: the set's colours and fonts as CSS variables, each page a <section>.

A flagged slot is drawn as what to add ("请补充：模特上身图"), never as a blank box.
"""

from __future__ import annotations

import html
from pathlib import Path

from catalog.detail.fill import ROLE_NAMES
from catalog.detail.plan import DetailPlan, PagePlan, SlotFill
from catalog.detail.templates import PLACEHOLDER, TemplateSet
from catalog.errors import CatalogError


def document(plan: DetailPlan, tset: TemplateSet, page_keys: list[str] | None = None) -> str:
    pages = [p for p in plan.pages if page_keys is None or p.key in page_keys]
    unknown = [p.key for p in pages if p.key not in tset.pages]
    if unknown:
        raise CatalogError("pages", f"template set {tset.key!r} has no page template {', '.join(unknown)}")
    css = [_root(tset), tset.base_css, *dict.fromkeys(tset.pages[p.key].css for p in pages)]
    body = "\n".join(_section(plan, tset, page) for page in pages)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<style>{''.join(css)}</style></head><body>{body}</body></html>"
    )


def _root(tset: TemplateSet) -> str:
    faces = "".join(
        f"@font-face{{font-family:{_css_string(family)};src:url({_css_string(Path(path).as_uri())});}}"
        for family, path in tset.font_files
    )
    variables = [f"--color-{k}:{v};" for k, v in tset.colors.items()]
    variables += [f"--font-{k}:{', '.join(_css_string(f) for f in v)};" for k, v in tset.fonts.items()]
    return faces + ":root{" + "".join(variables) + "}"


def _css_string(text: str) -> str:
    if text in ("serif", "sans-serif", "monospace"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _section(plan: DetailPlan, tset: TemplateSet, page: PagePlan) -> str:
    template = tset.pages[page.key]
    fills = {s.name: s for s in page.slots}
    markup = PLACEHOLDER.sub(lambda m: _slot(plan, fills[m.group(1)]) if m.group(1) in fills else "", template.html)
    # The renderer finds pages by this attribute to cut slices between pages.
    return markup.replace("<section", f'<section data-page="{html.escape(page.key)}"', 1)


def _slot(plan: DetailPlan, fill: SlotFill) -> str:
    if fill.kind == "image":
        if fill.status == "filled":
            path = Path(fill.image) if Path(fill.image).is_absolute() else Path(plan.base_dir) / fill.image
            return f'<img src="{html.escape(path.resolve().as_uri())}" alt="">'
        if fill.status == "flagged":
            name = fill.hint or ROLE_NAMES.get(fill.role, fill.role)
            return f'<div class="missing-photo">请补充：{html.escape(name)}<br>（{html.escape(fill.role)}）</div>'
        return ""
    if fill.kind == "table":
        if fill.table is None:
            return _missing(fill)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in fill.table["columns"])
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in fill.table["rows"]
        )
        return f'<table class="slot-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    if fill.kind == "swatches":
        if not fill.swatches:
            return _missing(fill)
        chips = "".join(
            f'<div class="swatch"><i style="background:{html.escape(s["hex"])}"></i>{html.escape(s["name"])}</div>'
            for s in fill.swatches
        )
        return f'<div class="swatches">{chips}</div>'
    if not fill.text:
        return _missing(fill)
    return html.escape(fill.text)


def _missing(fill: SlotFill) -> str:
    if fill.status != "flagged":
        return ""
    what = fill.hint or (fill.notes[-1] if fill.notes else fill.name)
    return f'<span class="missing-text">请补充：{html.escape(what)}</span>'
