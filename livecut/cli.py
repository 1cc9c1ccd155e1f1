"""The `livecut` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from livecut.config import ConfigError, load_config

EPILOG = "Every default is in config.toml at the repository root; --config FILE overrides any of its keys."


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        return args.handler(args, config)
    except ConfigError as exc:
        print(f"livecut: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("livecut: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livecut",
        description="Turn live-commerce broadcasts into labeled, captioned clips of each selling point.",
        epilog=EPILOG,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="TOML file whose keys override config.toml")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    clip = commands.add_parser(
        "clip",
        parents=[common],
        help="clip recorded videos (MP4, FLV, MPEG-TS)",
        description="Transcribe, label and cut recorded live-room videos into one captioned clip per topic. "
        "Writes DIR/utterances.jsonl, DIR/clips.jsonl and the media under DIR/clips/.",
        epilog=EPILOG,
    )
    clip.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="video files to clip")
    clip.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    clip.set_defaults(handler=_run_clip)

    classify = commands.add_parser(
        "classify",
        parents=[common],
        help="label utterance texts read from stdin",
        description="Read one utterance per line on stdin; write one JSON object per line to stdout "
        "with text, label, sublabel and confidence.",
        epilog=EPILOG,
    )
    classify.set_defaults(handler=_run_classify)

    models = commands.add_parser(
        "models",
        parents=[common],
        help="provision and check the model weights (no network)",
        description="Assemble the Whisper model named by asr.model into paths.model_cache (once; "
        "checksummed) and load the sentence embedder, printing where each model lives.",
        epilog=EPILOG,
    )
    models.set_defaults(handler=_run_models)
    return parser


def _run_clip(args: argparse.Namespace, config: dict) -> int:
    from livecut.pipeline import ClipJob
    from livecut.progress import progress_bar
    from stream.file_source import SourceError, probe

    failures = 0
    with ClipJob(config, args.out) as job:
        for source in args.inputs:
            try:
                with progress_bar(source, probe(source).duration) as progress:
                    result = job.run(source, progress)
            except SourceError as exc:
                failures += 1
                print(f"livecut: skipped {exc}", file=sys.stderr)
                continue
            print(
                f"{source}: {len(result.utterances)} utterances, {len(result.clips)} clips", file=sys.stderr
            )
    print(f"clips: {args.out / 'clips'}  (index: {args.out / 'clips.jsonl'})")
    return 1 if failures else 0


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


def _run_models(args: argparse.Namespace, config: dict) -> int:
    from livecut.config import expand_path
    from segmenter.embedders import load_embedder
    from segmenter.whisper_models import ModelNotFoundError, resolve_whisper_model

    try:
        folder = resolve_whisper_model(config["asr"]["model"], expand_path(config["paths"]["model_cache"]))
    except ModelNotFoundError as exc:
        print(f"livecut: {exc}", file=sys.stderr)
        return 1
    print(f"asr model {config['asr']['model']}: {folder}")
    embedder = config["classifier"]["embedder"]
    dimensions = load_embedder(embedder).encode(["ok"]).shape[1]
    print(f"sentence embedder {embedder}: loaded ({dimensions} dimensions)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.exit(main())
