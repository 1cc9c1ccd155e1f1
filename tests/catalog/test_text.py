import numpy as np
import pytest

from catalog import BrandCorrections, CatalogError, CompositionError, ad_law_findings, extract, load_schemas
from catalog.composition import parse_composition
from catalog.speech import fit_advice
from catalog.textmatch import cn_to_number
from tests.catalog.conftest import BANNED, EXCEPTIONS

FIBRES = load_schemas()["apparel"].attributes["composition"].values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("棉95% 氨纶5%", {"cotton": 95, "spandex": 5}),
        ("95% cotton 5% spandex", {"cotton": 95, "spandex": 5}),
        ("百分之八十的羊毛 加上百分之二十的羊绒", {"wool": 80, "cashmere": 20}),
        ("成分：粘纤 72.5% 锦纶 27.5%", {"viscose": 72.5, "nylon": 27.5}),
    ],
)
def test_composition_forms(text, expected):
    (part,) = parse_composition(text, FIBRES)
    assert part.fibres == expected
    assert part.section == "main"


def test_composition_keeps_lining_apart():
    parts = parse_composition("面料: 羊毛80% 羊绒20%\n里料: 聚酯纤维100%", FIBRES)
    assert [(p.section, p.fibres) for p in parts] == [
        ("main", {"wool": 80, "cashmere": 20}),
        ("lining", {"polyester": 100}),
    ]


def test_composition_not_summing_to_100_is_refused():
    with pytest.raises(CompositionError, match=r"description: '棉90% 氨纶5%' sums to 95 %, not 100"):
        parse_composition("棉90% 氨纶5%", FIBRES, field="description")


def test_bad_composition_in_a_product_is_a_warning_and_no_value():
    result = extract({"title": "纯色T恤", "description": "棉90% 氨纶5%"}, "apparel")
    assert "composition" not in result.attributes
    assert any(w.startswith("description:") and "sums to 95" in w for w in result.warnings)


def test_chinese_numerals():
    assert [cn_to_number(t) for t in ("八十", "九十五", "一百", "五点五", "十", "六二")] == [80, 95, 100, 5.5, 10, 62]


def test_fit_advice_from_speech():
    advice, span = fit_advice("姐妹们我身高一米六二穿M码刚刚好")
    assert advice == {"height_cm": 162, "size": "M"}
    assert fit_advice("165 一百斤 穿L")[0] == {"height_cm": 165, "size": "L", "weight_jin": 100}
    assert fit_advice("这件真的很好看") is None


def test_ad_law_findings_with_positions_and_exceptions():
    text = "全网最好的面料，第一次穿就爱上，唯一推荐"
    findings = ad_law_findings(text, BANNED, EXCEPTIONS)
    assert [(f.phrase, f.start, f.end) for f in findings] == [("最好", 2, 4), ("唯一", 16, 18)]
    assert ad_law_findings("最近很流行", BANNED, EXCEPTIONS) == []


def test_ad_law_bad_pattern_names_the_field():
    with pytest.raises(CatalogError, match="compliance.banned_claims"):
        ad_law_findings("x", ["("])


def test_unknown_category_and_undetectable_category():
    with pytest.raises(CatalogError, match="^category: unknown category 'furniture'"):
        extract({"title": "沙发"}, "furniture")
    with pytest.raises(CatalogError, match="^category: cannot tell"):
        extract({"title": "一个东西"}, None)
    with pytest.raises(CatalogError, match="^title:"):
        extract({"description": "no title"}, "apparel")


def test_categories_beauty_electronics_food():
    beauty = extract({"title": "补水保湿精华液 30ml 敏感肌可用"}, None)
    assert beauty.category == "beauty"
    assert beauty.values()["volume"] == {"amount": 30.0, "unit": "ml"}
    assert set(beauty.values()["effect"]) == {"hydrating"}
    assert beauty.values()["skin_type"] == ["sensitive"]
    gadget = extract({"title": "蓝牙耳机 续航30小时 500mAh 充电仓 Type-C"}, None)
    assert gadget.category == "electronics"
    assert gadget.values()["battery"] == {"amount": 500.0, "unit": "mAh"}
    assert set(gadget.values()["connectivity"]) == {"bluetooth", "usb_c"}
    food = extract({"title": "每日坚果 1.5kg 原味", "description": "产地：云南 保质期 180天 常温保存"}, None)
    assert food.category == "food"
    assert food.values()["net_weight"] == {"amount": 1500.0, "unit": "g"}
    assert food.values()["shelf_life"] == {"amount": 180.0, "unit": "days"}
    assert food.values()["origin"] == "云南"
    assert food.values()["storage"] == "ambient"


def test_season_phrase_names_two_values():
    assert set(extract({"title": "秋冬毛衣"}, "apparel").values()["season"]) == {"autumn", "winter"}


def test_brand_corrections_change_the_next_extraction():
    product = {"title": "落肩卡其色毛衣"}
    before = extract(product, "apparel")
    assert "fit" not in before.attributes
    assert before.values()["color"] == ["khaki"]
    corrections = BrandCorrections.from_examples(
        [
            {"attribute": "fit", "phrase": "落肩", "value": "loose"},
            {"attribute": "color", "was": "khaki", "value": "camel"},
        ]
    )
    after = extract(product, "apparel", corrections=corrections)
    assert after.values()["fit"] == "loose"
    assert after.attributes["fit"].evidence["text"] == "落肩"
    assert after.values()["color"] == ["camel"]
    assert after.attributes["color"].evidence["corrected_from"] == ["khaki"]


def test_bad_correction_names_the_example():
    with pytest.raises(CatalogError, match=r"^corrections\[1\]"):
        BrandCorrections.from_examples([{"attribute": "fit", "phrase": "落肩", "value": "loose"}, {"value": "x"}])


def _char_embedder(texts: list[str]) -> np.ndarray:
    """A deterministic bag-of-characters embedder: stands in for the shell's sentence embedder (same contract)."""
    vectors = np.zeros((len(texts), 1024), dtype=np.float32)
    for row, text in enumerate(texts):
        for char in text.lower():
            vectors[row, ord(char) % 1024] += 1.0
    return vectors


def test_embedder_fills_what_rules_missed():
    product = {"title": "简约开衫", "description": "宽大松弛，好穿"}
    assert "fit" not in extract(product, "apparel").attributes  # no synonym of any fit value is in the text
    result = extract(product, "apparel", embed=_char_embedder)
    fit = result.attributes["fit"]
    assert fit.value == "loose"
    assert fit.evidence["method"] == "embedding"
    assert fit.evidence["text"] == "宽大松弛"
    assert fit.confidence < 0.6  # a guess ranks below any rule match
