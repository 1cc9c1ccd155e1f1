"""The room's lexicon, sound-alike correction recorded on the utterance, numbers in one form."""

import pytest

from livecut.config import load_config
from livecut.contracts import Utterance, Word
from livecut.contracts.codec import decode, encode
from segmenter.lexicon import build_lexicon, taxonomy_terms
from segmenter.pinyin_correction import CorrectionSettings
from segmenter.room_vocabulary import RoomVocabulary, VocabularySettings
from segmenter.taxonomy import load_taxonomy


@pytest.fixture(scope="module")
def vocabulary() -> RoomVocabulary:
    terms = tuple(taxonomy_terms(load_taxonomy(load_config()["taxonomy"])))
    return RoomVocabulary(VocabularySettings(taxonomy_terms=terms), product_terms=["碎花连衣裙", "冰丝", "2号链接"])


def zh(text: str) -> Utterance:
    """One word per character, 0.2 s each, as Whisper times Mandarin."""
    words = [Word(round(i * 0.2, 3), round(i * 0.2 + 0.2, 3), ch) for i, ch in enumerate(text)]
    return Utterance("room", 0.0, len(text) * 0.2, text, "zh", words)


def test_the_lexicon_holds_products_first_then_shipped_and_taxonomy_words():
    lexicon = build_lexicon(["碎花连衣裙"], ["面料", "显瘦"])
    assert lexicon.terms[0] == "碎花连衣裙"
    assert {"小黄车", "链接", "领券", "到手价", "拍", "码", "面料", "显瘦"} <= set(lexicon.terms)
    assert len(lexicon.hotwords(20)) <= 20 and lexicon.hotwords(20).startswith("碎花连衣裙 ")


@pytest.mark.parametrize("bad", ["", "  ", 42, "这是一段很长很长很长的商品描述文字"])
def test_a_bad_product_term_is_refused_naming_its_index(bad):
    with pytest.raises(ValueError, match=r"product_terms\[1\]"):
        build_lexicon(["冰丝", bad])


def test_bad_correction_settings_name_the_key():
    with pytest.raises(ValueError, match="lexicon.max_distance"):
        CorrectionSettings(max_distance=-1)
    with pytest.raises(ValueError, match="lexicon.hotwords_max_chars"):
        VocabularySettings(hotwords_max_chars=0)


@pytest.mark.parametrize(
    ("heard", "fixed"),
    [
        ("穿上很闲兽", "穿上很显瘦"),
        ("面料的成分是天然线为", "面料的成分是天然纤维"),
        ("领口有手工刺秀的小花", "领口有手工刺绣的小花"),
        ("直接拍三号练结", "直接拍三号链接"),
        ("这条碎花连衣群是冰思的", "这条碎花连衣裙是冰丝的"),
    ],
)
def test_misheard_lexicon_words_are_corrected(vocabulary, heard, fixed):
    u = zh(heard)
    vocabulary.correct_words(u)
    assert u.text == fixed
    assert "".join(w.text for w in u.words) == fixed


@pytest.mark.parametrize("text", ["这真是太好了", "我们一起连接", "三百五十九", "今天天气真不错"])
def test_common_words_and_numbers_are_never_changed(vocabulary, text):
    u = zh(text)
    vocabulary.correct_words(u)
    assert u.text == text and u.corrections == []


def test_each_change_is_recorded_and_can_be_undone_and_survives_the_wire(vocabulary):
    u = vocabulary.apply(zh("穿上很闲兽，原价三百五十九"))
    assert u.text == "穿上很显瘦，原价359"
    assert [(c.original, c.replacement, c.kind) for c in u.corrections] == [
        ("闲兽", "显瘦", "lexicon"),
        ("三百五十九", "359", "number"),
    ]
    assert u.original_text == "穿上很闲兽，原价三百五十九"
    assert [w.text for w in u.words][-3:] == ["原", "价", "359"]
    assert decode(encode(u)) == u
    assert u.to_record()["corrections"][1]["replacement"] == "359"


def test_english_is_left_to_whisper(vocabulary):
    u = Utterance("room", 0.0, 1.0, "Grab the link now.", "en", [Word(0.0, 1.0, " Grab the link now.")])
    vocabulary.apply(u)
    assert u.text == "Grab the link now." and u.corrections == []


def test_values_written_before_these_fields_still_decode():
    old = (
        b'{"v":1,"type":"Utterance","data":{"room":"r","t0":0.0,"t1":1.0,"text":"\xe8\xaf\x9d","lang":"zh",'
        b'"words":[],"label":null,"sublabel":null,"confidence":0.0,"received_at":0.0,"needs_review":false,'
        b'"time_bound":false,"banned_claims":[]}}'
    )
    u = decode(old)
    assert (u.product, u.corrections, u.original_text) == (None, [], "话")


def test_common_words_preloaded_on_a_thread_are_read_once_and_serve_the_first_room():
    from segmenter import pinyin_correction

    pinyin_correction._read_common_words.cache_clear()
    # A frequency no other test uses, so this process has not read it yet.
    settings = CorrectionSettings(common_word_frequency=21)
    pinyin_correction.preload_common_words(settings)
    # The first room asks at once, while the thread reads: it waits for that read instead of its own.
    words = pinyin_correction._common_words(21)
    assert "真是" in words and len(words) > 10_000
    assert pinyin_correction._read_common_words.cache_info().misses == 1
