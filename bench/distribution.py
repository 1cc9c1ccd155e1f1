"""Distribution figures: plan one day for 10,000 accounts x 10 posts (goal <= 5 s), then post 1,000
clips to a local stand-in of the Douyin open platform (tests/distribution/dist_fakes.py) and print
posts per minute. Run: PYTHONPATH=. python bench/distribution.py [--accounts N] [--posts N] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "distribution")]

from dist_fakes import FakePlatforms  # noqa: E402

from distribution import (  # noqa: E402
    Account,
    Caption,
    ClipToPlan,
    Credentials,
    DouyinPoster,
    MemoryJournal,
    PostJob,
    PostStatus,
    Window,
    load_rules,
    plan_day,
    run_attempt,
)

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Asia/Tokyo"]


def bench_plan(n_accounts: int, per_day: int) -> None:
    accounts = [
        Account(
            f"a{i}",
            "t1",
            "douyin",
            f"shop {i}",
            group=f"g{i % 100}",
            timezone=ZONES[i % 4],
            daily_cap=per_day,
            windows=(Window(clock(9), clock(12)), Window(clock(18), clock(23, 30))),
            min_spacing_s=1200,
        )
        for i in range(n_accounts)
    ]
    per_group = n_accounts // 100 * per_day // 3 + 10  # K = 3 accounts per clip
    clips = [ClipToPlan(f"c{g}-{j}", "t1", f"g{g}", priority=j % 5) for g in range(100) for j in range(per_group)]
    now = datetime(2026, 3, 9, tzinfo=ZoneInfo("UTC")).timestamp()
    started = time.perf_counter()
    plan = plan_day(clips, accounts, date(2026, 3, 10), now=now, seed=1)
    seconds = time.perf_counter() - started
    print(f"plan: {len(plan)} posts for {n_accounts} accounts x {per_day}/day in {seconds:.2f} s (goal <= 5 s)")


def bench_post(n_posts: int, workers: int) -> None:
    fake = FakePlatforms().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            video = Path(folder) / "clip.mp4"
            video.write_bytes(bytes(range(256)) * 4096 * 2)  # 2 MB: a short clip's size
            poster = DouyinPoster(load_rules("douyin"), base_url=fake.base)
            journal = MemoryJournal()
            account = Account("a1", "t1", "douyin", "shop", extra={"open_id": "open-1"})

            def one(i: int) -> PostStatus:
                job = PostJob(f"post-{i}", account, video, Caption(f"clip {i}"))
                return run_attempt(job, poster, Credentials("tok-1"), journal).status

            started = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                statuses = list(pool.map(one, range(n_posts)))
            seconds = time.perf_counter() - started
        posted = statuses.count(PostStatus.POSTED)
        print(
            f"post: {posted}/{n_posts} posted (2 MB each, upload_video + create_video, {workers} threads) "
            f"in {seconds:.1f} s = {posted / seconds * 60:.0f} posts/min"
        )
    finally:
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--per-day", type=int, default=10)
    parser.add_argument("--posts", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    bench_plan(args.accounts, args.per_day)
    bench_post(args.posts, args.workers)


if __name__ == "__main__":
    main()
