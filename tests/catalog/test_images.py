import pytest

from catalog import CatalogError, analyse_image
from tests.catalog.conftest import FIXTURES


@pytest.mark.parametrize(
    ("name", "role", "color"),
    [
        ("packshot_red_dress.jpg", "packshot", "red"),
        ("model_navy_dress.jpg", "model", "navy"),  # the skin of the person is not the product's colour
        ("mannequin_beige_sweater.jpg", "mannequin", "beige"),
        ("flatlay_green_sweater.jpg", "flat_lay", "green"),
        ("detail_plaid.jpg", "detail", "navy"),
    ],
)
def test_roles_and_dominant_colors(name, role, color):
    analysis = analyse_image(FIXTURES / name, "images[0]", ocr="never")
    assert analysis.role == role
    assert analysis.colors[0].key == color
    assert analysis.colors[0].share > 0.5
    named = analysis.to_json()["colors"][0]
    assert named["en"] and named["zh"]


def test_hang_tag_is_a_label_and_its_text_is_read():
    analysis = analyse_image(FIXTURES / "hangtag_wool.png", "images[1]")
    assert analysis.role == "label"
    text = "".join(line.text for line in analysis.text)
    assert "羊毛80%" in text and "羊绒20%" in text and "聚酯纤维100%" in text


def test_over_50_megapixels_is_refused_before_decoding():
    with pytest.raises(CatalogError, match=r"^images\[2\]: .*10000x10000 = 100.0 megapixels, over the limit of 50"):
        analyse_image(FIXTURES / "bomb_100mp.png", "images[2]")


@pytest.mark.parametrize(
    ("name", "message"), [("not_an_image.jpg", "not a readable image"), ("missing.jpg", "does not exist")]
)
def test_unreadable_images_name_the_field(name, message):
    with pytest.raises(CatalogError, match=rf"^images\[0\]: .*{message}"):
        analyse_image(FIXTURES / name, "images[0]")


def test_unsupported_format_names_the_field(tmp_path):
    from PIL import Image

    Image.new("RGB", (10, 10)).save(tmp_path / "x.tiff")
    with pytest.raises(CatalogError, match=r"^images\[3\]: .*TIFF; supported"):
        analyse_image(tmp_path / "x.tiff", "images[3]")
