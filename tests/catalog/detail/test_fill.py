"""Filling: every required slot filled or flagged, photos by role, the checks on every text, shortening."""

import pytest
from detail_support import FIXTURES, images_of, product

from catalog import CatalogError
from catalog.detail import edit_slot, plan_detail, shorten
from catalog.detail.html import document
from catalog.detail.templates import load_template_sets


def full_plan(analyses, settings, sku="CARD-001", **kwargs):
    prod = product(sku)
    return plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES, **kwargs)


def test_the_full_apparel_product_fills_every_page_of_the_default_set(analyses, settings):
    plan = full_plan(analyses, settings)
    order = load_template_sets()["default"].page_order("apparel")
    # model_more asks for a model photo no earlier page used: the only one is on the hero.
    assert [p.key for p in plan.pages] == [k for k in order if k != "model_more"]
    assert len(plan.pages) >= 12
    assert plan.left_out[0]["page"] == "model_more" and "model" in plan.left_out[0]["reason"]
    assert plan.ready, plan.issues()
    hero = plan.page("hero")
    assert hero.slot("image").role == "model" and hero.slot("image").image == "model_navy_dress.jpg"
    assert plan.page("label").slot("image").image == "hangtag_wool.png"
    assert plan.page("fabric").slot("composition").table["rows"] == [["羊毛", "80%"], ["羊绒", "20%"]]
    assert plan.page("size_table").slot("table").table["columns"] == ["尺码", "衣长", "胸围", "袖长"]
    assert plan.page("fit_advice").slot("advice").text == "身高162cm穿M码刚好，宽松版型"
    assert "干洗" in plan.page("care").slot("text").text


def test_every_required_slot_is_filled_or_flagged_with_what_to_add(analyses, settings):
    for sku in ("CARD-001", "DRESS-002", "SERUM-003"):
        plan = full_plan(analyses, settings, sku)
        for page in plan.pages:
            for slot in page.slots:
                assert slot.status in ("filled", "flagged", "empty"), (sku, page.key, slot.name)
                if slot.required:
                    assert slot.status != "empty", (sku, page.key, slot.name)
                if slot.status == "flagged":
                    assert slot.notes, (sku, page.key, slot.name)


def test_a_missing_photo_role_says_which_photo_to_add_instead_of_a_blank_box(analyses, settings):
    plan = full_plan(analyses, settings, "DRESS-002")  # one packshot, no model photo
    model = plan.page("model").slot("image")
    assert model.status == "flagged" and model.role == "model"
    assert "model" in model.notes[0]
    html = document(plan, load_template_sets()["default"], ["model"])
    assert "请补充：模特上身图" in html and "<img" not in html
    assert not plan.ready
    # Pages whose only content is a photo the product lacks are left out, with the reason.
    left = {entry["page"]: entry["reason"] for entry in plan.left_out}
    assert "flat_lay" in left and "label" in left and "flat_lay" in left["flat_lay"]
    size = plan.page("size_table").slot("table")
    assert size.status == "flagged" and "attributes.size_table" in size.notes[0]
    assert "尺码表" in document(plan, load_template_sets()["default"], ["size_table"])


def test_a_mannequin_stands_in_for_a_missing_model_photo_and_says_so(analyses, settings):
    from catalog import product_from_dict

    prod = product("CARD-001")
    data = prod.to_dict()
    data["images"] = ["mannequin_beige_sweater.jpg", "detail_plaid.jpg"]
    prod = product_from_dict(data)
    plan = plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES)
    image = plan.page("model").slot("image")
    assert image.role == "mannequin" and image.status == "filled"
    assert "模特上身图" in image.notes[0]


def test_a_category_without_attributes_flags_the_slots_it_cannot_fill(analyses, settings):
    plan = full_plan(analyses, settings, "SERUM-003")
    assert [p.key for p in plan.pages][0] == "hero"
    assert plan.category == "beauty"
    params = plan.page("params").slot("table")
    assert params.status == "flagged" and params.hint == "商品参数"
    points = plan.page("highlights").slot("point1")
    assert points.status == "flagged" and points.hint.startswith("文案")


def test_over_long_text_is_shortened_by_dropping_clauses_never_mid_character():
    text = "宽松版型，中长款，上身利落，秋冬都好穿"
    cut = shorten(text, 10, "clauses")
    assert cut.fits and cut.text == "宽松版型，中长款" and text.startswith(cut.text)
    flagged = shorten("一段没有任何标点可以拆开的非常长的文案内容", 8, "clauses")
    assert not flagged.fits and flagged.text == "一段没有任何标点可以拆开的非常长的文案内容"
    assert "over the slot's 8" in flagged.note
    kept = shorten("短句", 8, "flag")
    assert kept.fits and kept.text == "短句"
    assert not shorten("这句话超过了长度限制", 4, "flag").fits


def test_a_title_over_its_slot_is_shortened_at_a_clause(analyses, settings):
    from catalog import product_from_dict

    data = product("DRESS-002").to_dict()  # "红色A字连衣裙 无袖 修身 纯色 夏季": 19 characters, slot max 16
    prod = product_from_dict(data)
    plan = plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES)
    title = plan.page("hero").slot("title")
    assert title.status == "filled" and title.text == "红色A字连衣裙 无袖 修身 纯色"
    assert "shortened" in title.notes[0]


def test_an_edit_with_a_banned_phrase_or_an_invented_attribute_is_flagged(analyses, settings):
    plan = full_plan(analyses, settings)
    fill = edit_slot(plan, "highlights", "point1", "全网最好的开衫", settings)
    assert fill.status == "flagged" and any("广告法" in n for n in fill.notes)
    fill = edit_slot(plan, "highlights", "point2", "100%桑蚕丝，防水透气", settings)
    notes = " ".join(fill.notes)
    assert fill.status == "flagged"
    assert "桑蚕丝" in notes and "100%" in notes and "防水" in notes and "透气" in notes
    fill = edit_slot(plan, "highlights", "point3", "修身显瘦", settings)  # the product is loose
    assert fill.status == "flagged" and "修身" in " ".join(fill.notes)
    fill = edit_slot(plan, "highlights", "point1", "羊毛80%混羊绒，米色宽松好搭", settings)
    assert fill.status == "filled" and fill.notes == [] and fill.source == "edit"
    assert not plan.ready  # point2 and point3 are still flagged
    with pytest.raises(CatalogError, match="no slot"):
        edit_slot(plan, "highlights", "nope", "x", settings)


def test_a_template_copy_that_fails_the_checks_is_not_used(analyses, tmp_path, settings):
    from catalog.detail import DetailSettings

    brand = tmp_path / "lumi"
    (brand / "pages").mkdir(parents=True)
    (brand / "manifest.toml").write_text('[set]\nkey = "lumi"\nbrand = "Lumi"\nextends = "default"\n', encoding="utf-8")
    (brand / "pages" / "hero.toml").write_text(
        '[page]\nkey = "hero"\n[[slots]]\nname = "title"\nkind = "text"\nrequired = true\nmax_chars = 20\n'
        'templates = ["最好的{category}", "100%{material}，防水", "{color}{category}"]\n',
        encoding="utf-8",
    )
    (brand / "pages" / "hero.html").write_text('<section class="page"><h1>{{title}}</h1></section>', encoding="utf-8")
    custom = DetailSettings(template_dirs=(str(tmp_path),), ad_law_phrases=settings.ad_law_phrases)
    plan = full_plan(analyses, custom)
    assert plan.template_set == "lumi"
    title = plan.page("hero").slot("title")
    assert title.text == "米色、藏青色开衫"
    assert any("广告法" in n for n in title.notes) and any("invented" in n for n in title.notes)


def test_bad_input_names_the_field(analyses, settings):
    from catalog import product_from_dict

    prod = product_from_dict({"title": "无类目的东西"})
    with pytest.raises(CatalogError, match="category"):
        plan_detail(prod, settings, images=[])
    data = product("CARD-001").to_dict()
    data["attributes"]["size_table"] = {"columns": ["尺码", "衣长"], "rows": [["S", "68"], ["M"]]}
    data["images"] = ["not_an_image.jpg", "model_navy_dress.jpg"]
    plan = plan_detail(product_from_dict(data), settings, base_dir=FIXTURES)
    assert any("images[0]" in n for n in plan.notes)
    table = plan.page("size_table").slot("table")
    assert table.status == "flagged" and "size_table.rows[1]" in table.notes[0]
