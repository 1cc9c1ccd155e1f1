"""Catalog throughput: extract + export per product, five 1500x1500 images each (four photos, one hang tag).

Run: python bench/catalog.py [--products N] [--platforms taobao|all]
Prints products per minute for extraction alone and for extract + export. Goal: >= 60 per minute on
2 cores (exporting to one platform). Images are drawn here, deterministically, into a temp folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

# Run as a script, this file's folder comes first on sys.path and its name would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from catalog import CatalogSettings, export, extract  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
COLORS = [(200, 16, 46), (31, 42, 68), (46, 139, 87), (230, 216, 189), (125, 79, 160)]


def draw_images(folder: Path, index: int) -> list[str]:
    names = []
    color = COLORS[index % len(COLORS)]
    for view in range(4):
        image = Image.new("RGB", (1500, 1500), (255, 255, 255) if view % 2 == 0 else (193, 154, 107))
        draw = ImageDraw.Draw(image)
        draw.rectangle([450 + view * 20, 300, 1050, 1200], fill=color)
        draw.ellipse([600, 350, 900, 650], fill=tuple(min(255, c + 40) for c in color))
        name = f"p{index}_{view}.jpg"
        image.save(folder / name, quality=90)
        names.append(name)
    tag = Image.new("RGB", (1500, 1500), (255, 255, 255))
    font = ImageFont.truetype(FONT, 80)
    for row, line in enumerate(["合格证", "面料: 棉95% 氨纶5%", "里料: 聚酯纤维100%", "洗涤: 手洗"]):
        ImageDraw.Draw(tag).text((150, 250 + row * 220), line, fill=(20, 20, 20), font=font)
    tag.save(folder / f"p{index}_tag.jpg", quality=90)
    return [*names, f"p{index}_tag.jpg"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10)
    parser.add_argument("--platforms", default="taobao")
    args = parser.parse_args()
    settings = CatalogSettings()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        products = [
            {
                "sku": f"SKU-{i}",
                "title": "纯色修身连衣裙 夏季 无袖",
                "description": "棉95% 氨纶5%",
                "images": draw_images(folder, i),
            }
            for i in range(args.products + 1)
        ]
        extract(products[0], None, settings, base_dir=folder)  # loads the OCR models once, not timed
        started = time.perf_counter()
        results = [extract(p, None, settings, base_dir=folder) for p in products[1:]]
        extracted = time.perf_counter() - started
        started = time.perf_counter()
        for product, result in zip(products[1:], results, strict=True):
            report = export(
                product, args.platforms, folder / "out" / product["sku"], settings, extraction=result, base_dir=folder
            )
            assert report.ok, report.violations
        exported = time.perf_counter() - started
    n = args.products
    print(
        f"cpus available: {len(os.sched_getaffinity(0))}; products: {n}; images each: 5 (1500x1500); "
        f"platforms: {args.platforms}"
    )
    print(f"extract:          {extracted / n:.3f} s/product  {60 * n / extracted:.1f} products/min")
    print(f"export:           {exported / n:.3f} s/product  {60 * n / exported:.1f} products/min")
    print(
        f"extract + export: {(extracted + exported) / n:.3f} s/product  "
        f"{60 * n / (extracted + exported):.1f} products/min"
    )


if __name__ == "__main__":
    main()
