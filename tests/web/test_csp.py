"""The operator page under its Content-Security-Policy, in Debian's chromium (issue 11, finding 7).

The API serves the page with a CSP that refuses inline script and inline style attributes; this
signs in and opens the queue and a room's replay (whose timeline positions everything with
styles set from script) and checks that the browser refused nothing and the styles took effect.
The app runs in uvicorn on a free port with a real store; no models, no media pipeline.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from test_auth import PASSWORD, World, make_app, populate

from livecut.bus import MemoryBus
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

WEB = Path(__file__).resolve().parents[2] / "livecut" / "web"
CHROMIUM = "/usr/bin/chromium"

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def site(tmp_path):
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    app = make_app(store, media, MemoryBus(), tmp_path, web_dir=WEB)
    world = World(None, store, media, None, tmp_path)
    populate(world)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", world
    server.should_exit = True
    thread.join(10)
    store.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_page_works_under_its_csp_and_refuses_inline_script(site):
    base, world = site
    console: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        page = browser.new_page(base_url=base)
        page.set_default_timeout(15_000)
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.goto("/")
        page.wait_for_selector("form.login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_selector("section.queue .filters")
        page.goto(f"/#/replay/{world.rooms['a']}")
        page.wait_for_selector(".tl-ticks span")
        lefts = page.eval_on_selector_all(".tl-ticks span", "spans => spans.map(s => s.style.left)")
        injected = page.evaluate(
            """() => { window.injected = false;
                       const s = document.createElement('script');
                       s.textContent = 'window.injected = true';
                       document.body.append(s); return window.injected; }"""
        )
        browser.close()
    assert lefts[0] == "0%" and lefts[-1] == "100%", "styles set from script survive the CSP"
    assert injected is False, "an injected inline script does not run"
    refused = [line for line in console if "Content Security Policy" in line]
    assert len(refused) == 1 and "script-src" in refused[0], refused  # only the injected one
    assert not [line for line in console if line.startswith("pageerror")], console
