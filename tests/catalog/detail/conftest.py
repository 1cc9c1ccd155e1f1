import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[2] / "fixtures" / "catalog"
BANNED = ("最[\u4e00-\u9fff]", "第一", "唯一|国家级")
EXCEPTIONS = ("最近|最后", "第一(次|个|款)")


def product(sku: str):
    from catalog import product_from_dict

    rows = json.loads((FIXTURES / "detail_products.json").read_text(encoding="utf-8"))
    return product_from_dict(next(r for r in rows if r["sku"] == sku))


@pytest.fixture(scope="session")
def analyses():
    """Each fixture image analysed once (roles by catalog.analyse_image, OCR where it looks like text)."""
    from catalog import analyse_image

    names = [
        "model_navy_dress.jpg",
        "packshot_red_dress.jpg",
        "mannequin_beige_sweater.jpg",
        "flatlay_green_sweater.jpg",
        "detail_plaid.jpg",
        "hangtag_wool.png",
    ]
    found = {}
    for name in names:
        analysis = analyse_image(FIXTURES / name, name)
        analysis.path = name
        found[name] = analysis
    return found


def images_of(prod, analyses):
    return [analyses[p] for p in prod.images]


@pytest.fixture(scope="session")
def settings():
    from catalog.detail import DetailSettings

    return DetailSettings(ad_law_phrases=BANNED, ad_law_exceptions=EXCEPTIONS)


@pytest.fixture(scope="module")
def renderer(settings):
    from catalog.detail import DetailRenderer

    with DetailRenderer(settings) as opened:
        yield opened
