from livecut.contracts import Utterance, Word
from segmenter.segment_builder import SegmentBuilder, SegmentSettings

SETTINGS = SegmentSettings(margin_s=0.3, min_s=6.0, max_s=20.0, close_after_silence_s=8.0)


def utt(t0: float, t1: float, label: str, sublabel: str | None = None, text: str = "话") -> Utterance:
    return Utterance("room", t0, t1, text, "zh", [Word(t0, t1, text)], label, sublabel, 0.9)


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
