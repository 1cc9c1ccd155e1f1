from livecut.contracts import Word
from segmenter.utterances import UtteranceSettings, split_utterances

SETTINGS = UtteranceSettings(pause_s=0.45, max_s=15.0)


def words(*spec: tuple[float, float, str]) -> list[Word]:
    return [Word(t0, t1, text) for t0, t1, text in spec]


def test_splits_at_sentence_end_even_without_pause():
    result = split_utterances(
        words((0.0, 0.5, "面料"), (0.5, 1.0, "很好。"), (1.05, 1.5, "颜色"), (1.5, 2.0, "很多")),
        "room",
        "zh",
        SETTINGS,
    )
    assert [u.text for u in result] == ["面料很好。", "颜色很多"]
    assert (result[1].t0, result[1].t1) == (1.05, 2.0)


def test_splits_at_pause_longer_than_setting_only():
    spoken = words((0.0, 0.5, " soft"), (0.9, 1.2, " fabric"), (1.8, 2.2, " great"), (2.3, 2.6, " fit"))
    result = split_utterances(spoken, "room", "en", SETTINGS)
    assert [u.text for u in result] == ["soft fabric", "great fit"]
    assert result[0].lang == "en" and result[0].room == "room"


def test_long_run_split_at_largest_pause():
    spoken = [Word(i * 1.0, i * 1.0 + 0.9, "字") for i in range(20)]
    spoken[12] = Word(12.3, 13.2, "字")  # the largest gap, 0.4 s, stays under pause_s
    result = split_utterances(spoken, "room", "zh", SETTINGS)
    assert len(result) == 2
    assert result[0].words[-1].t0 == 11.0 and result[1].t0 == 12.3
    assert all(u.t1 - u.t0 <= 15.0 for u in result)


def test_punctuation_only_groups_are_dropped():
    result = split_utterances(words((0.0, 0.3, "。"), (1.0, 1.4, "好的")), "room", "zh", SETTINGS)
    assert [u.text for u in result] == ["好的"]
