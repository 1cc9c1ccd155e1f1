"""`livecut classify`: label utterance texts from stdin."""

from __future__ import annotations

import argparse
import json
import sys


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    classify = commands.add_parser(
        "classify",
        parents=[common],
        help="label utterance texts read from stdin",
        description="Read one utterance per line on stdin; write one JSON object per line to stdout "
        "with text, label, sublabel and confidence.",
        epilog=epilog,
    )
    classify.set_defaults(handler=_run_classify)


def _run_classify(args: argparse.Namespace, config: dict) -> int:
    from livecut.pipeline import build_classifier

    classifier = build_classifier(config)
    texts = [line.strip() for line in sys.stdin if line.strip()]
    for text, prediction in zip(texts, classifier.predict(texts), strict=True):
        record = {
            "text": text,
            "label": prediction.label,
            "sublabel": prediction.sublabel,
            "confidence": round(prediction.confidence, 4),
        }
        print(json.dumps(record, ensure_ascii=False))
    return 0
