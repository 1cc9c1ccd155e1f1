"""Caption cues: grouping, clip timeline, SRT and WebVTT text."""

from __future__ import annotations

from clipper_helpers import parse_srt, parse_vtt

from clipper.captions import CaptionSettings, Cue, build_cues, join_words, line_fill, to_srt, to_vtt
from livecut.contracts import Word

LATIN_TEXT = "this serum absorbs quickly and keeps your skin hydrated all day long without any sticky feeling at all"


def timed(texts: list[str], start: float, step: float = 0.3, length: float = 0.25) -> list[Word]:
    return [Word(start + i * step, start + i * step + length, text) for i, text in enumerate(texts)]


def test_cjk_words_are_joined_without_spaces() -> None:
    cues = build_cues(timed(["这个", "口红", "颜色", "特别", "显白"], 100.0), 100.0, 110.0)
    assert [cue.text for cue in cues] == ["这个口红颜色特别显白"]


def test_latin_words_are_joined_with_single_spaces() -> None:
    cues = build_cues(timed([" This", " lipstick ", "looks", "great"], 5.0), 5.0, 9.0)
    assert [cue.text for cue in cues] == ["This lipstick looks great"]


def test_mixed_words_have_spaces_only_between_latin_words() -> None:
    assert join_words(["这款", "iPhone", "15", "Pro", "真的", "很", "好用"]) == "这款iPhone 15 Pro真的很好用"


def test_cues_are_on_the_clip_timeline_and_clamped() -> None:
    words = [
        Word(9.0, 9.5, "之前"),  # entirely before the clip: dropped
        Word(9.8, 10.4, "开始"),  # straddles t0: clamped to 0
        Word(10.5, 11.0, "中间"),
        Word(11.9, 12.5, "结尾"),  # straddles t1: clamped to the duration
        Word(12.6, 13.0, "之后"),  # entirely after: dropped
    ]
    cues = build_cues(words, 10.0, 12.0)
    assert [cue.text for cue in cues] == ["开始中间", "结尾"]
    assert cues[0].t0 == 0.0
    assert abs(cues[0].t1 - 1.0) < 1e-9
    assert abs(cues[1].t0 - 1.9) < 1e-9
    assert cues[1].t1 == 2.0


def test_sentence_end_and_pause_end_a_cue() -> None:
    words = [
        Word(0.0, 0.3, "好看。"),
        Word(0.4, 0.7, "快"),
        Word(0.8, 1.1, "买"),
        Word(1.8, 2.0, "Buy"),  # 0.7 s pause before it
        Word(2.1, 2.3, "now!"),
        Word(2.35, 2.5, "Really"),
    ]
    cues = build_cues(words, 0.0, 3.0)
    assert [cue.text for cue in cues] == ["好看。", "快买", "Buy now!", "Really"]


def test_short_pause_keeps_words_together() -> None:
    words = [Word(0.0, 0.3, "快"), Word(0.85, 1.0, "买")]  # 0.55 s pause, below 0.6 s
    assert [cue.text for cue in build_cues(words, 0.0, 2.0)] == ["快买"]


def test_long_cjk_line_is_split_at_max_chars() -> None:
    text = "这款面霜质地非常轻薄吸收很快而且保湿效果特别持久适合干皮和混合皮的姐妹们日常使用"
    cues = build_cues(timed(list(text), 0.0, step=0.1, length=0.1), 0.0, 10.0)
    assert len(cues) == 3
    assert [len(cue.text) for cue in cues] == [16, 16, len(text) - 32]
    assert "".join(cue.text for cue in cues) == text


def test_long_latin_line_is_split_at_max_chars() -> None:
    words = LATIN_TEXT.split()
    cues = build_cues(timed(words, 0.0, step=0.2, length=0.2), 0.0, 10.0)
    assert len(cues) > 1
    assert all(len(cue.text) <= 42 for cue in cues)
    assert all(len(a.text) + 1 + len(b.text.split()[0]) > 42 for a, b in zip(cues, cues[1:], strict=False))
    assert " ".join(cue.text for cue in cues) == " ".join(words)


def test_max_chars_come_from_settings() -> None:
    cues = build_cues(timed(list("一二三四五六七八九十"), 0.0, 0.1, 0.1), 0.0, 5.0, CaptionSettings(max_chars_cjk=4))
    assert [cue.text for cue in cues] == ["一二三四", "五六七八", "九十"]


def test_a_single_overlong_word_is_split_with_its_time_shared() -> None:
    cues = build_cues([Word(1.0, 3.0, "一二三四五六七八")], 0.0, 5.0, CaptionSettings(max_chars_cjk=4))
    assert [(cue.t0, cue.t1, cue.text) for cue in cues] == [(1.0, 2.0, "一二三四"), (2.0, 3.0, "五六七八")]


def test_mixed_line_shares_the_budget() -> None:
    settings = CaptionSettings()
    assert line_fill("一" * 16, settings) == 1.0
    assert line_fill("a" * 42, settings) == 1.0
    assert line_fill("一" * 8 + "a" * 21, settings) == 1.0


def test_overlapping_word_times_give_non_overlapping_cues() -> None:
    words = [Word(0.0, 1.2, "第一句。"), Word(1.0, 2.0, "第二句。"), Word(1.5, 1.6, "三。")]
    cues = build_cues(words, 0.0, 3.0)
    assert [cue.text for cue in cues] == ["第一句。", "第二句。", "三。"]
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.t1 <= after.t0 <= after.t1


def test_no_words_give_empty_but_valid_files() -> None:
    assert build_cues([], 0.0, 5.0) == []
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n"
    assert parse_vtt(to_vtt([])) == []


def test_srt_format() -> None:
    cues = [Cue(0.0, 1.5, "你好"), Cue(61.25, 3725.0049, "Hello world")]
    expected = "1\n00:00:00,000 --> 00:00:01,500\n你好\n\n2\n00:01:01,250 --> 01:02:05,005\nHello world\n"
    assert to_srt(cues) == expected
    assert parse_srt(expected) == [Cue(0.0, 1.5, "你好"), Cue(61.25, 3725.005, "Hello world")]


def test_vtt_format_escapes_markup() -> None:
    cues = [Cue(0.0, 1.5, "a <b> & c --> d"), Cue(2.0, 2.5, "好")]
    text = to_vtt(cues)
    assert text == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\na &lt;b&gt; &amp; c --&gt; d\n\n00:00:02.000 --> 00:00:02.500\n好\n"
    )
    assert parse_vtt(text) == cues
