"""Whole `livecut clip` time per minute of input, as a user runs it (model loading included).

Runs the CLI once over all committed samples in a fresh process and reports wall time
per minute of media, then once more per sample so loading is visible separately.

    .venv/bin/python bench/clip.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stream.file_source import probe

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SAMPLES = ["zh_live.mp4", "en_live.mp4"]


def run_clip(inputs: list[Path]) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "livecut.cli", "clip", *map(str, inputs), "--out", out],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started


def main() -> None:
    print(f"{'input':24} {'media s':>8} {'wall s':>8} {'s per media min':>16}")
    rows = [([FIXTURES / s], s) for s in SAMPLES] + [([FIXTURES / s for s in SAMPLES], "all samples")]
    for inputs, name in rows:
        media = sum(probe(path).duration or 0.0 for path in inputs)
        wall = run_clip(inputs)
        print(f"{name:24} {media:8.1f} {wall:8.1f} {wall / media * 60:16.1f}")


if __name__ == "__main__":
    main()
