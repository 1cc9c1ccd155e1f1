"""Issue 12: every selling point becomes a clip, on every committed sample, on the batch path
(`livecut clip`: real Whisper, the trained classifier, real ffmpeg).

zh_live and en_live come from the session's `livecut clip` run (tests/conftest.py clip_run,
shared with tests/test_cli_clip.py); zh_heldout, whose selling-point runs are all shorter than
segments.min_s (the case that used to drop them without a trace), runs here through its own
`livecut clip`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support import LIVECUT, assert_script_selling_points_clipped, assert_selling_points_in_clips, of_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = ("zh_live", "en_live", "zh_heldout")


@pytest.fixture(scope="module")
def heldout(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    out = tmp_path_factory.mktemp("heldout-clips")
    proc = subprocess.run(
        [*LIVECUT, "clip", str(FIXTURES / "zh_heldout.mp4"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    read = [
        [json.loads(line) for line in (out / name).read_text().splitlines()]
        for name in ("utterances.jsonl", "clips.jsonl")
    ]
    return read[0], read[1]


@pytest.fixture(scope="module")
def clipped(clip_run, heldout) -> dict[str, tuple[list[dict], list[dict]]]:
    _, _, utterances, clips = clip_run
    runs = {name: (of_source(utterances, f"{name}.mp4"), of_source(clips, f"{name}.mp4")) for name in SAMPLES[:2]}
    runs["zh_heldout"] = heldout
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLES)
def test_no_utterance_labeled_selling_point_is_left_out_of_every_clip(clipped, name):
    utterances, clips = clipped[name]
    assert_selling_points_in_clips(name, utterances, clips)


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLES)
def test_every_clip_lists_its_sublabels_longest_first_and_is_long_enough(clipped, name):
    _, clips = clipped[name]
    assert clips
    for clip in clips:
        assert clip["duration"] >= 6.0 - 0.05, (clip["label"], clip["t0"], clip["t1"])
        if clip["label"] == "selling_point":
            assert clip["sublabels"] and clip["sublabel"] == clip["sublabels"][0]
            assert len(set(clip["sublabels"])) == len(clip["sublabels"])


@pytest.mark.slow
def test_the_held_out_scripts_selling_points_are_all_clipped(heldout):
    """By the script, not by the classifier's labels: each selling-point sentence lies inside a
    selling-point clip, and the two products' selling points make (at least) two clips."""
    script = json.loads((FIXTURES / "zh_heldout.json").read_text(encoding="utf-8"))
    _, clips = heldout
    assert_script_selling_points_clipped("zh_heldout", script, clips)
    assert len([c for c in clips if c["label"] == "selling_point"]) >= 2
