"""Detail-page templates as data: a template set is a folder, each page an HTML + CSS file with a manifest.

A set folder holds manifest.toml ([set], [colors], [fonts], [brand], [order] per category), an optional
base.css and pages/NAME.toml + NAME.html + NAME.css. A brand set names `extends = "default"` and
adds or replaces pages, colours, fonts and orders without code. Slots are declared in NAME.toml:
text (length limit, how to shorten, copy templates), image (roles asked for), table (its source)
and swatches (the colour chips).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError

BUILTIN_DIR = Path(__file__).parent / "templates"
SLOT_KINDS = ("text", "image", "table", "swatches")
SHORTEN_RULES = ("clauses", "flag")
TABLE_SOURCES = ("size_table", "composition", "attributes")
IMAGE_ROLES = ("model", "mannequin", "packshot", "flat_lay", "detail", "label")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Slot:
    name: str
    kind: str
    required: bool = False
    max_chars: int = 0  # text: 0 is no limit
    shorten: str = "flag"  # text: clauses (drop trailing clauses until it fits) or flag
    templates: tuple[str, ...] = ()  # text: copy with {attribute} fields, the first that can be filled wins
    llm: bool = False  # text: an LLM may write it when one is configured
    question: str = ""  # text: what the LLM is asked
    roles: tuple[str, ...] = ()  # image: the roles asked for, best first
    fallback_roles: tuple[str, ...] = ()  # image: used (and said) when none of roles is there
    unused_only: bool = False  # image: only an image no earlier page used
    source: str = ""  # table: size_table, composition or attributes


@dataclass(frozen=True)
class PageTemplate:
    key: str
    title: str
    slots: tuple[Slot, ...]
    html: str
    css: str
    needs: tuple[str, ...] = ()  # slots without which the page is left out (not flagged)
    origin: str = ""  # the folder it came from

    def slot(self, name: str) -> Slot:
        found = next((s for s in self.slots if s.name == name), None)
        if found is None:
            raise CatalogError(f"pages.{self.key}.slots", f"no slot {name!r}")
        return found


@dataclass(frozen=True)
class TemplateSet:
    key: str
    name: str
    brand: str
    colors: dict[str, str]
    fonts: dict[str, list[str]]
    font_files: tuple[tuple[str, str], ...]  # (family, absolute path)
    base_css: str
    pages: dict[str, PageTemplate]
    order: dict[str, list[str]]
    story: str
    design_width: int = 750

    def page_order(self, category: str) -> list[str]:
        if category not in self.order:
            known = ", ".join(sorted(self.order))
            raise CatalogError("category", f"template set {self.key!r} has no page order for {category!r}; has {known}")
        return list(self.order[category])


def load_template_sets(extra_dirs: tuple[str, ...] | list[str] = ()) -> dict[str, TemplateSet]:
    """The built-in sets, then each extra folder: a set folder itself or a folder of set folders."""
    raw: dict[str, tuple[Path, dict[str, Any]]] = {}
    folders = [p for p in sorted(BUILTIN_DIR.iterdir()) if (p / "manifest.toml").is_file()]
    for extra in map(Path, extra_dirs):
        if not extra.is_dir():
            raise CatalogError("detail.template_dirs", f"{extra} is not a folder")
        folders += (
            [extra]
            if (extra / "manifest.toml").is_file()
            else sorted(p for p in extra.iterdir() if (p / "manifest.toml").is_file())
        )
    for folder in folders:
        manifest = _read_toml(folder / "manifest.toml")
        key = manifest.get("set", {}).get("key")
        if not key:
            raise CatalogError(f"{folder / 'manifest.toml'}: set.key", "every template set names its key")
        raw[key] = (folder, manifest)
    return {key: _build(key, raw, ()) for key in raw}


def _build(key: str, raw: dict[str, tuple[Path, dict[str, Any]]], seen: tuple[str, ...]) -> TemplateSet:
    folder, manifest = raw[key]
    info = manifest.get("set", {})
    parent = info.get("extends")
    where = f"{folder / 'manifest.toml'}"
    if parent is not None:
        if parent not in raw:
            raise CatalogError(f"{where}: set.extends", f"no template set {parent!r}; known: {', '.join(sorted(raw))}")
        if parent in (*seen, key):
            raise CatalogError(f"{where}: set.extends", f"{parent!r} extends itself in a loop")
        base = _build(parent, raw, (*seen, key))
    else:
        base = None
    pages = dict(base.pages) if base else {}
    pages.update(_load_pages(folder / "pages"))
    order = {**(base.order if base else {}), **{str(k): list(v) for k, v in manifest.get("order", {}).items()}}
    for category, keys in order.items():
        unknown = [k for k in keys if k not in pages]
        if unknown:
            raise CatalogError(f"{where}: order.{category}", f"no page template {', '.join(unknown)}")
    fonts = manifest.get("fonts", {})
    font_files = tuple(
        (str(f.get("family", "")), str((folder / str(f.get("path", ""))).resolve())) for f in fonts.get("files", [])
    )
    for i, (family, path) in enumerate(font_files):
        if not family or not Path(path).is_file():
            raise CatalogError(f"{where}: fonts.files[{i}]", "needs family and path (a font file in the set folder)")
    base_css_path = folder / "base.css"
    return TemplateSet(
        key=key,
        name=str(info.get("name", key)),
        brand=str(info.get("brand", base.brand if base else "")),
        colors={**(base.colors if base else {}), **{str(k): str(v) for k, v in manifest.get("colors", {}).items()}},
        fonts={
            **(base.fonts if base else {}),
            **{k: list(v) if isinstance(v, list) else [str(v)] for k, v in fonts.items() if k != "files"},
        },
        font_files=(*(base.font_files if base else ()), *font_files),
        base_css=(base.base_css if base else "")
        + (base_css_path.read_text(encoding="utf-8") if base_css_path.is_file() else ""),
        pages=pages,
        order=order,
        story=str(manifest.get("brand", {}).get("story", base.story if base else "")),
        design_width=int(info.get("design_width", base.design_width if base else 750)),
    )


def _load_pages(folder: Path) -> dict[str, PageTemplate]:
    if not folder.is_dir():
        return {}
    pages = {}
    for path in sorted(folder.glob("*.toml")):
        page = _page(path)
        pages[page.key] = page
    return pages


def _page(path: Path) -> PageTemplate:
    data = _read_toml(path)
    info = data.get("page", {})
    key = info.get("key") or path.stem
    html_path, css_path = path.with_suffix(".html"), path.with_suffix(".css")
    if not html_path.is_file():
        raise CatalogError(f"{path}: page", f"the page's HTML {html_path.name} is missing")
    html = html_path.read_text(encoding="utf-8")
    slots = tuple(_slot(f"{path.name}: slots[{i}]", s) for i, s in enumerate(data.get("slots", [])))
    names = [s.name for s in slots]
    used = set(PLACEHOLDER.findall(html))
    for name in names:
        if name not in used:
            raise CatalogError(f"{path.name}: slots.{name}", f"{html_path.name} has no {{{{{name}}}}} for it")
    for name in used - set(names):
        raise CatalogError(f"{html_path.name}: {{{{{name}}}}}", f"{path.name} declares no slot {name!r}")
    needs = tuple(info.get("needs", ()))
    for name in needs:
        if name not in names:
            raise CatalogError(f"{path.name}: page.needs", f"no slot {name!r}")
    return PageTemplate(
        key=key,
        title=str(info.get("title", key)),
        slots=slots,
        html=html,
        css=css_path.read_text(encoding="utf-8") if css_path.is_file() else "",
        needs=needs,
        origin=str(path.parent),
    )


def _slot(where: str, spec: dict[str, Any]) -> Slot:
    name, kind = spec.get("name"), spec.get("kind")
    if not name or not re.fullmatch(r"[a-z_][a-z0-9_]*", str(name)):
        raise CatalogError(f"{where}.name", "a slot has a name of lower-case letters, digits and _")
    if kind not in SLOT_KINDS:
        raise CatalogError(f"{where}.kind", f"{kind!r} is not one of {', '.join(SLOT_KINDS)}")
    shorten = spec.get("shorten", "flag")
    if shorten not in SHORTEN_RULES:
        raise CatalogError(f"{where}.shorten", f"{shorten!r} is not one of {', '.join(SHORTEN_RULES)}")
    roles = tuple(spec.get("roles", ()))
    fallback = tuple(spec.get("fallback_roles", ()))
    bad = [r for r in (*roles, *fallback) if r not in IMAGE_ROLES]
    if bad or (kind == "image" and not roles):
        raise CatalogError(f"{where}.roles", f"an image slot asks for roles among {', '.join(IMAGE_ROLES)}")
    if kind == "table" and spec.get("source") not in TABLE_SOURCES:
        raise CatalogError(f"{where}.source", f"a table slot's source is one of {', '.join(TABLE_SOURCES)}")
    if kind == "text" and not spec.get("templates"):
        raise CatalogError(f"{where}.templates", "a text slot has at least one copy template")
    max_chars = spec.get("max_chars", 0)
    if not isinstance(max_chars, int) or max_chars < 0:
        raise CatalogError(f"{where}.max_chars", "is a whole number of characters")
    return Slot(
        name=str(name),
        kind=str(kind),
        required=bool(spec.get("required", False)),
        max_chars=max_chars,
        shorten=str(shorten),
        templates=tuple(map(str, spec.get("templates", ()))),
        llm=bool(spec.get("llm", False)),
        question=str(spec.get("question", "")),
        roles=roles,
        fallback_roles=fallback,
        unused_only=bool(spec.get("unused_only", False)),
        source=str(spec.get("source", "")),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(str(path), f"cannot read the template file: {exc}") from exc
