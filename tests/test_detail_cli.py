"""`livecut catalog detail`: a product file planned and rendered per platform through the CLI's main().

The committed fixture cardigan (CARD-001) and its photos, the real sentence embedder for the extraction, and
Debian's chromium through playwright for the render.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from livecut.cli import main

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cardigan(tmp_path) -> Path:
    rows = json.loads((FIXTURES / "detail_products.json").read_text(encoding="utf-8"))
    product = next(r for r in rows if r["sku"] == "CARD-001")
    # Three of its photos: each one is analysed by the extraction (the API tests use all six).
    product["images"] = ["model_navy_dress.jpg", "flatlay_green_sweater.jpg", "detail_plaid.jpg"]
    folder = tmp_path / "cardigan"
    folder.mkdir()
    for name in product["images"]:
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "product.json").write_text(json.dumps(product, ensure_ascii=False), encoding="utf-8")
    return folder / "product.json"


def test_detail_renders_slices_per_platform_and_exits_1_with_a_line_per_violation(capsys, cardigan, tmp_path):
    config = tmp_path / "livecut.toml"
    config.write_text("[catalog.platforms.jd.images.detail]\nmax_count = 3\n", encoding="utf-8")
    out = tmp_path / "out"
    code, printed, err = cli(
        capsys, "catalog", "detail", str(cardigan), "--platform", "jd", "--out", str(out), "--config", str(config)
    )
    result = json.loads(printed)
    jd = result["renders"]["jd"]
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith(f"livecut: jd: {len(jd['slices'])} slices, over the 3 detail images"), err
    assert result["plan"]["ready"] and [p["key"] for p in result["plan"]["pages"]][0] == "hero"
    for piece in jd["slices"]:
        data = (out / "jd" / piece["file"]).read_bytes()
        assert len(data) == piece["bytes"] <= jd["max_bytes"]
        with Image.open(out / "jd" / piece["file"]) as image:
            assert image.format == "JPEG" and image.width == jd["width"] and image.height <= jd["max_height"]
    assert (out / "jd" / jd["preview"]).is_file()

    # Only the pages asked for; a page count is no violation then.
    code, printed, err = cli(
        capsys, "catalog", "detail", str(cardigan), "--platform", "taobao", "--out", str(out), "--pages", "hero,care"
    )
    assert code == 0, err
    taobao = json.loads(printed)["renders"]["taobao"]
    assert sorted(taobao["pages"]) == ["care", "hero"]
    assert all(piece["file"].startswith("page_hero_care_") for piece in taobao["slices"])


def test_detail_refuses_bad_input_naming_it(capsys, cardigan, tmp_path):
    out = str(tmp_path / "out")
    code, _, err = cli(capsys, "catalog", "detail", str(cardigan), "--platform", "ebay", "--out", out)
    assert code == 1 and err.startswith("livecut: platform: 'ebay' is not a platform")
    config = tmp_path / "livecut.toml"
    config.write_text("[catalog.detail]\njpeg_quality = 20\n", encoding="utf-8")
    asked = ("--platform", "jd", "--out", out, "--config", str(config))
    code, _, err = cli(capsys, "catalog", "detail", str(cardigan), *asked)
    assert code == 2 and "detail.jpeg_quality" in err
    broken = cardigan.with_name("broken.json")
    broken.write_text("[1, 2]", encoding="utf-8")
    code, _, err = cli(capsys, "catalog", "detail", str(broken), "--platform", "jd", "--out", out)
    assert code == 1 and "holds one JSON object" in err
    assert not (tmp_path / "out").exists(), "nothing is written for bad input"
