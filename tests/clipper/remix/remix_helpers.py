"""Shared inputs of the remix tests: the labeled transcript of the fixture script, no Whisper needed."""

from __future__ import annotations

import json
from pathlib import Path

import av

from clipper.remix import AssembleOptions, PlanOptions
from clipper.remix.signature import frame_hash
from livecut.contracts import Utterance, Word

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REMIX = FIXTURES / "remix"
SHOTS_VIDEO = REMIX / "zh_shots.mp4"
MUSIC = REMIX / "music"
PRODUCT_IMAGE = REMIX / "product.jpg"


def script(name: str = "zh_live.json") -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["sentences"]


def utterances(name: str = "zh_live.json", labels: bool = True) -> list[Utterance]:
    """The script's sentences as the segmenter would hand them over: words spread evenly over the voiced span."""
    out = []
    for s in script(name):
        chars = [c for c in s["text"] if c.strip()]
        step = (s["t1"] - s["t0"]) / len(chars)
        words = [Word(round(s["t0"] + i * step, 3), round(s["t0"] + (i + 1) * step, 3), c) for i, c in enumerate(chars)]
        label, sublabel = (s["label"], s["sublabel"]) if labels else ("chitchat", None)
        out.append(Utterance("room", s["t0"], s["t1"], s["text"], "zh", words, label, sublabel, 0.9))
    return out


def keyframe_hashes(path: Path) -> list[str]:
    """Independent of the remix code: PDQ of every keyframe (one a second) of a written video."""
    hashes = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(stream):
            rgb = frame.reformat(width=256, height=max(2, round(256 * frame.height / frame.width)), format="rgb24")
            hashes.append(frame_hash(rgb.to_ndarray()))
    return hashes


# Shared by the remix tests (here, not in conftest.py: test modules import them by a unique module name).
PRODUCT = "silk-dress"
TITLE = "真丝连衣裙 夏季新款"
# Small and quick for the suite; bench/remix.py runs the 720x1280, 30 fps case.
TEST_ASSEMBLY = AssembleOptions(width=360, fps=15, preset="ultrafast", music=str(MUSIC))
TEST_PLAN = PlanOptions(variants=10, duration=(12.0, 20.0), seed=3, product=PRODUCT)
