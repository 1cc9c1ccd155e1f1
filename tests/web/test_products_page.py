"""The Products page in a real browser (Debian's chromium driven by playwright) against the API served by uvicorn
on a free port over a real SQLite store and media folder: an operator walks the fixture cardigan from its images
(fixing a role by clicking it) and attributes (an evidence region outlined on its photo) through its steps with
the keyboard, renders its detail page, edits a slot (only that page re-renders) and exports it for Taobao.
Screenshots product.png and detail_preview.png go to $LIVECUT_TEST_ARTIFACTS (default: test-artifacts/)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import serving

from livecut.api import catalog_work, create_app
from livecut.auth import hash_password
from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.contracts import Utterance
from livecut.runtime.catalog_tools import CatalogTools
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "catalog"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "products page password"
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
pytestmark = pytest.mark.browser


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, MetadataStore, LocalMediaStore, str]]:
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    store.ensure_tenant("brand-a", "brand")
    store.create_user("olga", "brand-a", "operator", hash_password(PASSWORD))
    rows = json.loads((FIXTURES / "detail_products.json").read_text(encoding="utf-8"))
    cardigan = next(r for r in rows if r["sku"] == "CARD-001")
    fields = {k: cardigan[k] for k in ("sku", "title", "category", "brand", "price", "description")}
    product = store.create_product("brand-a", fields)
    keys = [f"products/{product['id']}/images/{name}" for name in cardigan["images"]]
    for key, name in zip(keys, cardigan["images"], strict=True):
        media.put_bytes(key, (FIXTURES / name).read_bytes())
    product = store.update_product(product["id"], {"images": keys})
    # What the host said about it on air, with its room: its evidence links to the room's recording.
    room = store.create_room("autumn live", "push", tenant="brand-a")
    store.add_utterance(Utterance(room.id, 12.0, 15.0, "这件开衫是微弹的，穿着很舒服", "zh", product="CARD-001"))
    tools = CatalogTools(load_config(), use_embedder=False)
    extraction = catalog_work.extract_product(store, media, tools, product, None)
    store.update_product(product["id"], {"extraction": extraction, "attributes": cardigan["attributes"]})
    app = create_app(store, media, None, "", bus=MemoryBus(), web_dir=REPO / "livecut" / "web", catalog=tools)
    with serving(app) as base:
        yield base, store, media, product["id"]
    app.state.api.detail.close()
    store.close()


@pytest.fixture
def artifacts() -> Path:
    folder = Path(os.environ.get("LIVECUT_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_product_walked_from_its_images_to_its_export(site, artifacts):
    base, store, media, pid = site
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/#/products")
        page.fill("input[name=username]", "olga")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.click(f'table.products tr[data-product-id="{pid}"] a')
        page.wait_for_selector("figure.product-image button.role")

        # Images: a role fixed by clicking it.
        first = store.product(pid)["images"][0]
        chip = page.locator(f'figure.product-image[data-key="{first}"] button.role')
        was = chip.get_attribute("data-role")
        chip.click()
        page.wait_for_selector(f'figure.product-image[data-key="{first}"] button.role:not([data-role="{was}"])')
        roles = {i["path"]: i["role"] for i in store.detail_plan(pid)["images"]}
        assert roles[first] != was
        assert any(i["role"] == roles[first] for i in store.product(pid)["extraction"]["images"] if i["path"] == first)

        # Attributes: the evidence's region outlined on its photo.
        with_region = next(
            key
            for key, item in store.product(pid)["extraction"]["attributes"].items()
            if item["evidence"].get("region") or any(m.get("region") for m in item["evidence"].get("mentions", []))
        )
        page.click(f'table.attributes tr[data-attribute="{with_region}"]')
        page.wait_for_selector("figure.product-image .evidence-box")
        said = page.locator("a.play-evidence").first
        room = store.rooms(tenant="brand-a")[0].id
        assert f"#/replay/{room}?t=12" in said.get_attribute("href"), "the host's words play from their time"

        # The steps approved with the keyboard, then the detail page rendered (r).
        for step in ("images", "attributes", "copy", "layout"):
            page.wait_for_selector(f"ol.steps li.current:text-is('{step}')")
            page.keyboard.press("a")
        page.wait_for_selector("ol.steps li.current:text-is('ready')")
        assert store.product(pid)["step"] == "ready"
        page.keyboard.press("r")
        page.wait_for_selector("img.detail-preview")
        page.wait_for_function("document.querySelector('img.detail-preview').naturalWidth > 0")
        page.screenshot(path=str(artifacts / "product.png"), full_page=True)

        # A slot edited: only its page re-renders.
        hero = page.locator("li.detail-page").first
        key = hero.get_attribute("data-page")
        hero.locator("button.edit-slot").first.click()
        page.fill("input.slot-input", "燕麦色羊毛开衫 温柔百搭")
        page.keyboard.press("Enter")
        page.wait_for_selector(f'li.detail-page[data-page="{key}"] img.page-preview')
        rendered = store.detail_render(pid, "taobao")
        assert list(rendered["page_renders"]) == [key]
        assert list(rendered["page_renders"][key]["pages"]) == [key]
        assert "燕麦色羊毛开衫 温柔百搭" in json.dumps(store.detail_plan(pid), ensure_ascii=False)

        # Export for Taobao (x).
        page.keyboard.press("x")
        page.wait_for_selector('.export-results li[data-platform="taobao"]')
        assert any(k.endswith("taobao/listing.json") for k in media.list(f"products/{pid}/exports/"))
        browser.close()
    preview = media.local_path(rendered["preview_key"]).read_bytes() if "preview_key" in rendered else b""
    assert preview.startswith(b"\x89PNG")
    (artifacts / "detail_preview.png").write_bytes(preview)
    assert not errors, f"JavaScript errors on the page: {errors}"
