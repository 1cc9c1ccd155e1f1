"""Remix benchmark: analysis speed (x real time) and variants per minute for ~30 s 720x1280 variants.

    PYTHONPATH=. python bench/remix.py [--variants 10] [--preset veryfast] [--fps 30]

Inputs are the committed fixtures (zh_shots.mp4 from the remix fixtures, en_live.mp4, a product image),
labeled from their scripts; captions and music on. Variants per minute counts the whole assembly from a
cold piece cache (every segment encoded once, then each variant joined by stream copy). The same batch
is then assembled again over the warm cache (only the audio mix and the join per variant), and each
line gives the CPU seconds spent (this process and its ffmpeg children), which load on a shared
machine does not inflate as it does wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clipper.remix import (  # noqa: E402
    AssembleOptions,
    PlanOptions,
    PlanResult,
    Variant,
    analyze,
    assemble,
    plan,
    write_manifest,
)
from livecut.contracts import Utterance, Word  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


def utterances(script: Path) -> list[Utterance]:
    out = []
    for s in json.loads(script.read_text(encoding="utf-8"))["sentences"]:
        tokens = list(s["text"]) if any("\u4e00" <= c <= "\u9fff" for c in s["text"]) else s["text"].split()
        step = (s["t1"] - s["t0"]) / len(tokens)
        words = [Word(s["t0"] + i * step, s["t0"] + (i + 1) * step, t) for i, t in enumerate(tokens)]
        out.append(Utterance("bench", s["t0"], s["t1"], s["text"], "zh", words, s["label"], s["sublabel"], 0.9))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=0, help="encodes at a time (default 0: one per CPU core)")
    args = parser.parse_args()
    inputs = [
        (FIXTURES / "remix" / "zh_shots.mp4", FIXTURES / "zh_live.json"),
        (FIXTURES / "en_live.mp4", FIXTURES / "en_live.json"),
    ]
    started = time.perf_counter()
    footage = [analyze(video, utterances(script), "silk-dress", title="真丝连衣裙") for video, script in inputs]
    analysis = time.perf_counter() - started
    footage.append(analyze(FIXTURES / "remix" / "product.jpg", [], "silk-dress", title="真丝连衣裙"))
    media = sum(f.duration for f in footage[:2])
    result = plan(footage, PlanOptions(variants=args.variants, duration=(25.0, 35.0), seed=1))
    options = AssembleOptions(fps=args.fps, preset=args.preset, music=str(FIXTURES / "remix" / "music"), jobs=args.jobs)
    out = Path(tempfile.mkdtemp(prefix="remix-bench-"))
    try:
        cold = timed_assembly(result, out, options)
        warm = timed_assembly(result, out, options)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"analysis: {media:.1f} s of footage in {analysis:.1f} s = {media / analysis:.1f}x real time")
    print(f"plan: {len(result.variants)} variants ({'; '.join(result.messages) or 'as asked'})")
    what = f"at {options.size[0]}x{options.size[1]} {args.fps} fps x264 {args.preset}, captions + music"
    print(f"assembly, cold piece cache: {cold.summary()} {what}")
    print(f"assembly, warm piece cache (mix + join only): {warm.summary()}")


@dataclass
class Timing:
    variants: list[Variant]
    seconds: float
    cpu: float  # seconds, this process and its children

    def summary(self) -> str:
        count = len(self.variants)
        mean = sum(v.duration for v in self.variants) / max(1, count)
        cores = len(os.sched_getaffinity(0))
        return (
            f"{count} variants of {mean:.1f} s mean in {self.seconds:.1f} s = {count / self.seconds * 60:.1f} "
            f"variants/minute (CPU {self.cpu:.1f} s, {self.cpu / self.seconds:.2f} of {cores} cores busy)"
        )


def timed_assembly(result: PlanResult, out: Path, options: AssembleOptions) -> Timing:
    """Assemble and write the manifest; wall seconds and CPU seconds of this process and its children."""
    cpu_before, started = cpu_seconds(), time.perf_counter()
    variants, _messages = assemble(result, out, options)
    write_manifest(out, variants)
    return Timing(variants, time.perf_counter() - started, cpu_seconds() - cpu_before)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
