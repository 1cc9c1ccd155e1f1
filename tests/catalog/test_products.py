import pytest

from catalog import CatalogError, ImportErrors, load_products
from tests.catalog.conftest import FIXTURES


def test_csv_import():
    products = load_products(FIXTURES / "products.csv")
    assert [p.sku for p in products] == ["CARD-001", "SKIRT-003"]
    assert products[0].images == ["mannequin_beige_sweater.jpg", "hangtag_wool.png"]
    assert products[0].aliases == ["这件开衫", "燕麦色那件"]
    assert products[1].price == 199.5 and products[1].category == "apparel"


def test_json_import():
    products = load_products(FIXTURES / "products.json")
    assert [p.sku for p in products] == ["CARD-001", "DRESS-002"]
    assert products[0].speech[0]["sublabel"] == "fit"


def test_bad_rows_are_all_reported_and_nothing_is_imported():
    with pytest.raises(ImportErrors) as caught:
        load_products(FIXTURES / "products_bad.csv")
    assert caught.value.errors == ["row 3.sku: is required", "row 4.price: '九十九' is not a price"]


def test_duplicate_sku_and_bad_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('[{"sku": "A", "title": "x"}, {"sku": "A", "title": "y"}]', encoding="utf-8")
    with pytest.raises(ImportErrors, match=r"products\[1\]\.sku: 'A' appears twice"):
        load_products(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError, match="^file: p.json is not JSON"):
        load_products(path)
    with pytest.raises(CatalogError, match="^file: .*reads .csv or .json"):
        load_products(tmp_path / "p.xlsx")
