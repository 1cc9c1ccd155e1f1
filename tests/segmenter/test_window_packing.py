"""Speech chunks packed into shared Whisper windows, and words split back to their chunks."""

from __future__ import annotations

import numpy as np
import pytest

from livecut.contracts import SAMPLE_RATE
from segmenter.window_packing import PackingSettings, Vocabulary, closed_chunks, hotwords_of, pack


def seconds(s: float, value: float = 0.1) -> np.ndarray:
    return np.full(int(s * SAMPLE_RATE), value, dtype=np.float32)


def test_chunks_fill_a_window_in_order_with_silence_between_them():
    windows = pack([seconds(3), seconds(4), seconds(5)], PackingSettings(window_s=28, gap_s=1))
    assert len(windows) == 1
    window = windows[0]
    assert [(p.index, p.start, p.end) for p in window.placements] == [(0, 0, 3), (1, 4, 8), (2, 9, 14)]
    assert len(window.samples) == 14 * SAMPLE_RATE
    gap = window.samples[3 * SAMPLE_RATE : 4 * SAMPLE_RATE]
    assert not gap.any() and window.samples[4 * SAMPLE_RATE : 8 * SAMPLE_RATE].all()


def test_a_chunk_that_does_not_fit_starts_the_next_window_and_a_long_one_stands_alone():
    windows = pack([seconds(12), seconds(12), seconds(5), seconds(29)], PackingSettings(window_s=28, gap_s=1))
    assert [[p.index for p in w.placements] for w in windows] == [[0, 1], [2], [3]]
    assert windows[1].placements[0].start == 0
    assert len(windows[2].samples) == 29 * SAMPLE_RATE
    # window_s 0: packing off, one chunk per window.
    alone = pack([seconds(3), seconds(4)], PackingSettings(window_s=0))
    assert [[p.index for p in w.placements] for w in alone] == [[0], [1]]


def test_a_word_belongs_to_the_chunk_its_middle_is_in_or_nearest_to():
    window = pack([seconds(3), seconds(4)], PackingSettings(window_s=28, gap_s=1))[0]
    assert window.owner(1.0, 2.0).index == 0
    assert window.owner(4.2, 5.0).index == 1
    # Whisper sometimes stretches a word into the silence between the chunks.
    assert window.owner(2.8, 3.4).index == 0
    assert window.owner(3.5, 4.1).index == 1


@pytest.mark.parametrize(("window_s", "gap_s", "message"), [(31, 1, "pack_window_s"), (28, -1, "pack_gap_s")])
def test_bad_settings_name_the_field(window_s, gap_s, message):
    with pytest.raises(ValueError, match=message):
        PackingSettings(window_s=window_s, gap_s=gap_s)


def test_only_windows_no_later_chunk_can_join_are_closed():
    settings = PackingSettings(window_s=10, gap_s=1)
    lengths = [int(s * SAMPLE_RATE) for s in (4, 4, 3, 5)]
    # [4, 4] fill the first window (3 more would not fit), [3, 5] is still open.
    assert closed_chunks(lengths, settings) == 2
    assert closed_chunks(lengths[:2], settings) == 0
    assert closed_chunks(lengths[:3], settings) == 2
    assert closed_chunks(lengths, PackingSettings(window_s=0)) == 4


def test_a_stream_held_for_full_windows_packs_as_the_whole_stream_would():
    settings = PackingSettings(window_s=10, gap_s=1)
    lengths = [int(s * SAMPLE_RATE) for s in (4, 2, 3, 6, 1, 2, 7, 3)]
    whole = [[p.index for p in w.placements] for w in pack([np.zeros(n, np.float32) for n in lengths], settings)]
    held: list[int] = []
    windows: list[list[int]] = []
    for index in range(len(lengths)):
        held.append(index)
        closed = closed_chunks([lengths[i] for i in held], settings)
        ready, held = held[:closed], held[closed:]
        if ready:
            ready_windows = pack([np.zeros(lengths[i], np.float32) for i in ready], settings)
            windows += [[ready[p.index] for p in w.placements] for w in ready_windows]
    windows += [held] if held else []
    assert windows == whole


def test_rooms_share_a_window_while_the_union_of_their_hotwords_fits_the_budget():
    """Rooms A and B share most words: B adds one; C's own words would take the union past 20 characters."""
    room_a = Vocabulary(("真丝", "面料", "小黄车"), max_chars=20)
    room_b = Vocabulary(("阔腿裤", "真丝", "面料"), max_chars=20)
    room_c = Vocabulary(("羊绒大衣", "双面呢", "小黄车"), max_chars=20)
    chunks = [seconds(3), seconds(3), seconds(3), seconds(3)]
    windows = pack(chunks, PackingSettings(window_s=28, gap_s=1), [room_a, room_b, room_c, room_a])
    assert [[p.index for p in w.placements] for w in windows] == [[0, 1], [2, 3]]
    assert hotwords_of([room_a, room_b]) == "真丝 面料 小黄车 阔腿裤"
    assert hotwords_of([room_c, room_a]) == "羊绒大衣 双面呢 小黄车 真丝 面料"
    # A room whose own words exceed the budget still gets a window (of its own).
    tight = [Vocabulary(("羊绒大衣",), max_chars=4), Vocabulary(("真丝",), max_chars=4)]
    alone = pack([seconds(3), seconds(3)], PackingSettings(), tight)
    assert [[p.index for p in w.placements] for w in alone] == [[0], [1]]
