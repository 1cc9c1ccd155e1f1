"""variants.jsonl: one JSON object per variant, the file distribution reads."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from clipper.remix.assembly import Variant

MANIFEST = "variants.jsonl"


def write_manifest(out_dir: Path, variants: Sequence[Variant]) -> Path:
    """Write `out_dir/variants.jsonl` (replacing it whole, via a temporary file)."""
    path = Path(out_dir) / MANIFEST
    temp = path.with_name(f".tmp-{MANIFEST}")
    with temp.open("w", encoding="utf-8") as out:
        for variant in variants:
            out.write(json.dumps(variant.to_record(), ensure_ascii=False) + "\n")
    os.replace(temp, path)
    return path


def read_manifest(out_dir: Path) -> list[dict]:
    """The records of `out_dir/variants.jsonl`, in file order."""
    lines = (Path(out_dir) / MANIFEST).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
