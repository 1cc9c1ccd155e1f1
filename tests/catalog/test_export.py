import json
import zipfile

import pytest
from PIL import Image

from catalog import CatalogError, CatalogSettings, count_length, export, load_platforms
from tests.catalog.conftest import BANNED, EXCEPTIONS, FIXTURES, product_json

SETTINGS = CatalogSettings(ad_law_phrases=BANNED, ad_law_exceptions=EXCEPTIONS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    report = export(product_json("product_dress.json"), "all", out, SETTINGS, base_dir=FIXTURES)
    return out, report


def test_every_platform_gets_files_that_meet_its_profile(exported):
    out, report = exported
    assert report.ok, report.violations
    profiles = load_platforms()
    assert len(profiles) == 10
    for key, profile in profiles.items():
        listing = json.loads((out / key / "listing.json").read_text(encoding="utf-8"))
        assert listing["title_length"]["value"] == count_length(listing["title"], profile.title["count"])
        assert listing["title_length"]["value"] <= profile.title["max"]
        assert listing["images"], key
        for record in listing["images"]:
            spec = profile.images[record["slot"]]
            path = out / key / record["file"]
            assert path.stat().st_size == record["bytes"] <= spec["max_bytes"]
            with Image.open(path) as image:
                assert image.width == spec["width"]
                if record["slot"] == "detail":
                    assert image.height <= spec["max_height"]
                else:
                    assert image.height == spec.get("height", spec["width"])
    taobao = json.loads((out / "taobao" / "listing.json").read_text(encoding="utf-8"))
    assert taobao["attributes"]["材质成分"] == "棉95% 氨纶5%"
    assert taobao["attributes"]["袖长"] == "无袖"
    amazon = json.loads((out / "amazon" / "listing.json").read_text(encoding="utf-8"))
    assert amazon["attributes"]["Fabric Type"] == "95% Cotton, 5% Spandex"
    assert "images.main" in amazon["unverified_rules"]
    with zipfile.ZipFile(out / "DRESS-002.zip") as archive:
        assert "taobao/listing.json" in archive.namelist()
    assert not [p for p in out.iterdir() if p.name.startswith(".export-")]


def test_taobao_counts_gbk_bytes():
    assert count_length("燕麦色毛衣", "gbk_bytes") == 10
    assert count_length("ab燕麦", "cjk_double") == 6
    assert count_length("😀", "utf16") == 2


def _title_over(tmp_path, title):
    product = product_json("product_dress.json") | {"title": title}
    return export(product, ["taobao", "xiaohongshu"], tmp_path / "out", SETTINGS, base_dir=FIXTURES)


def test_title_over_the_limit_is_reported_not_truncated_and_nothing_is_written(tmp_path):
    report = _title_over(tmp_path, "秋冬新款" * 7 + "连衣裙女")  # 32 汉字 = 64 GBK bytes
    assert not report.ok
    assert any(v.startswith("taobao: title: 64 (gbk_bytes) is over the limit of 60") for v in report.violations)
    assert any(v.startswith("xiaohongshu: title: 32 (chars) is over the limit of 20") for v in report.violations)
    assert not (tmp_path / "out").exists()


def test_platform_title_fixes_it(tmp_path):
    product = product_json("product_dress.json") | {
        "title": "秋冬新款" * 7 + "连衣裙女",
        "titles": {"taobao": "红色连衣裙"},
    }
    report = export(product, "taobao", tmp_path, SETTINGS, base_dir=FIXTURES)
    assert report.ok
    assert json.loads((tmp_path / "taobao" / "listing.json").read_text("utf-8"))["title"] == "红色连衣裙"


def test_every_violation_on_its_own_line(tmp_path):
    product = product_json("product_dress.json") | {"title": "最好看的国家级连衣裙", "description": "", "images": []}
    product["description"] = "第一名"
    report = export(product, "pinduoduo", tmp_path, SETTINGS, base_dir=FIXTURES)
    assert not report.ok
    assert "images: a listing needs at least one image" in report.violations
    assert "pinduoduo: title: 广告法 phrase '最好' at 0-2" in report.violations
    assert "pinduoduo: title: 广告法 phrase '国家级' at 4-7" in report.violations
    assert "pinduoduo: description: 广告法 phrase '第一' at 0-2" in report.violations
    assert any(v.startswith("pinduoduo: images.white") for v in report.violations)
    assert list(tmp_path.iterdir()) == []


def test_required_attribute_missing(tmp_path):
    product = {"sku": "S1", "title": "红色连衣裙", "images": ["packshot_red_dress.jpg"]}
    report = export(product, "taobao", tmp_path, SETTINGS, base_dir=FIXTURES)
    assert report.violations == ["taobao: attributes.composition: 材质成分 is required by 淘宝"]


def test_bad_images_and_unknown_platform(tmp_path):
    product = product_json("product_dress.json") | {"images": ["bomb_100mp.png", "not_an_image.jpg"]}
    with pytest.raises(CatalogError, match=r"^images\[0\]: .*megapixels"):
        export(product, "taobao", tmp_path, SETTINGS, base_dir=FIXTURES)
    with pytest.raises(CatalogError, match="^platform: unknown ebay"):
        export(product_json("product_dress.json"), "ebay", tmp_path, SETTINGS, base_dir=FIXTURES)
    assert list(tmp_path.iterdir()) == []


def test_user_override_of_a_profile_value(tmp_path):
    settings = CatalogSettings(
        ad_law_phrases=BANNED, platform_overrides={"taobao": {"images": {"main": {"width": 600, "height": 600}}}}
    )
    report = export(product_json("product_dress.json"), "taobao", tmp_path, settings, base_dir=FIXTURES)
    assert report.ok
    with Image.open(tmp_path / "taobao" / "images" / "main_1.jpg") as image:
        assert image.size == (600, 600)
    with pytest.raises(CatalogError, match="^catalog.platforms.ebay: unknown platform"):
        load_platforms(overrides={"ebay": {}})


def test_byte_cap_lowers_quality(tmp_path):
    settings = CatalogSettings(platform_overrides={"taobao": {"images": {"detail": {"max_bytes": 60000}}}})
    product = product_json("product_dress.json")
    report = export(product, "taobao", tmp_path, settings, base_dir=FIXTURES)
    assert report.ok
    listing = json.loads((tmp_path / "taobao" / "listing.json").read_text("utf-8"))
    detail = [r for r in listing["images"] if r["slot"] == "detail"]
    assert detail and all(r["bytes"] <= 60000 for r in detail)


def test_settings_from_config():
    settings = CatalogSettings.from_config({"ocr": "never", "platforms": {"jd": {}}}, {"banned_claims": ["最"]})
    assert settings.ocr == "never" and settings.ad_law_phrases == ("最",)
    with pytest.raises(CatalogError, match="^catalog: unknown keys: colour"):
        CatalogSettings.from_config({"colour": 1})
    with pytest.raises(CatalogError, match="^catalog.ocr"):
        CatalogSettings(ocr="sometimes")
