import pytest

from segmenter.numbers import chinese_to_int, normalize_numbers


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三百五十九", 359),
        ("一百一十", 110),
        ("十五", 15),
        ("两千", 2000),
        ("三百五", 350),
        ("一百零五", 105),
        ("一万二", 12000),
        ("三万五千", 35000),
        ("六二", 62),
        ("百", 100),
    ],
)
def test_chinese_numerals_have_their_value(numeral, value):
    assert chinese_to_int(numeral) == value


def test_a_non_numeral_is_refused_by_name():
    with pytest.raises(ValueError, match="not a Chinese numeral: '三个'"):
        chinese_to_int("三个")


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ("原价五百九十九，今天只要一百九十九", "原价599，今天只要199"),
        ("原价599，今天只要199", "原价599，今天只要199"),
        ("三百五十九元", "359元"),
        ("再送一张五十元优惠券，只剩一百件", "再送一张50元优惠券，只剩100件"),
        ("百分之八十的棉", "80%的棉"),
        ("百分之百的真丝", "100%的真丝"),
        ("一米六二，一百一十斤穿中码", "162 cm，110斤穿中码"),
        ("一米六的个子", "160 cm的个子"),
        ("1米65的姐妹", "165 cm的姐妹"),
        ("九块九包邮", "9.9元包邮"),
        ("十块钱", "10块钱"),
        ("直接拍三号链接", "直接拍3号链接"),
        ("打八折", "打8折"),
        ("最后十单", "最后10单"),
    ],
)
def test_prices_percentages_and_sizes_come_out_as_digits(text, readable):
    assert normalize_numbers(text) == readable


@pytest.mark.parametrize(
    "text", ["建议大家选小一号", "大一码", "一点都不扎", "我们一共有三个颜色", "一件也包邮", "第一次", "一下"]
)
def test_numerals_inside_words_are_left_alone(text):
    assert normalize_numbers(text) == text
