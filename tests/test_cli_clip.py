"""End to end: `livecut clip` on the committed samples, real Whisper, real ffmpeg."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import av
import pytest
from opencc import OpenCC
from support import LIVECUT, expected_topic, of_source, overlap

TOLERANCE_S = 0.5
CLIP_FIELDS = {
    "clip_id",
    "source",
    "t0",
    "t1",
    "label",
    "sublabel",
    "text",
    "video",
    "captions",
    "thumbnail",
    "duration",
}


@pytest.fixture(scope="module")
def run(clip_run):
    return clip_run


def test_bad_inputs_fail_with_one_line_each_and_the_rest_still_run(run):
    proc, out, utterances, clips = run
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("livecut: skipped")]
    assert len(skipped) == 2
    assert "no_audio.mp4: has no audio stream" in skipped[0]
    assert "garbage.mp4: not a readable media file" in skipped[1]
    assert of_source(clips, "zh_live.mp4") and of_source(clips, "en_live.mp4")
    assert str(out / "clips") in proc.stdout


def test_mandarin_comes_out_simplified(run):
    to_simplified = OpenCC("t2s")
    zh = of_source(run[2], "zh_live.mp4")
    assert zh and all(u["lang"] == "zh" for u in zh)
    assert all(to_simplified.convert(u["text"]) == u["text"] for u in zh)
    assert sum(len(re.findall(r"[\u4e00-\u9fff]", u["text"])) for u in zh) > 200


@pytest.mark.parametrize(("name", "script_name"), [("zh_live.mp4", "zh_script"), ("en_live.mp4", "en_script")])
def test_each_sentence_is_its_own_utterance(run, request, name, script_name):
    sentences = request.getfixturevalue(script_name)["sentences"]
    utterances = of_source(run[2], name)
    for sentence in sentences:
        mine = [u for u in utterances if overlap(u["t0"], u["t1"], sentence["t0"], sentence["t1"]) > 0.2]
        assert mine, f"no utterance for {sentence['text']}"
        assert min(u["t0"] for u in mine) == pytest.approx(sentence["t0"], abs=TOLERANCE_S), sentence["text"]
        assert max(u["t1"] for u in mine) == pytest.approx(sentence["t1"], abs=TOLERANCE_S), sentence["text"]
        for u in mine:
            assert u["t0"] >= sentence["t0"] - TOLERANCE_S and u["t1"] <= sentence["t1"] + TOLERANCE_S, u["text"]


@pytest.mark.parametrize(
    ("name", "script_name", "at_least"), [("zh_live.mp4", "zh_script", 4), ("en_live.mp4", "en_script", 2)]
)
def test_selling_points_become_clips_with_the_right_sublabel(run, request, name, script_name, at_least):
    sentences = request.getfixturevalue(script_name)["sentences"]
    clips = of_source(run[3], name)
    right = {
        c["sublabel"]
        for c in clips
        if c["label"] == "selling_point" and expected_topic(c, sentences) == ("selling_point", c["sublabel"])
    }
    assert len(right) >= at_least, [(c["label"], c["sublabel"], c["t0"], c["t1"]) for c in clips]


def test_no_clip_for_chitchat(run, zh_script, en_script):
    clips = run[3]
    assert clips and all(c["label"] != "chitchat" for c in clips)
    for script, name in ((zh_script, "zh_live.mp4"), (en_script, "en_live.mp4")):
        chat = [s for s in script["sentences"] if s["label"] == "chitchat"]
        for clip in of_source(clips, name):
            assert all(overlap(clip["t0"], clip["t1"], s["t0"], s["t1"]) < 0.5 for s in chat), clip["text"]


def test_every_clip_plays_and_lasts_its_span(run):
    out, clips = run[1], run[3]
    for clip in clips:
        assert set(clip) >= CLIP_FIELDS
        for key in ("video", "captions", "thumbnail"):
            assert not Path(clip[key]).is_absolute() and (out / clip[key]).is_file()
        with av.open(str(out / clip["video"])) as container:
            frames = sum(1 for _ in container.decode(video=0))
            duration = float(container.streams.video[0].duration * container.streams.video[0].time_base)
        assert frames > 0
        assert duration == pytest.approx(clip["t1"] - clip["t0"], abs=0.1)
        assert clip["duration"] == pytest.approx(clip["t1"] - clip["t0"], abs=0.1)


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    stamp = r"(\d+):(\d+):(\d+),(\d+)"
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        m = re.match(stamp + r" --> " + stamp, lines[1])
        h0, m0, s0, ms0, h1, m1, s1, ms1 = map(int, m.groups())
        cues.append((h0 * 3600 + m0 * 60 + s0 + ms0 / 1000, h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, "".join(lines[2:])))
    return cues


def test_captions_align_with_the_speech(run, zh_script, en_script):
    out, clips = run[1], run[3]
    scripts = {"zh_live.mp4": zh_script, "en_live.mp4": en_script}
    for clip in clips:
        sentences = scripts[Path(clip["source"]).name]["sentences"]
        cues = srt_cues((out / clip["captions"]).read_text(encoding="utf-8"))
        assert cues
        for t0, t1, _ in cues:
            start, end = clip["t0"] + t0, clip["t0"] + t1
            assert any(s["t0"] - TOLERANCE_S <= start and end <= s["t1"] + TOLERANCE_S for s in sentences), (
                start,
                end,
            )


def test_classify_reads_stdin_and_writes_json_lines():
    lines = "今天直播间只要九十九元\n这件是百分之百桑蚕丝的\n\nTap the yellow cart below\n"
    proc = subprocess.run([*LIVECUT, "classify"], input=lines, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["label"], r["sublabel"]) for r in records] == [
        ("price_promo", None),
        ("selling_point", "fabric"),
        ("call_to_action", None),
    ]
    assert all(
        set(r) == {"text", "label", "sublabel", "confidence", "needs_review", "time_bound", "banned_claims"}
        for r in records
    )
    assert all(0.0 < r["confidence"] <= 1.0 for r in records)


def test_a_files_clips_do_not_depend_on_how_its_fragments_were_batched(run, tmp_path):
    """The transcribe stage takes the fragments it finds waiting, as many as the machine's load
    leaves; one fragment at a time must give the clips of the suite's run (real Whisper)."""
    settings = tmp_path / "one_fragment_at_a_time.toml"
    settings.write_text("[transcribe]\nbatch_fragments = 1\n")
    out = tmp_path / "out"
    sample = Path(__file__).parent / "fixtures" / "zh_live.mp4"
    proc = subprocess.run(
        [*LIVECUT, "clip", "--config", str(settings), str(sample), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    one_at_a_time = [json.loads(line) for line in (out / "clips.jsonl").read_text().splitlines()]

    def spans(clips: list[dict]) -> list[tuple]:
        return [(c["label"], c["sublabel"], c["t0"], c["t1"]) for c in of_source(clips, "zh_live.mp4")]

    assert spans(one_at_a_time) == spans(run[3])
