"""Detail-page render time: a 12-page apparel detail (the committed fixture cardigan) rendered for Taobao.

Plans the page (slot filling, image roles analysed once beforehand), launches Debian's chromium,
then renders it: the first render in a fresh browser and the median of warm renders (the shell keeps
one browser open). Goal: <= 5 s per 12-page detail on 2 cores.

    .venv/bin/python bench/detail_page.py [--repeat N] [--platform taobao]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path and bench/catalog.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
from catalog import analyse_image, load_platforms, product_from_dict  # noqa: E402
from catalog.detail import DetailRenderer, plan_detail  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "catalog"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--platform", default="taobao")
    args = parser.parse_args()
    rows = json.loads((FIXTURES / "detail_products.json").read_text(encoding="utf-8"))
    product = product_from_dict(rows[0])
    images = []
    for path in product.images:
        analysis = analyse_image(FIXTURES / path, path)
        analysis.path = path
        images.append(analysis)
    started = time.perf_counter()
    plan = plan_detail(product, images=images, base_dir=FIXTURES)
    plan_s = time.perf_counter() - started
    profile = load_platforms()[args.platform]
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        with DetailRenderer() as renderer:
            launch_s = time.perf_counter() - started
            first = renderer.render(plan, profile, Path(out) / "first")
            first_s = time.perf_counter() - started
            warm = []
            for i in range(args.repeat):
                t = time.perf_counter()
                result = renderer.render(plan, profile, Path(out) / f"warm{i}")
                warm.append(time.perf_counter() - t)
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f} (other work on the machine slows this)")
    print(f"pages: {len(plan.pages)}  slices: {len(result.slices)}  height: {sum(s.height for s in result.slices)} px")
    print(f"plan: {plan_s:.2f} s")
    print(f"browser launch: {launch_s:.2f} s")
    print(f"first render incl. launch: {first_s:.2f} s  (render alone {first.seconds:.2f} s)")
    print(f"warm render: median {statistics.median(warm):.2f} s  min {min(warm):.2f} s over {len(warm)}")
    print(f"bytes per slice: max {max(s.bytes for s in result.slices)} (cap {result.max_bytes})")


if __name__ == "__main__":
    main()
