"""`livecut remix`: many really different short videos per product from recorded footage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import cast

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    remix = commands.add_parser(
        "remix",
        parents=[common],
        help="make many distinct short videos per product from recorded footage",
        description="Transcribe and label the footage (videos of live rooms or products; product images become "
        "short Ken Burns shots), plan variants that differ in content (each its own hook, 2-4 selling points, "
        "no two sharing more than half their seconds by per-second frame hashes) and assemble them with "
        "captions, a cover and optional music. Writes DIR/variants.jsonl and the videos.",
        epilog=epilog,
    )
    remix.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="videos and product images")
    remix.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    remix.add_argument("--product", metavar="SKU", help="the product the footage is about (default: per product found)")
    remix.add_argument("--title", help="the product title on the cover")
    remix.add_argument("--variants", type=int, default=10, metavar="N", help="how many variants (default 10)")
    remix.add_argument("--duration", default="15-60", metavar="MIN-MAX", help="seconds per variant (default 15-60)")
    remix.add_argument("--aspect", choices=("9:16", "3:4", "1:1"), default="9:16")
    remix.add_argument("--music", type=Path, metavar="DIR", help="a folder of background music (ducked under speech)")
    remix.add_argument("--seed", type=int, default=0, help="the same seed makes the same variants")
    remix.add_argument("--preset", choices=("micro-detail",), help="Taobao micro-detail: 3:4, 10-60 s")
    remix.set_defaults(handler=_run_remix)


def _duration(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        return float(low), float(high)
    except ValueError:
        raise SystemExit(f"livecut: --duration must be MIN-MAX seconds, e.g. 15-60, not {text!r}") from None


def _run_remix(args: argparse.Namespace, config: dict) -> int:
    from clipper.remix import (
        MICRO_DETAIL,
        AssembleOptions,
        PlanOptions,
        RemixError,
        analyze,
        assemble,
        plan,
        write_manifest,
    )

    duration = _duration(args.duration)
    aspect = args.aspect
    if args.preset == "micro-detail":
        aspect = str(MICRO_DETAIL["aspect"])
        # clipper.remix types the preset's values loosely (a dict of settings); its duration is (MIN, MAX) seconds.
        duration = cast("tuple[float, float]", MICRO_DETAIL["duration"])
    try:
        plan_options = PlanOptions(variants=args.variants, duration=duration, product=args.product, seed=args.seed)
        assemble_options = AssembleOptions(aspect=aspect, music=str(args.music) if args.music else None)
    except RemixError as exc:
        print(f"livecut: {exc}", file=sys.stderr)
        return 2
    footage, failures = _analyze_all(args, config, analyze, RemixError)
    if not footage:
        print("livecut: no usable input", file=sys.stderr)
        return 1
    result = plan(footage, plan_options)
    for message in result.messages:
        print(f"livecut: {message}", file=sys.stderr)
    variants, messages = assemble(result, args.out, assemble_options, _progress)
    for message in messages:
        print(f"livecut: {message}", file=sys.stderr)
    manifest = write_manifest(args.out, variants)
    print(f"{len(variants)} variants: {manifest}")
    return 1 if failures or not variants else 0


def _analyze_all(args: argparse.Namespace, config: dict, analyze, error: type[Exception]) -> tuple[list, int]:  # noqa: ANN001
    """Each input's footage: videos transcribed and labeled by the clip stages, images as they are."""
    from livecut.runtime.clip_job import ClipJob
    from stream.file_source import SourceError
    from stream.ingest import IngestError

    footage, failures = [], 0
    with ClipJob(config, args.out / ".transcripts", render=False) as job:
        for source in args.inputs:
            try:
                utterances = [] if source.suffix.lower() in IMAGE_SUFFIXES else job.run(source).utterances
                found = analyze(source, utterances, product=args.product, title=args.title)
            except (SourceError, IngestError, error) as exc:
                failures += 1
                print(f"livecut: skipped {source}: {exc}", file=sys.stderr)
                continue
            for note in found.notes:
                print(f"livecut: {source}: {note}", file=sys.stderr)
            footage.append(found)
    return footage, failures


def _progress(done: int, total: int, label: str) -> None:
    print(f"\r{done}/{total} {label[:60]:60}", end="" if done < total else "\n", file=sys.stderr, flush=True)
