import dataclasses

import pytest

from livecut.contracts import Utterance, Word
from segmenter.segment_builder import SegmentBuilder, SegmentSettings

SETTINGS = SegmentSettings(margin_s=0.3, min_s=6.0, max_s=20.0, close_after_silence_s=8.0)


def utt(
    t0: float, t1: float, label: str, sublabel: str | None = None, text: str = "话", product: str | None = None
) -> Utterance:
    return Utterance("room", t0, t1, text, "zh", [Word(t0, t1, text)], label, sublabel, 0.9, product=product)


def build(utterances: list[Utterance], settings: SegmentSettings = SETTINGS, media_end: float | None = None):
    builder = SegmentBuilder(settings, room="room", source="in.mp4")
    requests = [r for u in utterances for r in builder.feed(u)]
    return requests + builder.flush(media_end)


def test_merges_runs_of_one_topic_and_pads_on_utterance_bounds():
    clips = build(
        [
            utt(1.0, 4.0, "selling_point", "fabric", "真丝"),
            utt(4.5, 8.0, "selling_point", "fabric", "面料"),
            utt(9.0, 16.0, "selling_point", "drape", "垂感"),
        ]
    )
    assert [(c.sublabel, c.t0, c.t1) for c in clips] == [("fabric", 0.7, 8.3), ("drape", 8.7, 16.3)]
    assert clips[0].text == "真丝面料"
    assert [w.text for w in clips[0].words] == ["真丝", "面料"]


def test_chitchat_and_short_runs_make_no_clip():
    clips = build(
        [
            utt(0.0, 9.0, "chitchat"),
            utt(9.5, 12.0, "price_promo"),
            utt(12.5, 20.0, "call_to_action"),
        ]
    )
    assert [(c.label, c.t0, c.t1) for c in clips] == [("call_to_action", 12.2, 20.3)]


def test_run_longer_than_max_is_split_at_an_utterance_boundary():
    run = [utt(1.0 + i * 4.0, 4.5 + i * 4.0, "selling_point", "fit") for i in range(8)]
    clips = build(run)
    assert len(clips) == 2
    assert all(c.t1 - c.t0 <= SETTINGS.max_s for c in clips)
    bounds = {round(u.t0 - 0.3, 3) for u in run} | {round(u.t1 + 0.3, 3) for u in run}
    assert all(c.t0 in bounds and c.t1 in bounds for c in clips)


def test_long_silence_closes_the_run_and_idle_closes_it_live():
    builder = SegmentBuilder(SETTINGS, room="room", source="live")
    assert builder.feed(utt(0.0, 7.0, "price_promo")) == []
    assert builder.idle(now=10.0) == []
    closed = builder.idle(now=15.1)
    assert [(c.t0, c.t1) for c in closed] == [(0.0, 7.3)]
    assert builder.flush() == []


def test_clip_end_is_clamped_to_the_media_and_ids_are_deterministic():
    first = build([utt(2.0, 9.9, "selling_point", "design")], media_end=10.0)
    again = build([utt(2.0, 9.9, "selling_point", "design")], media_end=10.0)
    assert first[0].t1 == 10.0
    assert first[0].clip_id == again[0].clip_id
    other = build([utt(2.0, 9.9, "selling_point", "fit")], media_end=10.0)
    assert other[0].clip_id != first[0].clip_id


def covered(clips, utterance: Utterance) -> bool:
    return any(c.t0 <= utterance.t0 and utterance.t1 <= c.t1 and utterance.sublabel in c.sublabels for c in clips)


def test_short_selling_points_of_one_product_join_into_one_clip_longest_sublabel_first():
    run = [
        utt(0.0, 2.0, "chitchat"),
        utt(10.0, 14.7, "selling_point", "skin_feel", "柔软"),
        utt(15.0, 17.0, "selling_point", "fit", "显瘦"),
        utt(17.3, 20.6, "selling_point", "fit", "小个子"),
        utt(21.5, 24.0, "price_promo"),
    ]
    clips = build(run)
    assert [(c.sublabel, c.sublabels, c.t0, c.t1) for c in clips] == [("fit", ["fit", "skin_feel"], 9.7, 20.9)]
    assert clips[0].text == "柔软显瘦小个子"
    assert all(covered(clips, u) for u in run if u.label == "selling_point")


def test_a_short_run_joins_the_long_run_of_the_same_product_that_follows_it():
    clips = build([utt(0.0, 3.0, "selling_point", "fabric"), utt(3.5, 11.0, "selling_point", "drape")])
    assert [(c.sublabels, c.t0, c.t1) for c in clips] == [(["drape", "fabric"], 0.0, 11.3)]


def test_selling_points_of_different_products_never_share_a_clip():
    run = [
        utt(10.0, 13.0, "selling_point", "fabric", product="裙子"),
        utt(13.5, 16.0, "selling_point", "drape", product="裤子"),
        utt(30.0, 40.0, "chitchat"),
    ]
    clips = build(run)
    assert [(c.product, c.sublabels) for c in clips] == [("裙子", ["fabric"]), ("裤子", ["drape"])]
    assert all(c.t1 - c.t0 >= SETTINGS.min_s for c in clips)
    assert all(covered(clips, u) for u in run if u.label == "selling_point")


def test_a_lone_short_run_is_extended_with_the_speech_before_it_without_waiting():
    builder = SegmentBuilder(SETTINGS, room="room", source="live")
    assert builder.feed(utt(1.0, 4.0, "chitchat", text="欢迎")) == []
    assert builder.feed(utt(4.5, 7.5, "selling_point", "fabric", "真丝")) == []
    done = builder.feed(utt(8.0, 9.0, "price_promo", text="五十"))
    assert [(c.sublabels, c.t0, c.t1, c.text) for c in done] == [(["fabric"], 0.7, 7.8, "欢迎真丝")]


def test_at_the_start_a_short_run_waits_for_the_speech_after_it():
    builder = SegmentBuilder(SETTINGS, room="room", source="live")
    assert builder.feed(utt(0.5, 3.0, "selling_point", "fabric")) == []
    assert builder.feed(utt(3.5, 5.0, "price_promo")) == []
    done = builder.feed(utt(5.5, 7.0, "price_promo"))
    assert [(c.sublabel, c.t0, c.t1) for c in done] == [("fabric", 0.2, 7.3)]


def test_silence_and_end_of_stream_pad_a_short_run_with_the_media_around_it():
    builder = SegmentBuilder(SETTINGS, room="room", source="live")
    builder.feed(utt(20.0, 22.0, "selling_point", "fit"))
    assert builder.idle(now=25.0) == []
    done = builder.idle(now=30.5)
    assert [(c.sublabel, c.t0, c.t1) for c in done] == [("fit", 19.7, 25.7)]
    ending = build([utt(1.0, 3.0, "selling_point", "design")], media_end=4.0)
    assert [(c.t0, c.t1) for c in ending] == [(0.0, 4.0)]


def test_short_runs_are_dropped_when_no_label_is_kept():
    settings = dataclasses.replace(SETTINGS, keep_short_labels=())
    assert build([utt(1.0, 3.0, "selling_point", "fabric"), utt(3.5, 6.0, "selling_point", "fit")], settings) == []


def test_without_joining_each_short_run_is_its_own_extended_clip():
    settings = dataclasses.replace(SETTINGS, join_short_runs=False)
    run = [utt(1.0, 4.0, "selling_point", "fabric"), utt(4.5, 7.0, "selling_point", "fit")]
    clips = build(run, settings)
    assert [c.sublabel for c in clips] == ["fabric", "fit"]
    assert all(covered(clips, u) for u in run)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_s", -1.0, "segments.min_s must be >= 0"),
        ("max_s", 5.0, "segments.max_s (5.0) must be greater than segments.min_s"),
        ("keep_short_labels", ("chitchat",), "both list chitchat"),
    ],
)
def test_bad_settings_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(SETTINGS, **{field: value})


def test_a_short_run_is_not_extended_back_into_the_clip_before_it():
    run = [
        utt(0.0, 8.0, "selling_point", "drape", "垂感"),
        utt(8.5, 11.0, "selling_point", "fit", "显瘦", product="裤子"),
        utt(11.5, 16.0, "price_promo", text="五十"),
    ]
    clips = build(run)
    assert [(c.sublabels, c.t0, c.t1) for c in clips] == [(["drape"], 0.0, 8.3), (["fit"], 8.2, 16.3)]


def test_the_state_depends_on_the_open_run_and_the_speech_a_short_run_may_take():
    builder = SegmentBuilder(SETTINGS, room="room", source="live")
    assert builder.depends_from() is None
    builder.feed(utt(10.0, 12.0, "price_promo"))
    assert builder.depends_from() == 10.0
    builder.feed(utt(20.0, 22.0, "selling_point", "fit"))
    assert builder.depends_from() == 14.0
    builder.feed(utt(22.5, 23.0, "chitchat"))
    assert builder.depends_from() == 14.0  # the fit run waits for speech after it
