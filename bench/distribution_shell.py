"""The distribution shell's store path on SQLite: plan clips over many accounts through the API's planner
(stored accounts and posts -> distribution.plan_day -> stored posts), then claim the due posts the way the
post role's scheduler does. Prints seconds for each step.
Run: PYTHONPATH=. python bench/distribution_shell.py [--accounts N] [--clips N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from livecut.api.models import PostCaption  # noqa: E402
from livecut.api.routes.posts import plan_posts  # noqa: E402
from livecut.api.views import ApiContext  # noqa: E402
from livecut.runtime.posting import DistributionSettings  # noqa: E402
from livecut.store import MetadataStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--clips", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = MetadataStore(Path(folder) / "livecut.db")
        room = store.create_room("bench", "push", tenant="brand-a")
        started = time.perf_counter()
        for n in range(args.accounts):
            store.create_account(
                {
                    "account_id": f"acc-{n:05d}",
                    "tenant": "brand-a",
                    "platform": "douyin",
                    "display_name": f"shop {n}",
                    "group": f"g{n % 10}",
                    "windows": ["00:00-23:59"],
                    "timezone": "UTC",
                    "daily_cap": 10,
                    "min_spacing_s": 600,
                    "extra": {"open_id": f"o{n}"},
                }
            )
        print(f"accounts stored: {args.accounts} in {time.perf_counter() - started:.2f} s")
        clips = [{"clip_id": f"clip-{n:05d}", "room": room.id} for n in range(args.clips)]
        ctx = ApiContext(store, None, None, "", None, None, 60.0)  # type: ignore[arg-type]
        ctx.distribution = DistributionSettings(lead_s=0.0)
        day = datetime.now(UTC).date()
        started = time.perf_counter()
        made = 0
        for group in range(10):
            made += len(plan_posts(ctx, "brand-a", clips, f"g{group}", day, 0, PostCaption()))
        took = time.perf_counter() - started
        print(f"planned and stored: {made} posts of {args.clips} clips over 10 groups in {took:.2f} s")
        started = time.perf_counter()
        again = sum(len(plan_posts(ctx, "brand-a", clips, f"g{g}", day, 0, PostCaption())) for g in range(10))
        print(f"the same plan again (nothing new: {again}) in {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        claimed = 0
        while batch := store.claim_due_posts(time.time() + 2 * 86400, 600.0, limit=500):
            claimed += len(batch)
        print(f"claimed as due: {claimed} posts in {time.perf_counter() - started:.2f} s")
        store.close()
    print(f"process CPU time: {time.process_time():.2f} s (wall times above are noisy on a shared machine)")


if __name__ == "__main__":
    main()
