"""Detail pages over the API: the plan made from a product, slot and page edits (only the edited page
re-renders), renders per platform in the media store, the brand's confirm feeding its next plan; tenancy and audit.

A real store, media folder, the catalog package and Debian's chromium (through playwright) behind FastAPI's
TestClient (the tenants and users of test_auth.py); the product is the committed fixture CARD-001 with its photos.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from test_auth import World, make_app, populate

from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.catalog_tools import CatalogTools
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

pytestmark = pytest.mark.browser
pytest.importorskip("playwright.sync_api", reason="the playwright package drives the browser")
FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
CARDIGAN = next(
    p for p in json.loads((FIXTURES / "detail_products.json").read_text(encoding="utf-8")) if p["sku"] == "CARD-001"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("detail-api")
    store = MetadataStore(root / "livecut.db")
    media = LocalMediaStore(root / "media")
    tools = CatalogTools(load_config(), use_embedder=False)
    app = make_app(store, media, MemoryBus(), root, catalog=tools)
    with TestClient(app) as client:
        built = World(client, store, media, MemoryBus(), root)
        populate(built)
        yield built
    app.state.api.detail.close()
    assert not app.state.api.detail.started, "the server's shutdown closes the browser"
    store.close()


def send(world: World, method: str, path: str, user: str = "olga", **kw):
    return world.client.request(method, path, headers=world.auth(user), **kw)


def cardigan(world: World, sku: str) -> dict:
    """The fixture cardigan in tenant brand-a with its photos uploaded and its attributes confirmed."""
    fields = {k: CARDIGAN[k] for k in ("title", "category", "brand", "price", "description")} | {"sku": sku}
    product = send(world, "POST", "/api/products", json=fields).json()
    for name in CARDIGAN["images"]:
        reply = send(world, "POST", f"/api/products/{product['id']}/images", content=(FIXTURES / name).read_bytes())
        assert reply.status_code == 201, reply.text
    return world.store.update_product(product["id"], {"attributes": CARDIGAN["attributes"]})


@pytest.fixture(scope="module")
def product(world) -> dict:
    return cardigan(world, "CARD-001")


def slot_of(plan: dict, page: str, slot: str) -> dict:
    return next(s for p in plan["pages"] if p["key"] == page for s in p["slots"] if s["name"] == slot)


def test_the_plan_is_made_from_the_product_and_only_its_tenant_sees_it(world, product):
    path = f"/api/products/{product['id']}/detail"
    plan = send(world, "GET", path, "vic").json()
    assert plan["sku"] == "CARD-001" and plan["category"] == "apparel" and len(plan["pages"]) >= 5
    assert plan["base_dir"] == "" and str(world.root) not in json.dumps(plan), "no server path leaks"
    assert {i["path"] for i in plan["images"]} == set(product["images"])
    assert all(i["url"] == f"/media/{i['path']}" for i in plan["images"])
    assert world.store.detail_plan(product["id"])["sku"] == "CARD-001", "made once and stored"
    assert send(world, "GET", path, "bob").status_code == 404, "another tenant's product is not found"
    assert send(world, "POST", f"{path}/render", "vic", json={"platforms": ["jd"]}).status_code == 403
    assert send(world, "GET", "/api/products/nope/detail", "olga").status_code == 404

    # A detected role fixed by a person: in the plan and in the product's extraction.
    first = plan["images"][0]
    role = "label" if first["role"] != "label" else "detail"
    fixed = send(world, "POST", f"{path}/images/role", json={"path": first["path"], "role": role})
    assert fixed.status_code == 200 and fixed.json()["was"] == first["role"]
    assert {i["path"]: i["role"] for i in world.store.detail_plan(product["id"])["images"]}[first["path"]] == role
    send(world, "POST", f"{path}/images/role", json={"path": first["path"], "role": first["role"]})
    stranger = send(world, "POST", f"{path}/images/role", json={"path": "products/x/a.jpg", "role": "model"})
    assert stranger.status_code == 422 and stranger.json()["detail"].startswith("path:")
    assert send(world, "POST", f"{path}/images/role", json={"path": first["path"], "role": "hat"}).status_code == 422
    assert (
        send(world, "POST", f"{path}/images/role", "bob", json={"path": first["path"], "role": "model"}).status_code
        == 404
    )


def test_render_per_platform_then_an_edit_rerenders_only_its_page(world, product):
    pid, path = product["id"], f"/api/products/{product['id']}/detail"
    plan = send(world, "GET", path).json()
    page = plan["pages"][0]
    slot_path = f"{path}/pages/{page['key']}/slots/{next(s for s in page['slots'] if s['kind'] == 'text')['name']}"
    # A 广告法 word is kept but flagged; before any render, the edited page renders for Taobao.
    flagged = send(world, "PATCH", slot_path, json={"text": "全网最低价"}).json()
    assert flagged["slot"]["status"] == "flagged" and flagged["slot"]["notes"] and flagged["slot"]["source"] == "edit"
    assert list(flagged["renders"]) == ["taobao"] and list(flagged["renders"]["taobao"]["pages"]) == [page["key"]]

    reply = send(world, "POST", f"{path}/render", json={"platforms": ["taobao", "jd"]})
    assert reply.status_code == 200, reply.text
    renders = reply.json()["renders"]
    for platform in ("taobao", "jd"):
        done = renders[platform]
        assert done["ok"] and done["width"] == 750 and len(done["slices"]) >= 2
        for piece in done["slices"]:
            served = send(world, "GET", piece["url"], "vic")
            assert served.status_code == 200 and len(served.content) == piece["bytes"] <= done["max_bytes"]
        assert send(world, "GET", done["preview_url"], "vic").headers["content-type"] == "image/png"
        assert send(world, "GET", done["slices"][0]["url"], "bob").status_code == 404
        assert world.store.detail_render(pid, platform)["page_renders"] == {}, "a whole render replaces page renders"
    unknown = send(world, "POST", f"{path}/render", json={"platforms": ["taobao", "ebay"]})
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("platforms[1]:")
    assert set(send(world, "GET", path).json()["renders"]) == {"jd", "taobao"}

    edit = {"text": "燕麦色羊毛开衫 秋冬百搭"}
    reply = send(world, "PATCH", slot_path, json=edit)
    assert reply.status_code == 200, reply.text
    edited = reply.json()
    assert edited["slot"]["text"] == edit["text"] and edited["slot"]["status"] == "filled"
    assert set(edited["renders"]) == {"jd", "taobao"}, "the page re-renders for each platform rendered"
    for platform, done in edited["renders"].items():
        assert list(done["pages"]) == [page["key"]], "only the edited page is rendered"
        assert all(piece["file"].startswith(f"page_{page['key']}_") for piece in done["slices"])
        kept = world.store.detail_render(pid, platform)
        assert kept["page_renders"][page["key"]]["slices"] == done["slices"]
        assert len(kept["slices"]) == len(renders[platform]["slices"]), "the whole page's render is kept"
    assert edit["text"] in json.dumps(world.store.detail_plan(pid), ensure_ascii=False)

    image_page = next(p for p in plan["pages"] if any(s["kind"] == "image" and s["image"] for s in p["slots"]))
    image_slot = next(s for s in image_page["slots"] if s["kind"] == "image" and s["image"])
    other = next(i["path"] for i in plan["images"] if i["path"] != image_slot["image"])
    slot_path = f"{path}/pages/{image_page['key']}/slots/{image_slot['name']}"
    chosen = send(world, "PATCH", slot_path, json={"image": other}).json()
    assert chosen["slot"]["image"] == other and chosen["slot"]["image_url"] == f"/media/{other}"
    assert send(world, "PATCH", slot_path, json={"image": "products/x/images/a.jpg"}).status_code == 422
    assert send(world, "PATCH", slot_path, json={"text": "a", "image": other}).status_code == 422
    assert send(world, "PATCH", slot_path, json={"text": "文字"}).status_code == 422, "an image slot takes no text"
    assert send(world, "PATCH", f"{path}/pages/nope/slots/x", json={"text": "a"}).status_code == 404
    assert send(world, "PATCH", slot_path, "bob", json={"image": other}).status_code == 404
    actions = [row["action"] for row in world.store.audit_log("brand-a")]
    assert actions.count("product.detail.slot") == 3 and "product.detail.render" in actions


def test_pages_move_and_go_and_the_confirmed_plan_is_where_the_brands_next_starts(world, product):
    path = f"/api/products/{product['id']}/detail"
    plan = send(world, "GET", path).json()
    keys = [p["key"] for p in plan["pages"]]
    last = keys[-1]
    moved = send(world, "POST", f"{path}/pages/{last}/move", json={"index": 0}).json()
    assert [p["key"] for p in moved["pages"]] == [last, *keys[:-1]]
    assert send(world, "POST", f"{path}/pages/{last}/move", json={"index": 99}).status_code == 422
    gone = keys[1]
    reply = send(world, "DELETE", f"{path}/pages/{gone}")
    assert reply.status_code == 200 and gone not in [p["key"] for p in reply.json()["pages"]]
    assert reply.json()["removed"] == [gone]
    assert send(world, "DELETE", f"{path}/pages/{gone}").status_code == 404

    confirmed = send(world, "POST", f"{path}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    memory = world.store.brand_detail_memory("brand-a", "Lumi")
    assert memory["confirmed"] == 1 and memory["orders"]["apparel"][0] == last
    assert gone in memory["removed"]["apparel"]

    following = cardigan(world, "CARD-002")
    nxt = send(world, "GET", f"/api/products/{following['id']}/detail").json()
    order = [p["key"] for p in nxt["pages"]]
    assert order[0] == last and gone not in order, "the brand's next plan starts from what it kept"
    # Starting over: the next read makes a new plan from the product as it is, in the brand's order.
    assert send(world, "DELETE", path, "bob").status_code == 404
    assert send(world, "DELETE", path).json() == {"ok": True, "existed": True}
    assert world.store.detail_plan(product["id"]) is None and world.store.detail_renders(product["id"]) == {}
    again = send(world, "GET", path).json()
    assert [p["key"] for p in again["pages"]] == order and again["removed"] == []
    actions = [row["action"] for row in world.store.audit_log("brand-a")]
    assert {"product.detail.move", "product.detail.remove", "product.detail.confirm"} <= set(actions)
    assert "product.detail.reset" in actions
    assert world.store.brand_detail_memory("brand-b", "Lumi") is None


def test_a_plan_with_a_required_slot_flagged_is_not_confirmed(world):
    bare = send(world, "POST", "/api/products", json={"sku": "BARE-1", "title": "羊毛开衫", "category": "apparel"})
    pid = bare.json()["id"]
    image = Image.new("RGB", (400, 500), (200, 180, 160))
    local = world.root / "plain.jpg"
    image.save(local)
    send(world, "POST", f"/api/products/{pid}/images", content=local.read_bytes())
    plan = send(world, "GET", f"/api/products/{pid}/detail").json()
    if plan["ready"]:
        pytest.fail(f"a product without attributes should leave a required slot flagged: {plan['issues']}")
    refused = send(world, "POST", f"/api/products/{pid}/detail/confirm")
    assert refused.status_code == 409 and refused.json()["detail"]["issues"] == plan["issues"]
    assert world.store.brand_detail_memory("brand-a", "") is None
