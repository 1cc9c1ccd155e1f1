"""analyze(): shots, segments that never cut a sentence, quality, subject box, signatures, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from remix_helpers import FIXTURES, REMIX, SHOTS_VIDEO, script, utterances

from clipper.remix import NO_AUDIO_NOTE, RemixError, analyze
from clipper.remix.frames import sample_seconds


def test_shots_found_at_the_known_cuts(footage):
    cuts = json.loads((REMIX / "shots.json").read_text())["cuts"]
    found = [t0 for t0, _ in footage.shots[1:]]
    assert len(found) == len(cuts)
    assert all(abs(a - b) <= 0.1 for a, b in zip(found, cuts, strict=True))


def test_segments_never_cut_a_sentence(footage):
    sentences = script()
    speech = [s for s in footage.segments if s.kind == "speech"]
    assert len(speech) == len(sentences)
    for segment, sentence in zip(speech, sentences, strict=True):
        assert segment.t0 <= sentence["t0"] and segment.t1 >= sentence["t1"], segment
        assert (segment.label, segment.sublabel) == (sentence["label"], sentence["sublabel"])
        assert segment.product == "silk-dress"
        others = [s for s in sentences if s is not sentence]
        assert not any(o["t0"] < segment.t1 and o["t1"] > segment.t0 for o in others), "reaches into a neighbour"
    for a, b in zip(speech, speech[1:], strict=False):
        assert a.t1 <= b.t0


def test_segments_carry_quality_and_one_hash_per_second(footage):
    for segment in footage.segments:
        assert len(segment.hashes) in (int(segment.duration), int(segment.duration) + 1)
        assert 0.0 <= segment.quality.score <= 1.0
        assert segment.quality.sharpness > 0
        assert -40 < segment.quality.loudness < -10  # the fixture's speech sits near -20 dBFS


def test_subject_box_finds_the_bright_subject():
    info = json.loads((REMIX / "shots.json").read_text())
    t0, t1 = info["subject_shot"]
    cx, cy = info["subject_centre"]
    samples = sample_seconds(SHOTS_VIDEO)
    inside = [s for s in samples if t0 <= s.second + 0.5 < t1]
    assert inside
    for sample in inside:
        x, y = sample.box.centre
        assert abs(x - cx) < 60 and abs(y - cy) < 60, sample.box


def test_file_without_audio_is_shots_only_and_says_so():
    footage = analyze(FIXTURES / "no_audio.mp4", utterances(), "silk-dress")
    assert not footage.has_audio
    assert NO_AUDIO_NOTE in footage.notes
    assert footage.segments and all(s.kind == "shot" and not s.words for s in footage.segments)


def test_product_image_is_a_ken_burns_segment(image_footage):
    (segment,) = image_footage.segments
    assert segment.kind == "image" and segment.duration == 3.0 and len(segment.hashes) == 3


@pytest.mark.parametrize("name", ["missing.mp4", "broken.mp4"])
def test_unreadable_input_names_the_file(tmp_path: Path, name: str):
    path = tmp_path / name
    if name == "broken.mp4":
        path.write_bytes(b"not a video" * 50)
    with pytest.raises(RemixError, match=name):
        analyze(path, [], None)


def test_unreadable_image_names_the_file(tmp_path: Path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"no jpeg")
    with pytest.raises(RemixError, match="photo.jpg"):
        analyze(path, [], None)
