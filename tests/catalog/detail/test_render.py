"""Rendering with Debian's chromium: the platform's width, slices no taller than it allows, JPEGs under
its byte cap, a preview PNG; a page taller than Chromium's ~16,000 px capture limit comes out whole."""

import os
from pathlib import Path

import numpy as np
import pytest
from detail_support import FIXTURES, images_of, product
from PIL import Image

from catalog import CatalogError, load_platforms
from catalog.detail import DetailSettings, pack_slices, plan_detail

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("LIVECUT_TEST_ARTIFACTS") or REPO / "test-artifacts") / "detail"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def cardigan_plan(analyses, settings):
    prod = product("CARD-001")
    return plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES)


def check_slices(result, out: Path, width: int, max_height: int, max_bytes: int) -> None:
    assert result.ok, result.violations
    assert result.width == width and len(result.slices) >= 2
    total = 0
    for piece in result.slices:
        data = (out / piece.file).read_bytes()
        assert len(data) == piece.bytes <= max_bytes
        with Image.open(out / piece.file) as image:
            assert image.format == "JPEG" and image.size == (width, piece.height)
        assert 0 < piece.height <= max_height
        total += piece.height
    last = max(top + height for top, height in result.pages.values())
    assert abs(total - last) <= len(result.slices)  # the slices cover the pages, rounding aside
    with Image.open(out / result.preview) as preview:
        assert preview.format == "PNG" and preview.width == 375


@pytest.fixture(scope="module")
def rendered(renderer, cardigan_plan, tmp_path_factory):
    """The cardigan's detail page per platform, rendered once for the tests that read it."""
    done = {}

    def render(platform: str):
        if platform not in done:
            out = tmp_path_factory.mktemp(platform)
            done[platform] = (renderer.render(cardigan_plan, load_platforms()[platform], out), out)
        return done[platform]

    return render


@pytest.mark.parametrize("platform", ["taobao", "jd", "tmall"])
def test_the_detail_page_renders_in_slices_at_the_platform_width(rendered, cardigan_plan, artifacts, platform):
    profile = load_platforms()[platform]
    spec = profile.images["detail"]
    result, tmp_path = rendered(platform)
    check_slices(result, tmp_path, spec["width"], spec["max_height"], spec["max_bytes"])
    assert list(result.pages) == [p.key for p in cardigan_plan.pages]
    shown = [key for piece in result.slices for key in piece.pages]
    assert set(shown) == set(result.pages)
    (artifacts / f"cardigan_{platform}_preview.png").write_bytes((tmp_path / result.preview).read_bytes())


def test_a_byte_cap_below_the_slice_size_is_met_by_lowering_the_quality(renderer, cardigan_plan, tmp_path):
    profile = load_platforms(overrides={"jd": {"images": {"detail": {"max_bytes": 60_000}}}})["jd"]
    result = renderer.render(cardigan_plan, profile, tmp_path)
    assert result.ok, result.violations
    assert all(piece.bytes <= 60_000 for piece in result.slices)
    assert any(piece.quality < 90 for piece in result.slices)
    tiny = load_platforms(overrides={"jd": {"images": {"detail": {"max_bytes": 2_000}}}})["jd"]
    refused = renderer.render(cardigan_plan, tiny, tmp_path / "tiny", page_keys=["hero"])
    assert not refused.ok and "stays over 2000 bytes" in refused.violations[0]
    few = load_platforms(overrides={"pinduoduo": {"images": {"detail": {"max_count": 3}}}})["pinduoduo"]
    over = renderer.render(cardigan_plan, few, tmp_path / "few")
    assert not over.ok and "over the 3 detail images" in over.violations[-1]


def test_one_edited_page_renders_alone_at_its_height_in_the_whole(renderer, rendered, cardigan_plan, tmp_path):
    profile = load_platforms()["taobao"]
    whole, _ = rendered("taobao")
    alone = renderer.render(cardigan_plan, profile, tmp_path, page_keys=["fit_advice"])
    assert [p.pages for p in alone.slices] == [["fit_advice"]]
    assert alone.slices[0].file.startswith("page_fit_advice_")
    assert abs(alone.slices[0].height - whole.pages["fit_advice"][1]) <= 1
    with pytest.raises(CatalogError, match="not in the plan"):
        renderer.render(cardigan_plan, profile, tmp_path, page_keys=["nope"])


def test_a_missing_photo_is_drawn_as_what_to_add(renderer, analyses, settings, tmp_path, artifacts):
    prod = product("DRESS-002")
    plan = plan_detail(prod, settings, images=images_of(prod, analyses), base_dir=FIXTURES)
    result = renderer.render(plan, load_platforms()["jd"], tmp_path, page_keys=["model"])
    html = (tmp_path / result.html).read_text(encoding="utf-8")
    assert "请补充：模特上身图" in html
    with Image.open(tmp_path / result.slices[0].file) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    # The box is drawn (accent-coloured dashes and text), not left white.
    accent = np.abs(pixels - np.array([0xB5, 0x83, 0x5A])).sum(axis=2) < 60
    assert accent.sum() > 2000
    (artifacts / "dress_missing_model_photo.jpg").write_bytes((tmp_path / result.slices[0].file).read_bytes())


BANDS = 18  # 18 bands of 1,000 px: the page is past Chromium's ~16,384 px capture limit
COLORS = [(int(40 + 200 * (i % 3 == 0)), int(40 + 11 * i), int(240 - 12 * i)) for i in range(BANDS)]


def test_a_page_past_chromiums_capture_limit_comes_out_whole(renderer, analyses, tmp_path):
    """A brand page of 18,000 px in colour bands: every slice shows the band it should (no repeat, no clip)."""
    brand = tmp_path / "tall"
    (brand / "pages").mkdir(parents=True)
    (brand / "manifest.toml").write_text(
        '[set]\nkey = "tall"\nextends = "default"\n[order]\napparel = ["bands"]\n', encoding="utf-8"
    )
    (brand / "pages" / "bands.toml").write_text(
        '[page]\nkey = "bands"\n[[slots]]\nname = "title"\nkind = "text"\ntemplates = ["{title}"]\n', encoding="utf-8"
    )
    bands = "".join(f'<div style="height:1000px;background:rgb{c}"></div>' for c in COLORS)
    (brand / "pages" / "bands.html").write_text(
        '<section class="page" style="padding:0">'
        f'<h1 style="height:0;overflow:hidden">{{{{title}}}}</h1>{bands}</section>',
        encoding="utf-8",
    )
    custom = DetailSettings(template_dirs=(str(brand),), template_set="tall")
    prod = product("CARD-001")
    plan = plan_detail(prod, custom, images=images_of(prod, analyses), base_dir=FIXTURES)
    out = tmp_path / "out"
    result = renderer.render(plan, load_platforms()["taobao"], out, settings=custom)
    assert result.ok and result.pages["bands"][1] == 18_000
    assert len(result.slices) == 12  # 18,000 / 1,540
    top = 0
    for piece in result.slices:
        with Image.open(out / piece.file) as image:
            pixels = np.asarray(image.convert("RGB")).astype(int)
        for y in range(5, piece.height, 97):
            band = (top + y) // 1000
            if (top + y) % 1000 in range(3, 997):
                assert np.abs(pixels[y, 375] - COLORS[band]).max() < 24, (piece.file, y, band)
        top += piece.height


def test_slices_are_cut_between_pages_where_a_page_ends_in_the_lower_half():
    pages = [("a", 0, 700), ("b", 700, 500), ("c", 1200, 900), ("d", 2100, 100)]
    slices = pack_slices(pages, 2200, 1500)
    assert [(top, height) for top, height, _ in slices] == [(0, 1200), (1200, 1000)]
    assert [shown for _, _, shown in slices] == [["a", "b"], ["c", "d"]]
    long = pack_slices([("x", 0, 4000)], 4000, 1500)
    assert [(t, h) for t, h, _ in long] == [(0, 1500), (1500, 1500), (3000, 1000)]


def test_a_platform_without_a_detail_rule_is_named(renderer, cardigan_plan, tmp_path):
    profiles = load_platforms()
    without = next(p for p in profiles.values() if "detail" not in p.images)
    with pytest.raises(CatalogError, match=f"{without.key}: images.detail"):
        renderer.render(cardigan_plan, without, tmp_path)
