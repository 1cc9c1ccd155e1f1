"""The detail-page tables in the metadata store (plans, renders per platform, brand memory), on SQLite and on a
real PostgreSQL server alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers.postgres import postgres_server_fixture, postgres_url_fixture

from livecut.store import MetadataStore

postgres_server = postgres_server_fixture()
postgres_url = postgres_url_fixture()

SWEATER = {"sku": "CARD-001", "title": "燕麦色羊毛针织开衫", "brand": "Lumi"}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path: Path):
    target = tmp_path / "livecut.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = MetadataStore(target)
    yield opened
    opened.close()


def test_a_products_plan_and_renders_are_replaced_in_place_and_go_with_the_product(store):
    assert "0011_detail_pages.sql" in store.migrations_applied
    product = store.create_product("brand-a", SWEATER)
    pid = product["id"]
    assert store.detail_plan(pid) is None and store.detail_renders(pid) == {}
    first = store.save_detail_plan(pid, {"sku": "CARD-001", "pages": [{"key": "hero"}], "note": "燕麦色"})
    kept = store.detail_plan(pid)
    assert kept["pages"] == [{"key": "hero"}] and kept["note"] == "燕麦色" and kept["updated_at"] == first
    second = store.save_detail_plan(pid, {"sku": "CARD-001", "pages": []})
    assert store.detail_plan(pid)["pages"] == [] and second >= first

    store.save_detail_render(pid, "taobao", {"slices": ["a.jpg"], "violations": []})
    store.save_detail_render(pid, "jd", {"slices": ["b.jpg"], "violations": ["too tall"]})
    store.save_detail_render(pid, "taobao", {"slices": ["c.jpg"], "violations": []})
    renders = store.detail_renders(pid)
    assert list(renders) == ["jd", "taobao"] and renders["taobao"]["slices"] == ["c.jpg"]
    assert store.detail_render(pid, "jd")["violations"] == ["too tall"]
    assert store.detail_render(pid, "tmall") is None

    assert store.delete_product(pid)
    assert store.detail_plan(pid) is None and store.detail_renders(pid) == {}, "the detail page goes with it"

    other = store.create_product("brand-a", SWEATER | {"sku": "CARD-002"})["id"]
    store.save_detail_plan(other, {"pages": []})
    store.save_detail_render(other, "jd", {"slices": []})
    assert store.delete_detail_plan(other) and not store.delete_detail_plan(other)
    assert store.detail_renders(other) == {}


def test_brand_memory_is_kept_per_tenant_and_brand(store):
    assert store.brand_detail_memory("brand-a", "Lumi") is None
    store.save_brand_detail_memory("brand-a", "Lumi", {"brand": "Lumi", "confirmed": 1})
    store.save_brand_detail_memory("brand-a", "Lumi", {"brand": "Lumi", "confirmed": 2})
    store.save_brand_detail_memory("brand-a", "", {"brand": "", "confirmed": 1})
    assert store.brand_detail_memory("brand-a", "Lumi")["confirmed"] == 2
    assert store.brand_detail_memory("brand-a", "")["confirmed"] == 1
    assert store.brand_detail_memory("brand-b", "Lumi") is None, "another tenant's brand of the same name"
