"""Filling a detail page's slots by rules from the product's confirmed attributes and images.

Text: the brand's learned phrasing, then the slot's copy templates, the first whose fields the
product has and that passes the checks; an LLM (when configured) may then rewrite it, and its answer
is used only when it passes the same checks. Images: the best image of the asked role (largest,
not used by an earlier page where another is available). Tables: the size table, the composition,
the attribute list. What cannot be filled is flagged with what a person should add.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from catalog.detail.checks import shorten, text_problems
from catalog.detail.facts import Facts, product_facts, swatch_hex, value_text
from catalog.detail.learn import BrandMemory
from catalog.detail.llm import ChatClient, ChatError, question_for
from catalog.detail.plan import DetailPlan, PagePlan, SlotFill
from catalog.detail.settings import DetailSettings
from catalog.detail.templates import PageTemplate, Slot, TemplateSet, load_template_sets
from catalog.errors import CatalogError
from catalog.images import ImageAnalysis, analyse_image
from catalog.model import Product
from catalog.schema import Schema, detect_category, load_schemas

ROLE_NAMES = {
    "model": "模特上身图",
    "mannequin": "人台图",
    "packshot": "白底图",
    "flat_lay": "平铺图",
    "detail": "细节特写图",
    "label": "吊牌或水洗标图",
}
TABLE_HINTS = {
    "size_table": "尺码表（尺码、衣长、胸围等）",
    "composition": "成分含量（见水洗标）",
    "attributes": "商品参数",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FORMATTER = string.Formatter()


def plan_detail(
    product: Product,
    settings: DetailSettings | None = None,
    *,
    values: dict[str, Any] | None = None,
    images: list[ImageAnalysis] | None = None,
    category: str | None = None,
    memory: BrandMemory | None = None,
    base_dir: str | Path | None = None,
    chat: ChatClient | None = None,
) -> DetailPlan:
    """The detail page of one product. values: confirmed attributes (default product.attributes);
    images: their analyses (default: each product image analysed here)."""
    settings = settings or DetailSettings()
    base = Path(base_dir) if base_dir else Path.cwd()
    values = dict(product.attributes if values is None else values)
    schemas = load_schemas(settings.schema_dirs)
    category = category or product.category or detect_category(schemas, [product.title, product.description])
    if category not in schemas:
        raise CatalogError("category", f"{category!r} has no schema; known: {', '.join(sorted(schemas))}")
    sets = load_template_sets(settings.template_dirs)
    tset = _template_set(sets, settings, product, category, memory)
    notes: list[str] = []
    analyses = images if images is not None else _analyse(product, base, settings, notes)
    facts = product_facts(product, values, schemas[category], tset.story)
    if chat is None and settings.llm.enabled:
        chat = ChatClient(settings.llm)
    filler = _Filler(facts, schemas[category], settings, analyses, memory, chat, notes)
    plan = DetailPlan(
        sku=product.sku,
        brand=product.brand or "",
        category=category,
        template_set=tset.key,
        pages=[],
        base_dir=str(base.resolve()),
        images=[{"path": a.path, "role": a.role, "width": a.width, "height": a.height} for a in analyses],
        notes=notes,
        facts=facts.fields,
        values=values,
        own_text=facts.own_text,
    )
    for key in _page_order(tset, category, memory):
        page = filler.page(tset.pages[key])
        missing = [s.name for s in page.slots if s.name in tset.pages[key].needs and s.status != "filled"]
        if missing:
            reason = "; ".join(n for s in page.slots if s.name in missing for n in s.notes) or "nothing to show"
            plan.left_out.append({"page": key, "reason": reason})
            filler.release(page)
            continue
        plan.pages.append(page)
    return plan


def edit_slot(
    plan: DetailPlan, page_key: str, slot_name: str, text: str, settings: DetailSettings | None = None
) -> SlotFill:
    """A person's text for a slot: checked like generated text; kept and flagged when it fails a check."""
    settings = settings or DetailSettings()
    page = plan.page(page_key)
    fill = page.slot(slot_name)
    if fill.kind != "text":
        raise CatalogError(f"pages.{page_key}.{slot_name}", f"is a {fill.kind} slot, not text")
    spec = _spec(plan, settings, page_key, slot_name)
    schema = load_schemas(settings.schema_dirs)[plan.category]
    facts = Facts(plan.facts, plan.own_text, plan.values)
    text = " ".join(text.split())
    problems = text_problems(text, facts, schema, settings.ad_law_phrases, settings.ad_law_exceptions)
    fitted = shorten(text, spec.max_chars, "flag")
    if not fitted.fits:
        problems.append(fitted.note)
    fill.text, fill.source, fill.notes, fill.hint = text, "edit", problems, ""
    fill.status = "flagged" if problems or (spec.required and not text) else ("filled" if text else "empty")
    plan.edits.append({"op": "edit", "page": page_key, "slot": slot_name, "text": text})
    return fill


def remove_page(plan: DetailPlan, page_key: str) -> None:
    plan.pages.remove(plan.page(page_key))
    plan.removed.append(page_key)
    plan.edits.append({"op": "remove", "page": page_key})


def move_page(plan: DetailPlan, page_key: str, index: int) -> None:
    page = plan.page(page_key)
    if not 0 <= index < len(plan.pages):
        raise CatalogError("index", f"{index} is not a position between 0 and {len(plan.pages) - 1}")
    plan.pages.remove(page)
    plan.pages.insert(index, page)
    plan.edits.append({"op": "move", "page": page_key, "index": index})


def choose_image(plan: DetailPlan, page_key: str, slot_name: str, path: str) -> SlotFill:
    """A person picks another of the product's images for an image slot."""
    fill = plan.page(page_key).slot(slot_name)
    known = next((i for i in plan.images if i["path"] == path), None)
    if fill.kind != "image" or known is None:
        raise CatalogError(f"pages.{page_key}.{slot_name}", f"{path!r} is not one of the product's images")
    fill.image, fill.role, fill.status, fill.source, fill.notes = path, known["role"], "filled", "edit", []
    plan.edits.append({"op": "image", "page": page_key, "slot": slot_name, "path": path})
    return fill


def _spec(plan: DetailPlan, settings: DetailSettings, page_key: str, slot_name: str) -> Slot:
    sets = load_template_sets(settings.template_dirs)
    if plan.template_set not in sets:
        raise CatalogError("template_set", f"{plan.template_set!r} is not a known template set")
    page = sets[plan.template_set].pages.get(page_key)
    if page is None:
        raise CatalogError("page", f"template set {plan.template_set!r} has no page template {page_key!r}")
    return page.slot(slot_name)


def _template_set(
    sets: dict[str, TemplateSet], settings: DetailSettings, product: Product, category: str, memory: BrandMemory | None
) -> TemplateSet:
    wanted = settings.template_set or (memory.template_set.get(category, "") if memory else "")
    if not wanted and product.brand:
        wanted = next((k for k, s in sets.items() if s.brand and s.brand.casefold() == product.brand.casefold()), "")
    wanted = wanted or "default"
    if wanted not in sets:
        raise CatalogError("detail.template_set", f"{wanted!r} is not a template set; known: {', '.join(sorted(sets))}")
    return sets[wanted]


def _page_order(tset: TemplateSet, category: str, memory: BrandMemory | None) -> list[str]:
    order = tset.page_order(category)
    if memory is None or category not in memory.orders:
        return order
    removed = set(memory.removed.get(category, []))
    kept = [k for k in memory.orders[category] if k in tset.pages]
    # Pages the set gained since the brand last confirmed go after the ones it kept.
    return kept + [k for k in order if k not in kept and k not in removed]


def _analyse(product: Product, base: Path, settings: DetailSettings, notes: list[str]) -> list[ImageAnalysis]:
    analyses = []
    for i, path in enumerate(product.images):
        full = Path(path) if Path(path).is_absolute() else base / path
        try:
            analysis = analyse_image(full, f"images[{i}]", ocr="auto", max_megapixels=settings.max_megapixels)
        except CatalogError as exc:
            notes.append(f"{exc} (left out of the detail page)")
            continue
        analysis.path = path
        analyses.append(analysis)
    return analyses


class _Filler:
    def __init__(
        self,
        facts: Facts,
        schema: Schema,
        settings: DetailSettings,
        images: list[ImageAnalysis],
        memory: BrandMemory | None,
        chat: ChatClient | None,
        notes: list[str],
    ) -> None:
        self.facts, self.schema, self.settings, self.images = facts, schema, settings, images
        self.memory, self.chat, self.notes = memory, chat, notes
        self.used: list[str] = []

    def page(self, template: PageTemplate) -> PagePlan:
        fills = [self.slot(template.key, slot) for slot in template.slots]
        return PagePlan(template.key, template.title, fills)

    def release(self, page: PagePlan) -> None:
        """A page left out gives its images back to later pages."""
        for fill in page.slots:
            if fill.image in self.used:
                self.used.remove(fill.image)

    def slot(self, page_key: str, slot: Slot) -> SlotFill:
        if slot.kind == "text":
            return self.text(page_key, slot)
        if slot.kind == "image":
            return self.image(slot)
        if slot.kind == "table":
            return self.table(slot)
        return self.swatches(slot)

    def text(self, page_key: str, slot: Slot) -> SlotFill:
        fill = SlotFill(slot.name, "text", "empty", slot.required)
        candidates = [(t, "template") for t in slot.templates]
        learned = self.memory.phrasing.get(f"{page_key}.{slot.name}") if self.memory else None
        if learned:
            candidates.insert(0, (learned, "brand"))
        chosen, over_long = None, None
        for template, source in candidates:
            text = _format(template, self.facts.fields)
            if text is None:
                continue
            fitted = shorten(text, slot.max_chars, slot.shorten)
            problems = self.problems(fitted.text)
            if problems:
                fill.notes.append(f"{source} copy {text!r} not used: {'; '.join(problems)}")
                continue
            if fitted.fits:
                chosen = (fitted, source)
                break
            over_long = over_long or (fitted, source)
        if chosen is None and over_long is not None:
            chosen = over_long
        if chosen is not None:
            fitted, source = chosen
            fill.text, fill.source, fill.status = fitted.text, source, "filled" if fitted.fits else "flagged"
            if fitted.note:
                fill.notes.append(fitted.note)
        elif slot.required:
            fill.status = "flagged"
            fields = sorted({f for t in slot.templates for _, f, _, _ in _FORMATTER.parse(t) if f})
            fill.notes.append(f"cannot fill: the product has none of the copy's fields together ({', '.join(fields)})")
            fill.hint = "文案（缺少商品信息：" + "、".join(_field_names(fields, self.schema)) + "）"
        if slot.llm and self.chat is not None:
            self.ask(slot, fill)
        return fill

    def ask(self, slot: Slot, fill: SlotFill) -> None:
        assert self.chat is not None
        question = question_for(slot.question or f"写{slot.name}文案", self.facts.fields, fill.text, slot.max_chars)
        try:
            answer = self.chat.complete(question)
        except ChatError as exc:
            fill.notes.append(f"LLM gave no answer ({exc.reason}): the template text is used")
            if "down" in exc.reason or "slow" in exc.reason:
                self.notes.append(f"LLM switched off for the rest of this page: {exc.reason}")
                self.chat = None
            return
        fitted = shorten(answer, slot.max_chars, slot.shorten)
        problems = self.problems(fitted.text)
        if not _CJK.search(answer):
            problems.append("not Chinese copy")
        if not fitted.fits:
            problems.append(fitted.note)
        if problems:
            fill.notes.append(f"LLM answer {answer!r} not used ({'; '.join(problems)}): the template text is used")
            return
        fill.text, fill.source, fill.status = fitted.text, "llm", "filled"
        if fitted.note:
            fill.notes.append(fitted.note)

    def problems(self, text: str) -> list[str]:
        s = self.settings
        return text_problems(text, self.facts, self.schema, s.ad_law_phrases, s.ad_law_exceptions)

    def image(self, slot: Slot) -> SlotFill:
        fill = SlotFill(slot.name, "image", "empty", slot.required)
        best = self.best(slot.roles, slot.unused_only)
        if best is None and slot.fallback_roles:
            best = self.best(slot.fallback_roles, slot.unused_only)
            if best is not None:
                asked = "、".join(ROLE_NAMES[r] for r in slot.roles)
                fill.notes.append(f"no {asked}; a {ROLE_NAMES[best.role]} is used (add a {asked} for a better page)")
        if best is None:
            fill.role = slot.roles[0]
            if slot.required:
                fill.status = "flagged"
                fill.notes.append(f"add a photo: {ROLE_NAMES[slot.roles[0]]} ({slot.roles[0]})")
                fill.hint = ROLE_NAMES[slot.roles[0]]
            return fill
        self.used.append(best.path)
        fill.image, fill.role, fill.status, fill.source = best.path, best.role, "filled", "rule"
        return fill

    def best(self, roles: tuple[str, ...], unused_only: bool) -> ImageAnalysis | None:
        for role in roles:
            matching = [a for a in self.images if a.role == role and not (unused_only and a.path in self.used)]
            if matching:
                # An image not used yet first, then the largest.
                return max(matching, key=lambda a: (a.path not in self.used, min(a.width, a.height)))
        return None

    def table(self, slot: Slot) -> SlotFill:
        fill = SlotFill(slot.name, "table", "empty", slot.required, source="rule")
        table, problem = _TABLES[slot.source](self.facts.values, self.schema)
        if table is not None:
            fill.table, fill.status = table, "filled"
        elif slot.required:
            fill.status = "flagged"
            fill.notes.append(problem)
            fill.hint = TABLE_HINTS[slot.source]
        return fill

    def swatches(self, slot: Slot) -> SlotFill:
        fill = SlotFill(slot.name, "swatches", "empty", slot.required, source="rule")
        colors = self.facts.values.get("color") or []
        attribute = self.schema.attributes.get("color")
        if attribute is None or not colors:
            if slot.required:
                fill.status = "flagged"
                fill.notes.append("add the colours (attributes.color)")
                fill.hint = "颜色"
            return fill
        keys = colors if isinstance(colors, list) else [colors]
        fill.swatches = [{"name": value_text(attribute, k), "hex": swatch_hex(str(k))} for k in keys]
        fill.status = "filled"
        return fill


def _field_names(fields: list[str], schema: Schema) -> list[str]:
    return [schema.attributes[f].zh if f in schema.attributes else f for f in fields]


def _format(template: str, fields: dict[str, str]) -> str | None:
    """The template with its fields filled, or None when the product lacks one of them."""
    try:
        names = [f for _, f, _, _ in _FORMATTER.parse(template) if f]
    except ValueError:
        return None
    if any(n not in fields for n in names):
        return None
    return template.format_map(fields)


def _size_table(values: dict[str, Any], schema: Schema) -> tuple[dict[str, list[Any]] | None, str]:
    """attributes.size_table: {"columns": [...], "rows": [[...]]} or a list of row objects."""
    raw = values.get("size_table")
    missing = "add the size table (attributes.size_table: columns and rows, e.g. 尺码/衣长/胸围)"
    if not raw:
        return None, missing
    if isinstance(raw, list) and raw and all(isinstance(r, dict) for r in raw):
        columns = list(dict.fromkeys(k for r in raw for k in r))
        return {"columns": columns, "rows": [[r.get(c, "") for c in columns] for r in raw]}, ""
    if isinstance(raw, dict) and isinstance(raw.get("columns"), list) and isinstance(raw.get("rows"), list):
        width = len(raw["columns"])
        bad = [i for i, r in enumerate(raw["rows"]) if not isinstance(r, list) or len(r) != width]
        if bad:
            return None, f"attributes.size_table.rows[{bad[0]}]: a row has {width} cells like the columns"
        return {"columns": list(raw["columns"]), "rows": [list(r) for r in raw["rows"]]}, ""
    return None, "attributes.size_table: is {columns: [...], rows: [[...]]} or a list of row objects"


def _composition_table(values: dict[str, Any], schema: Schema) -> tuple[dict[str, list[Any]] | None, str]:
    composition = values.get("composition")
    attribute = schema.attributes.get("composition")
    if not isinstance(composition, dict) or not composition or attribute is None:
        return None, "add the composition (attributes.composition, from the wash label)"
    rows = [
        [(attribute.value(k).zh if attribute.value(k) else k), f"{float(p):g}%"]
        for k, p in sorted(composition.items(), key=lambda kv: -float(kv[1]))
    ]
    return {"columns": ["成分", "含量"], "rows": rows}, ""


def _attribute_table(values: dict[str, Any], schema: Schema) -> tuple[dict[str, list[Any]] | None, str]:
    rows = [
        [attribute.zh, value_text(attribute, values[key])]
        for key, attribute in schema.attributes.items()
        if attribute.type != "fit_advice" and values.get(key) not in (None, "", [], {})
    ]
    if not rows:
        return None, "no confirmed attributes to list (confirm the attributes first)"
    return {"columns": ["参数", "信息"], "rows": rows}, ""


_TABLES = {"size_table": _size_table, "composition": _composition_table, "attributes": _attribute_table}
