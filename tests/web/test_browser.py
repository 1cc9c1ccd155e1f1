"""The operator web page in a real browser: Debian's chromium driven by playwright, against a real
`livecut serve` (the session `server` fixture) with real models and a real ffmpeg publisher.

The tests run in order on one page and one room: log in, see a live clip arrive without a
reload, approve it with the keyboard, trim another and see the re-rendered length, replay the
room and clip a range, and check that a viewer cannot approve. Screenshots of the queue and the
replay page go to $LIVECUT_TEST_ARTIFACTS (default: test-artifacts/ at the repository root).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from support import LIVECUT, Api, publish, settled, wait_for

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "livecut" / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A live room's first clip: ingest, transcription and rendering on a busy machine.
PIPELINE_TIMEOUT_S = 240
# Published in real time: fabric (8-19 s) is clipped when drape (20-31 s) begins.
PUBLISH_S = "40"
# From a clip's row in the store to its card on the page: the event stream polls every 0.5 s.
PAGE_DELAY_S = 5.0
RENDER_TIMEOUT_S = 120
VIEWER = ("viewer1", "viewer-password-1")

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("LIVECUT_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/install.sh"
    assert (WEB / "node_modules" / "hls.js" / "dist" / "hls.min.mjs").is_file(), (
        "hls.js is missing from livecut/web/node_modules: run scripts/install.sh"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, base: str, errors: list[str]):
    context = browser.new_context(base_url=base, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def log_in(page, username: str, password: str) -> None:
    page.goto("/")
    page.wait_for_selector("form.login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("section.queue .filters")


@pytest.fixture(scope="module")
def session(server, browser):
    """The operator's page (the first admin), the room it watches, and JS errors seen on it."""
    errors: list[str] = []
    page = new_page(browser, server["api"].base, errors)
    state = {"page": page, "errors": errors, "room": None}
    yield state
    page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def card(page, clip_id: str, status: str | None = None):
    return page.locator(f'.card[data-clip-id="{clip_id}"]' + (f'[data-status="{status}"]' if status else ""))


def ready_clips(api: Api, room_id: str) -> list[dict]:
    return [c for c in api.clips(room_id) if c["status"] == "ready"]


def save_screenshot(page, path: Path, capsys, full_page: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full_page)
    with capsys.disabled():  # shown without -s too
        print(f"\nscreenshot: {path}")


def wait_in_page(page, expression: str, timeout_s: float = 30.0) -> None:
    """Poll `expression` until it is true. Not page.wait_for_function: that evaluates a string with
    eval inside the page, which the page's Content-Security-Policy (no unsafe-eval) refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout_s} s: {expression}"
        time.sleep(0.1)


def shown_seconds(text: str) -> float:
    """'12.8 s' → 12.8"""
    return float(text.strip().removesuffix("s").strip())


def test_log_in_and_a_live_clip_appears_in_the_queue_without_reload(server, session, fixtures):
    api, page = server["api"], session["page"]
    page.goto("/")
    page.wait_for_selector("form.login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not the password")
    page.click("form.login button[type=submit]")
    page.wait_for_selector("form.login .form-error:text('Wrong username or password.')")
    log_in(page, "admin", api.password)
    assert page.locator("#who").inner_text().startswith("admin")
    # Set on this document: a reload would lose it.
    page.evaluate("window.__sameDocument = true")

    room = api.create_push_room("web queue")
    session["room"] = room
    publisher = publish(fixtures / "zh_live.mp4", room["rtmp_url"], realtime=True, extra=("-t", PUBLISH_S))
    first = page.wait_for_selector(f'.card[data-room="{room["id"]}"]', timeout=PIPELINE_TIMEOUT_S * 1000)
    seen = time.time()
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    made = api.get(f"/api/clips/{first.get_attribute('data-clip-id')}")[1]["created_at"]
    assert seen - made < PAGE_DELAY_S, f"the card came {seen - made:.1f} s after the clip"
    assert publisher.wait(timeout=60) == 0
    wait_for(lambda: settled(api, room["id"]), timeout=PIPELINE_TIMEOUT_S, what="the room to settle")
    clips = api.clips(room["id"])
    assert clips, "the room made no clip"
    for clip in clips:  # every clip of the room reached the page through the event stream
        card(page, clip["clip_id"], clip["status"]).wait_for()
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    order = page.eval_on_selector_all(f'.card[data-room="{room["id"]}"]', "cards => cards.map(c => c.dataset.clipId)")
    assert order == [c["clip_id"] for c in clips], "newest first, like the API"


def test_the_spoken_word_is_highlighted_while_the_clip_plays(server, session):
    api, page, room = server["api"], session["page"], session["room"]
    clip = ready_clips(api, room["id"])[0]
    word = clip["words"][len(clip["words"]) // 2]
    highlighted = card(page, clip["clip_id"]).locator(".transcript .word.current")
    # A clip update arriving meanwhile re-renders the card with a new video element (seen once in
    # CI under load: the seek went to the old one), so the seek is repeated until the card is still.
    # Video time 0 is the clip's in point on the room timeline.
    seek = (word["t0"] + word["t1"]) / 2 - clip["t0"]
    for _ in range(20):
        card(page, clip["clip_id"]).locator("video").evaluate(
            "(v, t) => new Promise(done => { const go = () => { v.addEventListener('seeked', done, {once: true});"
            " v.currentTime = t; };"
            " v.readyState >= 1 ? go() : v.addEventListener('loadedmetadata', go, {once: true}); })",
            seek,
        )
        if highlighted.count() == 1:
            break
        page.wait_for_timeout(250)
    assert highlighted.count() == 1 and highlighted.inner_text() == word["text"]


def test_approve_with_the_keyboard(server, session, artifacts, capsys):
    api, page, room = server["api"], session["page"], session["room"]
    clip = ready_clips(api, room["id"])[0]
    card(page, clip["clip_id"]).locator(".card-head").click()
    page.keyboard.press("a")
    card(page, clip["clip_id"], "approved").wait_for()
    wait_for(lambda: api.get(f"/api/clips/{clip['clip_id']}")[1]["status"] == "approved", 10, "the approval saved")
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, artifacts / "queue.png", capsys)


def test_trim_a_clip_and_see_the_re_rendered_duration(server, session, artifacts, capsys):
    api, page, room = server["api"], session["page"], session["room"]
    done = [c for c in api.clips(room["id"]) if c["status"] in ("ready", "approved")]
    clip = max(done, key=lambda c: c["t1"] - c["t0"])
    assert clip["t1"] - clip["t0"] > 4, clip
    target = card(page, clip["clip_id"])
    before = shown_seconds(target.locator(".duration").inner_text())
    target.locator(".card-head").click()
    page.keyboard.press("t")
    trim = target.locator("form.trim")
    trim.wait_for()
    t0, t1 = round(clip["t0"] + 1.0, 2), round(clip["t1"] - 1.5, 2)
    trim.locator("input[name=t0]").fill(str(t0))
    trim.locator("input[name=t1]").fill(str(t1))
    shown = trim.locator(".length").inner_text()  # "new length 8.5 s (was 11.0 s)"
    assert shown_seconds(shown.split()[2]) == pytest.approx(t1 - t0, abs=0.051), shown
    wait_in_page(page, "document.querySelector('form.trim video').readyState >= 2")  # the recording plays
    trim.scroll_into_view_if_needed()
    save_screenshot(page, artifacts / "trim.png", capsys)
    trim.locator("input[name=t1]").press("Enter")
    card(page, clip["clip_id"], "rendering").wait_for()
    card(page, clip["clip_id"], "ready").wait_for(timeout=RENDER_TIMEOUT_S * 1000)
    after = shown_seconds(target.locator(".duration").inner_text())
    assert after == pytest.approx(t1 - t0, abs=0.3) and after < before - 2
    saved = api.get(f"/api/clips/{clip['clip_id']}")[1]
    assert (saved["status"], saved["t0"], saved["t1"]) == ("ready", pytest.approx(t0), pytest.approx(t1))
    assert saved["duration"] == pytest.approx(after, abs=0.06)


def test_replay_the_room_and_clip_a_range(server, session, artifacts, capsys):
    api, page, room = server["api"], session["page"], session["room"]
    page.goto(f"/#/replay/{room['id']}")
    page.wait_for_selector("ol.utterances li")
    assert page.locator(".tl-segment").count() == len(api.get(f"/api/rooms/{room['id']}/utterances")[1])
    # hls.js plays the fragments: the recording has a length and a frame to show.
    wait_in_page(page, "(v => v.duration > 20 && v.readyState >= 2)(document.querySelector('video.replay-video'))")
    page.locator("ol.utterances li").nth(2).click()
    wait_in_page(page, "document.querySelector('video.replay-video').currentTime > 0.5")
    page.evaluate("document.querySelector('video.replay-video').pause()")
    page.fill(".range-form input[name=t0]", "2.0")
    page.fill(".range-form input[name=t1]", "6.0")
    page.select_option(".range-form select[name=label]", "price_promo")
    save_screenshot(page, artifacts / "replay.png", capsys, full_page=True)
    page.click(".range-form button[type=submit]")
    made = wait_for(
        lambda: [c for c in api.clips(room["id"]) if c["label"] == "price_promo" and c["t0"] == pytest.approx(2.0)],
        timeout=30,
        what="the range clip",
    )
    assert made[0]["t1"] == pytest.approx(6.0)
    page.locator(f'ul.room-clips li[data-clip-id="{made[0]["clip_id"]}"]').wait_for()


def test_a_viewer_cannot_approve(server, session, browser):
    api, room = server["api"], session["room"]
    added = subprocess.run(
        [*LIVECUT, "user", "add", VIEWER[0], "--tenant", "default", "--role", "viewer", "--password-stdin"]
        + ["--config", str(server["root"] / "config.toml")],
        input=VIEWER[1] + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    clip = ready_clips(api, room["id"])[0]
    errors: list[str] = []
    page = new_page(browser, api.base, errors)
    try:
        log_in(page, *VIEWER)
        target = card(page, clip["clip_id"])
        target.wait_for()
        assert page.locator("#who").inner_text() == f"{VIEWER[0]} · viewer"
        assert page.locator(".card button[data-action=approve]").count() > 0
        assert page.locator(".card button[data-action=approve]:enabled").count() == 0
        assert page.locator(".card button[data-action=trim]:enabled").count() == 0
        target.locator(".card-head").click()
        page.keyboard.press("a")
        page.wait_for_timeout(1000)
        assert target.get_attribute("data-status") == "ready"
        assert api.get(f"/api/clips/{clip['clip_id']}")[1]["status"] == "ready"
        page.goto("/#/rooms")
        page.wait_for_selector(f'tr[data-room-id="{room["id"]}"]')
        assert page.locator(".create-room").count() == 0
        assert page.locator("table.rooms button.reject:enabled").count() == 0
        assert room["stream_key"] not in page.content()
    finally:
        page.context.close()
    assert not errors, f"JavaScript errors on the viewer's page: {errors}"


def test_rooms_page_creates_shows_the_key_on_demand_stops_and_reports_errors(server, session):
    api, page = server["api"], session["page"]
    page.on("dialog", lambda dialog: dialog.accept())  # the stop confirmation
    page.goto("/#/rooms")
    form = page.locator("form.create-room")
    form.locator("input[name=name]").fill("obs room")
    form.locator("button[type=submit]").click()
    row = page.locator("table.rooms tr", has_text="obs room")
    row.wait_for()
    created = next(r for r in api.get("/api/rooms")[1] if r["name"] == "obs room")
    assert created["stream_key"] not in row.inner_text(), "the key stays hidden until asked for"
    assert row.locator(".rtmp-url").inner_text() == created["rtmp_url"].removesuffix("/" + created["stream_key"])
    row.locator("button.show-key").click()
    page.locator(f'tr[data-room-id="{created["id"]}"] .stream-key', has_text=created["stream_key"]).wait_for()
    page.locator(f'tr[data-room-id="{created["id"]}"] button.reject').click()
    page.locator(f'tr[data-room-id="{created["id"]}"][data-status="ended"]').wait_for()
    assert api.room(created["id"])["status"] == "ended"
    # livecut's error message reaches the operator as a toast, not a blank page.
    form.locator("select[name=type]").select_option("pull")
    form.locator("input[name=name]").fill("bad pull")
    form.locator("input[name=url]").fill("ftp://example.com/live")
    form.locator("button[type=submit]").click()
    page.locator(".toast-error", has_text="url must be").wait_for()


def test_relabel_and_bulk_approve_with_the_keyboard(server, session):
    api, page, room = server["api"], session["page"], session["room"]
    wait_for(lambda: settled(api, room["id"]), timeout=RENDER_TIMEOUT_S, what="the range clip to render")
    page.goto(f"/#/queue?room={room['id']}&status=ready")
    clips = ready_clips(api, room["id"])
    assert len(clips) >= 2, clips
    first, rest = clips[0], clips[1:]
    for clip in clips:
        card(page, clip["clip_id"], "ready").wait_for()
    card(page, first["clip_id"]).locator(".card-head").click()
    page.keyboard.press("l")
    relabel = card(page, first["clip_id"]).locator("form.relabel")
    relabel.locator("select[name=label]").select_option("call_to_action")
    relabel.locator("select[name=label]").press("Enter")
    card(page, first["clip_id"], "approved").locator(".label", has_text="call_to_action").wait_for()
    saved = api.get(f"/api/clips/{first['clip_id']}")[1]
    assert (saved["label"], saved["sublabel"], saved["status"]) == ("call_to_action", None, "approved")
    for clip in rest:
        card(page, clip["clip_id"]).locator(".card-head").click()
        page.keyboard.press("x")
    page.locator(".bulkbar", has_text=f"{len(rest)} selected").wait_for()
    page.keyboard.press("Shift+A")
    for clip in rest:
        card(page, clip["clip_id"], "approved").wait_for()
    wait_for(
        lambda: all(api.get(f"/api/clips/{c['clip_id']}")[1]["status"] == "approved" for c in rest),
        10,
        "the bulk approval saved",
    )
