import json

from catalog import extract
from tests.catalog.conftest import FIXTURES, product_json


def test_cli_contract_shape(cardigan_result):
    out = json.loads(json.dumps(cardigan_result.to_json(), ensure_ascii=False))
    assert set(out) == {"category", "attributes", "images", "warnings"}
    assert out["category"] == "apparel"
    for value in out["attributes"].values():
        assert set(value) == {"value", "confidence", "source", "evidence"}
        assert 0 < value["confidence"] <= 1
        assert value["source"] in ("title", "description", "ocr", "image", "speech")
    assert [i["path"] for i in out["images"]] == product_json("product_cardigan.json")["images"]
    assert [i["role"] for i in out["images"]] == ["mannequin", "label", "detail"]
    assert out["images"][0]["colors"][0]["en"] == "beige" and out["images"][0]["colors"][0]["zh"] == "米色"


def test_composition_from_the_hang_tag_with_its_evidence(cardigan_result):
    composition = cardigan_result.attributes["composition"]
    assert composition.value == {"wool": 80, "cashmere": 20}
    assert composition.source == "ocr"
    assert composition.evidence["image"] == "hangtag_wool.png"
    assert "羊毛80%" in composition.evidence["text"]


def test_text_and_speech_attributes_with_evidence(cardigan_result):
    values = cardigan_result.values()
    assert values["category"] == "cardigan"
    assert values["fit"] == "loose"
    assert values["material"] == "knit"
    assert values["closure"] == "single_breasted"
    assert values["length"] == "mid"
    assert set(values["season"]) == {"autumn", "winter"}
    assert values["color"] == ["beige"]
    title_fit = cardigan_result.attributes["fit"].evidence
    assert title_fit["field"] == "title" and title_fit["text"] == "宽松"
    advice = cardigan_result.attributes["fit_advice"]
    assert advice.value == {"height_cm": 162, "size": "M"}
    assert advice.source == "speech" and advice.evidence["t0"] == 12.0 and advice.evidence["sublabel"] == "fit"
    elasticity = cardigan_result.attributes["elasticity"]
    assert elasticity.value == "slight" and elasticity.source == "speech"


def test_sublabel_routes_speech_to_its_slots():
    product = {"title": "开衫", "speech": [{"text": "这个是修身的版型", "sublabel": "fabric"}]}
    assert "fit" not in extract(product, "apparel").attributes  # fabric talk does not fill fit
    product["speech"][0]["sublabel"] = "fit"
    assert extract(product, "apparel").values()["fit"] == "slim"


def test_image_colour_fills_colour_when_the_text_does_not():
    product = {"title": "A字连衣裙", "images": ["packshot_red_dress.jpg"]}
    result = extract(product, "apparel", base_dir=FIXTURES)
    colour = result.attributes["color"]
    assert colour.value == ["red"]
    assert colour.source == "image"
    assert colour.evidence["mentions"][0]["image"] == "packshot_red_dress.jpg"
    assert len(colour.evidence["mentions"][0]["region"]) == 4
