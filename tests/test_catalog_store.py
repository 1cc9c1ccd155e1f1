"""The catalog's tables in the metadata store, on SQLite and on a real PostgreSQL server alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers.postgres import postgres_server_fixture, postgres_url_fixture

from livecut.contracts import ClipReady, ClipRequest, Utterance
from livecut.contracts.codec import decode, encode
from livecut.store import CatalogConflict, MetadataStore

postgres_server = postgres_server_fixture()
postgres_url = postgres_url_fixture()

SWEATER = {"sku": "CARD-001", "title": "燕麦色羊毛针织开衫", "brand": "Lumi", "price": 399.0, "aliases": ["这件开衫"]}
SKIRT = {"sku": "SKIRT-1", "title": "黑色百褶半身裙", "brand": "Lumi", "images": ["products/x/images/1.jpg"]}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path: Path):
    target = tmp_path / "livecut.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = MetadataStore(target)
    yield opened
    opened.close()


def test_products_are_tenant_owned_with_a_sku_unique_per_tenant_and_imported_all_or_nothing(store):
    made = store.create_product("brand-a", SWEATER)
    assert made["step"] == "images" and made["aliases"] == ["这件开衫"] and made["titles"] == {}
    assert made["price"] == 399.0 and made["extraction"] is None
    with pytest.raises(CatalogConflict, match="CARD-001"):
        store.create_product("brand-a", SWEATER)
    other = store.create_product("brand-b", SWEATER)  # another tenant may use the same sku
    assert other["id"] != made["id"]
    assert [p["sku"] for p in store.products("brand-a")] == ["CARD-001"]
    assert store.product_by_sku("brand-b", "CARD-001")["id"] == other["id"]

    edit = {"attributes": {"fit": "loose"}, "step": "copy", "titles": {"jd": "开衫"}}
    changed = store.update_product(made["id"], edit)
    assert {k: changed[k] for k in edit} == edit
    assert changed["updated_at"] >= made["updated_at"]
    with pytest.raises(ValueError, match="step"):
        store.update_product(made["id"], {"step": "shipped"})
    store.create_product("brand-a", SKIRT)
    with pytest.raises(CatalogConflict):
        store.update_product(made["id"], {"sku": "SKIRT-1"})
    assert store.update_product("nope", {"title": "x"}) is None

    # An import creates and updates by sku, all or nothing.
    store.delete_product(store.product_by_sku("brand-a", "SKIRT-1")["id"])
    created, updated = store.import_products("brand-a", [SKIRT, {**SWEATER, "title": "新标题"}])
    assert (created, updated) == (1, 1)
    assert store.product_by_sku("brand-a", "CARD-001")["title"] == "新标题"
    with pytest.raises(KeyError):  # a row without a sku: nothing of the batch is written
        store.import_products("brand-a", [{"sku": "NEW-1", "title": "a"}, {"title": "no sku"}])
    assert store.product_by_sku("brand-a", "NEW-1") is None


def test_a_lineup_names_products_by_link_and_its_version_moves_with_changes(store):
    room = store.create_room("live", "push", tenant="brand-a")
    sweater, skirt = store.create_product("brand-a", SWEATER), store.create_product("brand-a", SKIRT)
    assert store.lineup(room.id) == [] and store.lineup_version(room.id) is None
    store.set_lineup(room.id, [(2, skirt["id"]), (1, sweater["id"])])
    lineup = store.lineup(room.id)
    assert [(e["link"], e["product"]["sku"]) for e in lineup] == [(1, "CARD-001"), (2, "SKIRT-1")]
    assert lineup[0]["product"]["aliases"] == ["这件开衫"]
    first = store.lineup_version(room.id)
    store.update_product(skirt["id"], {"aliases": ["半身裙"]})
    second = store.lineup_version(room.id)
    assert second > first, "a product on the lineup changed: its linker must be rebuilt"
    with pytest.raises(CatalogConflict, match="link number"):
        store.set_lineup(room.id, [(1, sweater["id"]), (1, skirt["id"])])
    with pytest.raises(CatalogConflict, match="product appears twice"):
        store.set_lineup(room.id, [(1, sweater["id"]), (2, sweater["id"])])
    assert len(store.lineup(room.id)) == 2, "a refused lineup leaves the old one"
    assert store.delete_product(skirt["id"]) and not store.delete_product(skirt["id"])
    assert [e["product"]["sku"] for e in store.lineup(room.id)] == ["CARD-001"]
    assert store.lineup_version(room.id) > second


def test_utterances_and_clips_carry_their_product_and_brands_keep_their_corrections(store):
    room = store.create_room("live", "push", tenant="brand-a")
    store.create_product("brand-a", SWEATER)
    said = Utterance(room.id, 1.0, 3.0, "1号链接这件开衫", "zh", product="CARD-001")
    store.add_utterance(said)
    store.add_utterance(Utterance(room.id, 4.0, 6.0, "欢迎", "zh"))
    assert [u["product"] for u in store.utterances(room.id)] == ["CARD-001", None]
    assert store.last_product(room.id, 10.0) == "CARD-001" and store.last_product(room.id, 1.0) is None
    assert store.linked_utterances(room.id, 2.0, 5.0) == [(1.0, 3.0, "CARD-001"), (4.0, 6.0, None)]
    assert [u["text"] for u in store.product_utterances("brand-a", "CARD-001")] == ["1号链接这件开衫"]
    assert store.product_utterances("brand-b", "CARD-001") == []

    request = ClipRequest("c1", room.id, "live", 1.0, 9.0, "selling_point", "fabric", "t", product="CARD-001")
    assert store.queue_clip(request)
    assert store.clip("c1")["product"] == "CARD-001"
    ready = ClipReady("c1", room.id, "live", 1.0, 9.0, "selling_point", "fabric", "t", "v", "c", "c", "t", 8.0)
    ready.product = "CARD-001"
    store.save_clip(ready, 1.0)
    store.save_clip(
        ClipReady("c2", room.id, "live", 20.0, 28.0, "price_promo", None, "t", "v", "c", "c", "t", 8.0), 1.0
    )
    assert [c["clip_id"] for c in store.clips(product="CARD-001", tenant="brand-a")] == ["c1"]
    assert store.clips(product="CARD-001", tenant="brand-b") == []
    assert store.clip("c1")["product"] == "CARD-001" and store.clip("c2")["product"] is None

    # A sku renamed: what was said and clipped follows it.
    store.update_product(store.product_by_sku("brand-a", "CARD-001")["id"], {"sku": "CARD-9"})
    assert store.clip("c1")["product"] == "CARD-9" and store.last_product(room.id, 10.0) == "CARD-9"

    # A brand's corrections are kept per tenant and brand, oldest first.
    store.add_brand_corrections("brand-a", "Lumi", [{"attribute": "fit", "phrase": "落肩", "value": "loose"}])
    store.add_brand_corrections("brand-a", "Lumi", [{"attribute": "color", "was": "khaki", "value": "beige"}])
    store.add_brand_corrections("brand-a", "Other", [{"attribute": "fit", "phrase": "x", "value": "slim"}])
    assert [e["attribute"] for e in store.brand_corrections("brand-a", "Lumi")] == ["fit", "color"]
    assert store.brand_corrections("brand-b", "Lumi") == []


def test_events_with_a_product_travel_and_old_values_without_one_still_decode():
    said = Utterance("r", 1.0, 2.0, "1号链接", "zh", product="CARD-001")
    assert decode(encode(said)) == said
    old = b'{"v":1,"type":"ClipRequest","data":{"clip_id":"c","room":"r","source":"s","t0":0,"t1":1,"label":"l",'
    old += b'"sublabel":null,"text":"t"}}'
    assert decode(old).product is None
