"""`livecut clip` (recorded files) and `livecut models` (provision the weights)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    clip = commands.add_parser(
        "clip",
        parents=[common],
        help="clip recorded videos (MP4, FLV, MPEG-TS)",
        description="Transcribe, label and cut recorded live-room videos into one captioned clip per topic. "
        "Writes DIR/utterances.jsonl, DIR/clips.jsonl and the media under DIR/clips/.",
        epilog=epilog,
    )
    clip.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="video files to clip")
    clip.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    clip.set_defaults(handler=_run_clip)

    models = commands.add_parser(
        "models",
        parents=[common],
        help="provision and check the model weights (no network)",
        description="Assemble the Whisper model named by asr.model into paths.model_cache (once; "
        "checksummed) and load the sentence embedder, printing where each model lives.",
        epilog=epilog,
    )
    models.set_defaults(handler=_run_models)


def _run_clip(args: argparse.Namespace, config: dict) -> int:
    from livecut.cli.progress import progress_bar
    from livecut.runtime.clip_job import ClipJob
    from stream.file_source import SourceError, probe
    from stream.ingest import IngestError

    failures = 0
    with ClipJob(config, args.out) as job:
        for source in args.inputs:
            try:
                with progress_bar(source, probe(source).duration) as progress:
                    result = job.run(source, progress)
            except (SourceError, IngestError) as exc:
                failures += 1
                named = exc if isinstance(exc, SourceError) else f"{source}: {exc}"  # SourceError names the file
                print(f"livecut: skipped {named}", file=sys.stderr)
                continue
            print(f"{source}: {len(result.utterances)} utterances, {len(result.clips)} clips", file=sys.stderr)
    print(f"clips: {args.out / 'clips'}  (index: {args.out / 'clips.jsonl'})")
    return 1 if failures else 0


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
