from catalog import LineupEntry, Product, ProductLinker, product_of_span
from livecut.contracts import Utterance


def _lineup():
    products = [
        Product("SWEATER", "燕麦色羊毛毛衣", aliases=["这件毛衣", "燕麦色那件"]),
        Product("SKIRT", "黑色百褶半身裙", aliases=["半身裙"]),
        Product("COAT", "双面羊绒大衣", aliases=["大衣"]),
    ]
    return [LineupEntry("room-1", i + 1, p) for i, p in enumerate(products)]


def _say(texts):
    linker = ProductLinker(_lineup())
    out = []
    for i, text in enumerate(texts):
        link = linker.link(Utterance("room-1", i * 5.0, i * 5.0 + 4, text, "zh"))
        out.append((link.entry.product.sku, link.cue) if link else None)
    return out


def test_cues_names_pinyin_and_carry_forward():
    said = _say(
        [
            "欢迎来到直播间",  # nothing presented yet
            "我们先看1号链接",
            "这个面料很软",  # carried
            "好，下一款",
            "这条半身群很显瘦",  # Whisper's homophone of 半身裙: matched by pinyin
            "三号链接大衣来了",
            "再看这条",  # back to the previous one
            "燕麦色的这件毛衣库存不多",
        ]
    )
    assert said == [
        None,
        ("SWEATER", "link"),
        ("SWEATER", "carried"),
        ("SKIRT", "next"),
        ("SKIRT", "name"),
        ("COAT", "link"),
        ("SKIRT", "back"),
        ("SWEATER", "name"),
    ]


def test_chinese_numeral_links_and_unknown_link():
    assert _say(["链接二", "九号链接"]) == [("SKIRT", "link"), ("SKIRT", "carried")]


def test_clip_gets_the_product_covering_most_of_it():
    linked = [(0.0, 4.0, "SWEATER"), (4.0, 20.0, "SKIRT"), (20.0, 22.0, None)]
    assert product_of_span(2.0, 18.0, linked) == "SKIRT"
    assert product_of_span(30.0, 40.0, linked) is None
