"""Products over the API: tenancy, import, images, extraction, the confirm steps, export, lineups.

A real store, media folder and the catalog package behind FastAPI's TestClient (the tenants,
users and rooms of test_auth.py). Extraction runs without the sentence embedder (synonyms and
rules), which tests/test_catalog_cli.py exercises; the product photos are the committed fixtures.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from test_auth import World, make_app, populate, ready_clip

from livecut.bus import MemoryBus
from livecut.config import load_config
from livecut.runtime.catalog_tools import CatalogTools
from livecut.store import MetadataStore
from stream.media_store import LocalMediaStore

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"
DRESS = {"sku": "DRESS-002", "title": "红色A字连衣裙 无袖 修身 纯色 夏季", "brand": "Lumi", "price": 259}
CSV, JSON = {"Content-Type": "text/csv"}, {"Content-Type": "application/json"}
DRESS |= {"description": "棉95% 氨纶5%，夏天穿很凉快。", "aliases": ["红裙子", "半身裙"]}


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    store = MetadataStore(tmp_path / "livecut.db")
    media = LocalMediaStore(tmp_path / "media")
    bus = MemoryBus()
    tools = CatalogTools(load_config(), use_embedder=False)
    with TestClient(make_app(store, media, bus, tmp_path, catalog=tools)) as client:
        built = World(client, store, media, bus, tmp_path)
        populate(built)
        yield built
    store.close()


def send(world: World, method: str, path: str, user: str, **kw):
    return world.client.request(method, path, headers=world.auth(user) | kw.pop("headers", {}), **kw)


def create(world: World, user: str = "olga", body: dict | None = None) -> dict:
    reply = send(world, "POST", "/api/products", user, json=body or DRESS)
    assert reply.status_code == 201, reply.text
    return reply.json()


def upload(world: World, product_id: str, data: bytes, user: str = "olga"):
    return send(world, "POST", f"/api/products/{product_id}/images", user, content=data)


def actions(world: World, tenant: str) -> list[str]:
    return [row["action"] for row in world.store.audit_log(tenant)]


def test_products_belong_to_a_tenant_and_another_tenants_is_404(world):
    product = create(world)
    assert product["step"] == "images" and product["sku"] == "DRESS-002" and product["images"] == []
    path = f"/api/products/{product['id']}"
    assert world.get(path, "vic").json()["title"] == DRESS["title"], "a viewer reads"
    assert send(world, "POST", "/api/products", "vic", json=DRESS | {"sku": "X"}).status_code == 403
    for method in ("GET", "DELETE"):
        assert send(world, method, path, "bob").status_code == 404, "another tenant's product is not found"
    assert send(world, "PATCH", path, "bob", json={"title": "x"}).status_code == 404
    assert world.get("/api/products", "bob").json() == []
    assert send(world, "POST", "/api/products", "olga", json=DRESS).status_code == 409, "the sku is taken"
    assert send(world, "POST", "/api/products", "bob", json=DRESS).status_code == 201, "another tenant may use it"
    bad = send(world, "POST", "/api/products", "olga", json=DRESS | {"sku": "Y", "price": -1})
    assert bad.status_code == 422 and "price" in bad.text
    changed = send(world, "PATCH", path, "olga", json={"aliases": ["红色那条"], "price": 199}).json()
    assert changed["aliases"] == ["红色那条"] and changed["price"] == 199
    assert actions(world, "brand-a")[:2] == ["product.update", "product.create"]
    assert send(world, "DELETE", path, "olga").status_code == 200
    assert world.get(path, "olga").status_code == 404


def test_import_takes_csv_or_json_all_or_nothing_and_names_every_bad_row(world):
    csv = "sku,title,category,brand,price,images,aliases,description\nA-1,白色衬衫,apparel,Lumi,99,,衬衫,\n"
    reply = send(world, "POST", "/api/products/import", "olga", content=csv, headers=CSV)
    assert reply.json() == {"created": 1, "updated": 0, "skus": ["A-1"]}
    listing = json.dumps([{"sku": "A-1", "title": "白色衬衫 新款"}, {"sku": "B-2", "title": "黑色长裤"}])
    reply = send(world, "POST", "/api/products/import", "olga", content=listing, headers=JSON)
    assert reply.json()["created"] == 1 and reply.json()["updated"] == 1
    assert world.store.product_by_sku("brand-a", "A-1")["title"] == "白色衬衫 新款"

    bad = (FIXTURES / "products_bad.csv").read_bytes()
    reply = send(world, "POST", "/api/products/import", "olga", content=bad, headers=CSV)
    assert reply.status_code == 422
    errors = reply.json()["detail"]["errors"]
    assert len(errors) == 2 and "row 3.sku" in errors[0] and "row 4.price" in errors[1]
    assert world.store.product_by_sku("brand-a", "OK-1") is None, "nothing of a bad file is imported"

    with_images = (FIXTURES / "products.csv").read_bytes()
    reply = send(world, "POST", "/api/products/import", "olga", content=with_images, headers=CSV)
    assert reply.status_code == 422 and "row 2.images" in reply.json()["detail"]["errors"][0]
    reply = send(world, "POST", "/api/products/import", "olga", content="x", headers={"Content-Type": "text/plain"})
    assert reply.status_code == 415
    assert world.store.products("brand-b") == []


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: larger than the API's 64 KiB body limit."""
    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_go_into_the_media_store_checked_and_only_the_tenant_sees_them(world):
    product = create(world)
    large = noise_png(300)
    assert len(large) > 64 * 1024
    reply = upload(world, product["id"], large)
    assert reply.status_code == 201, reply.text
    key = reply.json()["images"][0]
    assert key.startswith(f"products/{product['id']}/images/") and key.endswith(".png")
    served = world.get(f"/media/{key}", "vic")
    assert served.status_code == 200, served.text
    assert served.content == large and served.headers["content-type"] == "image/png"
    assert world.get(f"/media/{key}", "bob").status_code == 404

    for name, expected in (("not_an_image.jpg", "not a readable image"), ("bomb_100mp.png", "decompression-bomb")):
        reply = upload(world, product["id"], (FIXTURES / name).read_bytes())
        assert reply.status_code == 422 and "image" in reply.json()["detail"] and expected in reply.json()["detail"]
    too_big = upload(world, product["id"], b"\0" * (20 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert upload(world, product["id"], large, user="bob").status_code == 404
    over_64_kib = DRESS | {"sku": "Z", "description": "x" * 70_000}
    assert send(world, "POST", "/api/products", "olga", json=over_64_kib).status_code == 413, "other routes keep 64 KiB"
    assert world.store.product(product["id"])["images"] == [key], "refused uploads add nothing"


def ready_product(world: World) -> dict:
    product = create(world)
    for name in ("packshot_red_dress.jpg", "model_navy_dress.jpg"):
        assert upload(world, product["id"], (FIXTURES / name).read_bytes()).status_code == 201
    return world.store.product(product["id"])


def step(world: World, product_id: str, name: str, body: dict, user: str = "olga"):
    return send(world, "POST", f"/api/products/{product_id}/steps/{name}", user, json=body)


def test_extraction_the_confirm_steps_and_the_brands_corrections(world):
    product = ready_product(world)
    pid = product["id"]
    assert step(world, pid, "attributes", {"action": "approve"}).status_code == 409, "the product is at images"
    extracted = send(world, "POST", f"/api/products/{pid}/extract", "olga").json()
    assert extracted["category"] == "apparel", "detected from the title and kept"
    found = extracted["extraction"]
    assert found["attributes"]["composition"]["value"] == {"cotton": 95, "spandex": 5}
    assert found["attributes"]["color"]["value"] == ["red", "navy"], "the title's red, the model shot's navy"
    assert [image["path"] for image in found["images"]] == product["images"], "images named by their media keys"
    assert str(world.root) not in json.dumps(found), "no server path leaks"
    assert send(world, "POST", f"/api/products/{pid}/extract", "bob").status_code == 404
    unknown = send(world, "POST", f"/api/products/{pid}/extract?category=furniture", "olga")
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("category:")

    reordered = list(reversed(product["images"]))
    stranger = {"action": "edit", "changes": {"images": ["products/x/1.jpg"]}}
    assert step(world, pid, "images", stranger).status_code == 422
    assert step(world, pid, "images", {"action": "approve"}).json()["step"] == "attributes"
    edit = {
        "action": "edit",
        "changes": {"attributes": {"color": ["burgundy", "navy"], "fit": "slim"}},
        "examples": [{"attribute": "neckline", "phrase": "小圆领", "value": "crew"}],
    }
    bad_example = edit | {"examples": [{"attribute": "fit"}]}
    assert step(world, pid, "attributes", bad_example).status_code == 422
    after = step(world, pid, "attributes", edit).json()
    assert after["step"] == "copy" and after["attributes"]["color"] == ["burgundy", "navy"]
    assert after["attributes"]["composition"] == {"cotton": 95, "spandex": 5}, "approved extracted values stay"
    kept = world.store.brand_corrections("brand-a", "Lumi")
    assert {"attribute": "color", "was": "red", "value": "burgundy"} in kept, "red was the brand's burgundy"
    assert {"attribute": "neckline", "phrase": "小圆领", "value": "crew"} in kept
    detail = world.store.audit_log("brand-a")[0]
    assert detail["action"] == "product.step.edit" and detail["detail"]["changes"] == edit["changes"]

    again = send(world, "POST", f"/api/products/{pid}/extract", "olga").json()["extraction"]["attributes"]
    assert again["color"]["value"] == ["burgundy", "navy"], "the brand's correction feeds its next extraction"
    assert again["color"]["evidence"]["corrected_from"] == ["red", "navy"]

    copy = {"action": "edit", "changes": {"titles": {"jd": "红色连衣裙"}, "description": "棉95% 氨纶5%。"}}
    assert step(world, pid, "copy", copy).json()["titles"] == {"jd": "红色连衣裙"}
    layout = {"action": "edit", "changes": {"images": reordered}}
    assert step(world, pid, "layout", layout).json()["images"] == reordered
    assert step(world, pid, "ready", {"action": "approve"}).status_code == 409
    assert world.store.product(pid)["step"] == "ready"
    assert actions(world, "brand-a").count("product.step.approve") == 1


def test_export_writes_listings_into_the_media_store_or_returns_the_zip(world):
    product = ready_product(world)
    pid = product["id"]
    reply = send(world, "POST", f"/api/products/{pid}/export?platform=taobao", "olga")
    assert reply.status_code == 200, reply.text
    keys = reply.json()["keys"]
    assert f"products/{pid}/exports/taobao/listing.json" in keys and any(k.endswith(".jpg") for k in keys)
    listing = world.get(f"/media/products/{pid}/exports/taobao/listing.json", "vic").json()
    assert listing["sku"] == "DRESS-002" and listing["title_length"]["value"] <= listing["title_length"]["max"]
    assert world.get(f"/media/products/{pid}/exports/taobao/listing.json", "bob").status_code == 404

    download = send(world, "POST", f"/api/products/{pid}/export?platform=jd&download=true", "olga")
    assert download.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert "jd/listing.json" in names and any(n.startswith("jd/images/") for n in names)

    unknown = send(world, "POST", f"/api/products/{pid}/export?platform=ebay", "olga")
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("platform:")
    send(world, "PATCH", f"/api/products/{pid}", "olga", json={"title": "红色连衣裙" * 8})
    refused = send(world, "POST", f"/api/products/{pid}/export?platform=taobao", "olga")
    assert refused.status_code == 422
    violations = refused.json()["detail"]["violations"]
    assert any(v.startswith("taobao: title:") and "never truncated" in v for v in violations)
    assert world.media.list(f"products/{pid}/exports/") == sorted(keys), "a refused export writes nothing"
    assert send(world, "POST", f"/api/products/{pid}/export?platform=taobao", "bob").status_code == 404


def test_a_rooms_lineup_and_clips_filtered_by_product(world):
    product = create(world)
    room = world.rooms["a"]
    lineup = {"entries": [{"link": 1, "sku": "DRESS-002"}]}
    reply = send(world, "PUT", f"/api/rooms/{room}/lineup", "olga", json=lineup)
    assert reply.status_code == 200 and reply.json()[0]["product"]["id"] == product["id"]
    assert world.get(f"/api/rooms/{room}/lineup", "vic").json()[0]["link"] == 1
    missing = send(world, "PUT", f"/api/rooms/{room}/lineup", "olga", json={"entries": [{"link": 2, "sku": "NOPE"}]})
    assert missing.status_code == 422 and "entries[0].sku" in missing.json()["detail"]["errors"][0]
    twice = {"entries": [{"link": 1, "sku": "DRESS-002"}, {"link": 2, "sku": "DRESS-002"}]}
    assert send(world, "PUT", f"/api/rooms/{room}/lineup", "olga", json=twice).status_code == 422
    assert send(world, "PUT", f"/api/rooms/{room}/lineup", "bob", json=lineup).status_code == 404
    assert world.store.audit_log("brand-a")[0]["action"] == "room.lineup"

    clip = ready_clip(room, "clip-dress", 20.0, 28.0)
    clip.product = "DRESS-002"
    world.store.save_clip(clip, 1.0)
    found = world.get("/api/clips?product=DRESS-002", "vic").json()
    assert [c["clip_id"] for c in found] == ["clip-dress"] and found[0]["product"] == "DRESS-002"
    assert world.get("/api/clips?product=DRESS-002", "bob").json() == []
