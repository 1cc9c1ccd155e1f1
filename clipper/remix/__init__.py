"""Batch remix: many really different short videos per product from recorded footage.

footage = [analyze(path, utterances_of(path), product) for path in inputs]
result = plan(footage, PlanOptions(variants=10, duration=(15, 30), seed=7))
variants, messages = assemble(result, out_dir, AssembleOptions(music="music/"), progress)
write_manifest(out_dir, variants)
"""

from clipper.remix.analysis import NO_AUDIO_NOTE, AnalysisSettings, analyze
from clipper.remix.assembly import Variant, assemble
from clipper.remix.errors import RemixError
from clipper.remix.footage import Box, Footage, Quality, Segment
from clipper.remix.manifest import MANIFEST, read_manifest, write_manifest
from clipper.remix.music import music_tracks
from clipper.remix.planner import PlannedVariant, PlanOptions, PlanResult, plan
from clipper.remix.settings import MICRO_DETAIL, AssembleOptions
from clipper.remix.signature import MATCH_DISTANCE, frame_hash, shared_fraction

__all__ = [
    "MANIFEST",
    "MATCH_DISTANCE",
    "MICRO_DETAIL",
    "NO_AUDIO_NOTE",
    "AnalysisSettings",
    "AssembleOptions",
    "Box",
    "Footage",
    "PlanOptions",
    "PlanResult",
    "PlannedVariant",
    "Quality",
    "RemixError",
    "Segment",
    "Variant",
    "analyze",
    "assemble",
    "frame_hash",
    "music_tracks",
    "plan",
    "read_manifest",
    "shared_fraction",
    "write_manifest",
]
