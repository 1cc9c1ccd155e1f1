"""Compliance flags from the default `[compliance]` table: time-bound and banned claims, zh and en."""

from __future__ import annotations

import pytest

from segmenter.compliance import ComplianceError, load_compliance


@pytest.fixture(scope="module")
def checker(config):
    return load_compliance(config["compliance"])


@pytest.mark.parametrize(
    "text",
    [
        "今晚只要九十九",
        "直播间专属价一百二十九",
        "倒计时三十秒这个价三十秒之后恢复原价了",
        "最后五分钟了宝宝们",
        "只剩最后二十件了",
        "限时秒杀就这一波",
        "今天下单还送一个赠品",
        "tonight only, two for one",
        "this price is only today",
        "last 3 left in medium",
        "only ten left in stock",
        "flash sale ends in five minutes",
    ],
)
def test_time_bound_claims_are_flagged(checker, text):
    assert checker.check(text).time_bound


@pytest.mark.parametrize(
    "text",
    [
        "面料是新疆长绒棉",
        "今晚吃火锅,好冷啊",
        "今天杭州下大雨",
        "It runs true to size",
        "the left pocket has a zip",
    ],
)
def test_ordinary_lines_are_not_time_bound(checker, text):
    assert not checker.check(text).time_bound


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("这个价格全网最低价", ["全网最低价"]),
        ("这是市面上最好的面料", ["最好"]),
        ("这个是最便宜的", ["最便宜"]),
        ("销量第一的防晒", ["销量第一"]),
        ("国家级的工艺,顶级的面料", ["国家级", "顶级"]),
        ("极品羊绒,万能百搭", ["极品", "万能"]),
        ("祛痘100%有效", ["100%有效"]),
        ("国内首个做这个的,唯一一家", ["首个", "唯一"]),
        ("this is the best ever serum", ["best ever"]),
        ("the number one cushion on the app", ["number one"]),
        ("lowest price anywhere, I promise", ["lowest price anywhere"]),
        ("it's 100% guaranteed to fade your spots", ["100% guaranteed"]),
    ],
)
def test_banned_claims_are_listed(checker, text, claims):
    assert checker.check(text).banned_claims == claims


@pytest.mark.parametrize(
    "text",
    [
        "最近好多宝宝问这个颜色",
        "最后五分钟恢复原价",
        "第一次来直播间的宝宝点个关注",
        "你最好拍大一码",
        "我们最大做到四XL",
        "百分之百桑蚕丝的",
        "grab link number one",
        "it's 100% cotton",
        "this is my first time wearing it",
    ],
)
def test_everyday_words_are_not_banned_claims(checker, text):
    assert checker.check(text).banned_claims == []


def test_a_phrase_added_in_config_is_flagged(config):
    table = dict(config["compliance"])
    table["banned_claims"] = [*table["banned_claims"], "(?i)\\bmiracle cream\\b|神药"]
    table["time_bound"] = [*table["time_bound"], "下播前"]
    checker = load_compliance(table)
    flags = checker.check("下播前这个神药还有货")
    assert flags.time_bound and flags.banned_claims == ["神药"]


def test_a_bad_pattern_is_a_clear_error():
    with pytest.raises(ComplianceError, match="compliance.banned_claims has a bad pattern"):
        load_compliance({"banned_claims": ["("]})
