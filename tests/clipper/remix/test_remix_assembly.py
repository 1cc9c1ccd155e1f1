"""assemble() + variants.jsonl on 10 variants: decode, durations, captions inside speech, loudness, distinctness."""

from __future__ import annotations

import re
import subprocess
from itertools import combinations
from pathlib import Path

from clipper_helpers import decode_all, parse_srt
from PIL import Image
from remix_helpers import PRODUCT, TEST_ASSEMBLY, TEST_PLAN, script

from clipper.remix import MICRO_DETAIL, AssembleOptions, PlanOptions, assemble, plan, read_manifest, shared_fraction

FIELDS = {"variant_id", "video", "cover", "captions", "duration", "product", "signature", "segments"}


def _loudness(path: Path) -> float:
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:a", "-af", "ebur128=framelog=verbose",
           "-f", "null", "-"]  # fmt: skip
    stderr = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", stderr)[-1])


def test_manifest_lists_every_variant_with_its_fields(batch):
    result, variants, _messages, out_dir = batch
    records = read_manifest(out_dir)
    assert len(records) == 10 == len(result.variants)
    for record in records:
        assert record.keys() >= FIELDS
        assert record["product"] == "silk-dress"
        assert (out_dir / record["video"]).is_file() and (out_dir / record["captions"]).is_file()
        for segment in record["segments"]:
            assert {"source", "t0", "t1", "label", "sublabel"} <= segment.keys()
            assert segment["t0"] < segment["t1"]


def test_each_variant_decodes_at_the_right_size_and_duration(batch):
    _result, variants, _messages, out_dir = batch
    low, high = TEST_PLAN.duration
    for variant in variants:
        path = out_dir / variant.video
        video, audio = decode_all(path, "video"), decode_all(path, "audio")
        assert (video.width, video.height) == TEST_ASSEMBLY.size == (360, 640)
        assert low - 0.1 <= video.last_end <= high + 0.1
        assert abs(video.last_end - variant.duration) < 0.1 and abs(audio.last_end - variant.duration) < 0.15


def test_captions_lie_inside_the_speech(batch):
    """Every caption, mapped back through the variant's segments to the source, lies inside a spoken sentence."""
    _result, variants, _messages, out_dir = batch
    sentences = script()
    for variant in variants:
        cues = parse_srt((out_dir / variant.captions).read_text(encoding="utf-8"))
        assert cues
        starts, offset = [], 0.0
        for segment in variant.segments:
            starts.append((offset, segment))
            offset += segment["t1"] - segment["t0"]
        for cue in cues:
            at, segment = max((s for s in starts if s[0] <= cue.t0 + 1e-3), key=lambda s: s[0])
            src0, src1 = segment["t0"] + cue.t0 - at, segment["t0"] + cue.t1 - at
            assert any(s["t0"] - 0.05 <= src0 and src1 <= s["t1"] + 0.05 for s in sentences), (variant.video, cue)


def test_loudness_is_within_one_lu_of_the_target(batch):
    _result, variants, _messages, out_dir = batch
    for variant in variants:
        assert abs(_loudness(out_dir / variant.video) - TEST_ASSEMBLY.loudness) <= 1.0, variant.video


def test_variants_are_pairwise_distinct_by_their_frame_hashes(batch):
    """Hashes read back from the written files (one keyframe a second), not the planner's."""
    from remix_helpers import keyframe_hashes

    _result, variants, _messages, out_dir = batch
    signatures = {v.variant_id: keyframe_hashes(out_dir / v.video) for v in variants}
    for variant in variants:
        assert signatures[variant.variant_id] == variant.signature
    for a, b in combinations(signatures.values(), 2):
        assert shared_fraction(a, b) <= TEST_PLAN.max_shared


def test_music_is_used_and_the_unreadable_file_skipped_with_a_message(batch):
    _result, variants, messages, _out_dir = batch
    assert {v.music for v in variants} == {"noise.m4a", "pads.m4a"}
    assert len(messages) == 1 and messages[0].startswith("skipped music file broken.mp3: unreadable")


def test_cover_has_the_output_size(batch):
    _result, variants, _messages, out_dir = batch
    for variant in variants:
        with Image.open(out_dir / variant.cover) as cover:
            assert cover.size == TEST_ASSEMBLY.size


def test_the_micro_detail_preset_makes_a_3_4_video_of_10_to_60_s_with_captions(footage, image_footage, tmp_path):
    """Taobao 微详情 (issue 16 item 4): the product's footage and images as one 3:4 video with captions."""
    duration = MICRO_DETAIL["duration"]
    result = plan([footage, image_footage], PlanOptions(variants=1, duration=duration, seed=5, product=PRODUCT))
    options = AssembleOptions(aspect=str(MICRO_DETAIL["aspect"]), width=240, fps=15, preset="ultrafast")
    (variant,), _ = assemble(result, tmp_path, options)
    video = decode_all(tmp_path / variant.video, "video")
    assert (video.width, video.height) == (240, 320)
    assert duration[0] <= variant.duration <= duration[1]
    assert variant.captions and (tmp_path / variant.captions).read_text(encoding="utf-8").strip()
