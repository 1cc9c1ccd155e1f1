"""The Posts page and the queue's Schedule action in a real browser (Debian's chromium driven by playwright),
against the API served by uvicorn on a free port over a real SQLite store: an operator schedules an approved
clip from the queue with `s`, sees the plan on the Posts page and cancels it; an admin adds an account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import serving

from livecut.api import create_app
from livecut.auth import hash_password
from livecut.bus import MemoryBus
from livecut.contracts import ClipReady
from livecut.runtime.posting import DistributionSettings
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "posts page password"
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, MetadataStore]]:
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    store.ensure_tenant("brand-a", "brand")
    store.create_user("ada", "brand-a", "admin", hash_password(PASSWORD))
    room = store.create_room("spring live", "push", tenant="brand-a")
    clip = ClipReady(
        "clip-1", room.id, f"room:{room.id}", 1.0, 9.0, "price_promo", None, "今天只要九十九",
        f"rooms/{room.id}/clips/clip-1.mp4", "", "", "", 8.0,
    )  # fmt: skip
    store.save_clip(clip, 1.0)
    now = datetime.now(UTC)
    store.create_account(
        {
            "account_id": "dy-1",
            "tenant": "brand-a",
            "platform": "douyin",
            "display_name": "旗舰店",
            "group": "g1",
            "windows": [f"{now - timedelta(hours=3):%H:%M}-{now + timedelta(hours=3):%H:%M}"],
            "timezone": "UTC",
            "extra": {"open_id": "o-1"},
        }
    )
    settings = DistributionSettings(handoff_dir=tmp_path / "handoff")
    app = create_app(store, media, None, "", bus=MemoryBus(), web_dir=REPO / "livecut" / "web", distribution=settings)
    with serving(app) as base:
        yield base, store
    store.close()


def test_schedule_from_the_queue_then_see_and_cancel_the_post(site):
    base, store = site
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_context(base_url=base).new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept("g1" if dialog.type == "prompt" else None))
        page.goto("/")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_selector('.card[data-clip-id="clip-1"]')
        page.click('.card[data-clip-id="clip-1"]')
        page.keyboard.press("s")
        page.wait_for_selector('.card[data-clip-id="clip-1"][data-status="approved"]')
        assert store.clip("clip-1")["status"] == "approved"
        page.click("nav >> text=Posts")
        page.wait_for_selector('table.accounts tr[data-account-id="dy-1"][data-status="active"]')
        row = page.locator("table.posts tr[data-status=planned]")
        row.wait_for()
        assert "dy-1" in row.inner_text() and "clip-1" in row.inner_text()
        row.locator("button", has_text="Cancel").click()
        page.wait_for_selector("table.posts tr[data-status=cancelled]")
        (post,) = store.posts("brand-a")
        assert post["status"] == "cancelled"
        page.fill("form.create-account input[name=account_id]", "hook-1")
        page.select_option("form.create-account select[name=platform]", "webhook")
        page.fill("form.create-account input[name=display_name]", "CMS")
        page.fill("form.create-account input[name=open_id]", "https://cms.example/hook")
        page.click("form.create-account button[type=submit]")
        page.wait_for_selector('table.accounts tr[data-account-id="hook-1"]')
        assert store.account("hook-1")["extra"] == {"url": "https://cms.example/hook"}
        browser.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
