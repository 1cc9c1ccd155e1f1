import pytest
from detail_support import BANNED, EXCEPTIONS, FIXTURES


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


@pytest.fixture(scope="session")
def settings():
    from catalog.detail import DetailSettings

    return DetailSettings(ad_law_phrases=BANNED, ad_law_exceptions=EXCEPTIONS)


@pytest.fixture(scope="module")
def renderer(settings):
    from catalog.detail import DetailRenderer

    with DetailRenderer(settings) as opened:
        yield opened
