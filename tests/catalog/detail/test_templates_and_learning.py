"""Templates as data (a brand folder added without code, bad folders named), the brand memory, the boundary."""

from pathlib import Path

import pytest
from detail_support import FIXTURES, images_of, product

from catalog import CatalogError, product_from_dict
from catalog.detail import (
    BrandMemory,
    DetailPlan,
    DetailSettings,
    edit_slot,
    load_template_sets,
    move_page,
    plan_detail,
    remove_page,
)
from catalog.detail.html import document

DETAIL = Path(__file__).parents[3] / "catalog" / "detail"


def test_the_default_set_has_a_page_order_per_category():
    default = load_template_sets()["default"]
    assert len(default.page_order("apparel")) >= 12
    for category in ("beauty", "electronics", "food"):
        order = default.page_order(category)
        assert 4 <= len(order) < 12 and order[0] == "hero" and order[-1] == "brand"
    with pytest.raises(CatalogError, match="no page order for 'toys'"):
        default.page_order("toys")


def brand_folder(root: Path, manifest: str, pages: dict[str, tuple[str, str]] | None = None) -> Path:
    (root / "pages").mkdir(parents=True, exist_ok=True)
    (root / "manifest.toml").write_text(manifest, encoding="utf-8")
    for name, (toml, html) in (pages or {}).items():
        (root / "pages" / f"{name}.toml").write_text(toml, encoding="utf-8")
        (root / "pages" / f"{name}.html").write_text(html, encoding="utf-8")
    return root


def test_a_brand_folder_adds_colors_fonts_order_and_a_page_without_code(analyses, settings, tmp_path):
    (tmp_path / "lumi").mkdir()
    (tmp_path / "lumi" / "brand.ttc").write_bytes(b"the brand's font file (only its presence is checked here)")
    brand_folder(
        tmp_path / "lumi",
        '[set]\nkey = "lumi"\nbrand = "Lumi"\nextends = "default"\n'
        '[colors]\naccent = "#0a7f6f"\n'
        '[fonts]\nheading = ["Lumi Sans", "sans-serif"]\nfiles = [{ family = "Lumi Sans", path = "brand.ttc" }]\n'
        '[brand]\nstory = "{brand} 只做自然面料。"\n'
        '[order]\napparel = ["hero", "promise", "fabric", "size_table", "brand"]\n',
        {
            "promise": (
                '[page]\nkey = "promise"\n[[slots]]\nname = "line"\nkind = "text"\nrequired = true\n'
                'max_chars = 30\ntemplates = ["{brand}的{material}{category}"]\n',
                '<section class="page page-promise"><h2>{{line}}</h2></section>',
            )
        },
    )
    custom = DetailSettings(template_dirs=(str(tmp_path),))
    prod = product("CARD-001")  # brand Lumi: its set is chosen by the brand
    plan = plan_detail(prod, custom, images=images_of(prod, analyses), base_dir=FIXTURES)
    assert plan.template_set == "lumi"
    assert [p.key for p in plan.pages] == ["hero", "promise", "fabric", "size_table", "brand"]
    assert plan.page("promise").slot("line").text == "Lumi的针织开衫"
    assert plan.page("brand").slot("story").text == "Lumi 只做自然面料。"
    html = document(plan, load_template_sets(custom.template_dirs)["lumi"])
    assert "--color-accent:#0a7f6f" in html and '"Lumi Sans"' in html and "@font-face" in html
    assert "--color-primary:#2b2b2b" in html  # the rest comes from the default set


@pytest.mark.parametrize(
    "manifest, pages, message",
    [
        ('[set]\nkey = "b"\nextends = "nope"\n', {}, "set.extends"),
        ('[set]\nname = "no key"\n', {}, "set.key"),
        ('[set]\nkey = "b"\nextends = "default"\n[order]\napparel = ["hero", "ghost"]\n', {}, "order.apparel"),
        (
            '[set]\nkey = "b"\nextends = "default"\n',
            {"p": ('[[slots]]\nname = "image"\nkind = "image"\nroles = ["selfie"]\n', "<section>{{image}}</section>")},
            "roles",
        ),
        (
            '[set]\nkey = "b"\nextends = "default"\n',
            {"p": ('[[slots]]\nname = "title"\nkind = "text"\ntemplates = ["{title}"]\n', "<section></section>")},
            "slots.title",
        ),
        (
            '[set]\nkey = "b"\nextends = "default"\n',
            {"p": ('[[slots]]\nname = "t"\nkind = "table"\nsource = "prices"\n', "<section>{{t}}</section>")},
            "source",
        ),
        (
            '[set]\nkey = "b"\nextends = "default"\n[fonts]\nfiles = [{ family = "X", path = "gone.ttf" }]\n',
            {},
            "fonts",
        ),
    ],
)
def test_a_bad_template_folder_is_refused_naming_the_field(tmp_path, manifest, pages, message):
    brand_folder(tmp_path / "b", manifest, pages)
    with pytest.raises(CatalogError, match=message):
        load_template_sets((str(tmp_path / "b"),))


def test_the_brand_memory_keeps_order_removals_and_phrasing_for_the_next_product(analyses, settings):
    prod = product("CARD-001")
    plan = plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES)
    remove_page(plan, "care")
    remove_page(plan, "colors")
    move_page(plan, "size_table", 1)
    edit_slot(plan, "highlights", "point1", "宽松落肩，米色、藏青色两色可选", settings)
    assert [e["op"] for e in plan.edits] == ["remove", "remove", "move", "edit"]
    memory = BrandMemory("Lumi")
    memory.learn(plan)
    assert memory.removed["apparel"] == ["care", "colors"]
    assert memory.phrasing["highlights.point1"] == "{fit}落肩，{color}两色可选"
    stored = BrandMemory.from_json(memory.to_json())  # what the shell keeps per brand
    assert stored == memory

    data = product("DRESS-002").to_dict()
    data["images"] = ["model_navy_dress.jpg", "packshot_red_dress.jpg"]
    data["attributes"]["color"] = ["red", "navy"]
    nxt = product_from_dict(data)
    again = plan_detail(nxt, settings, images=images_of(nxt, analyses), base_dir=FIXTURES, memory=stored)
    keys = [p.key for p in again.pages]
    assert keys[:2] == ["hero", "size_table"] and "care" not in keys and "colors" not in keys
    point = again.page("highlights").slot("point1")
    assert point.source == "brand" and point.text == "修身落肩，红色、藏青色两色可选"
    # A learned phrasing the next product cannot fill falls back to the set's copy.
    data["attributes"].pop("fit")
    bare = product_from_dict(data)
    plain = plan_detail(bare, settings, images=images_of(bare, analyses), base_dir=FIXTURES, memory=stored)
    assert plain.page("highlights").slot("point1").source == "template"
    with pytest.raises(CatalogError, match="brand"):
        BrandMemory("Other").learn(plan)


def test_a_plan_round_trips_through_json(analyses, settings):
    prod = product("CARD-001")
    plan = plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES)
    data = plan.to_json()
    assert data["ready"] is True and data["issues"] == []
    again = DetailPlan.from_json(data)
    assert again == plan
    with pytest.raises(CatalogError, match="detail plan"):
        DetailPlan.from_json({"pages": [{"key": "x"}]})
