"""The scheduler on a simulated clock: caps, spacing, windows in each account's time zone, one clip at
most once per account and on at most K accounts of a group, for 100 accounts x 10 posts a day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from distribution import (
    Account,
    AccountStatus,
    ClipToPlan,
    PlanStatus,
    SchedulerSettings,
    Window,
    cancel,
    move,
    pause_account,
    plan_day,
    plan_violations,
    resume_account,
)
from distribution.scheduler import local_day, window_spans

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Sydney"]
DAY = date(2026, 3, 29)  # Berlin and Sydney change their clocks around this weekend
NOW = datetime(2026, 3, 28, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def accounts(n: int = 100) -> list[Account]:
    made = []
    for i in range(n):
        windows = (Window(time(9), time(12)), Window(time(18), time(23, 30))) if i % 3 else (Window(time(20), time(2)),)
        made.append(
            Account(
                f"a{i:03d}",
                "t1",
                "douyin",
                f"shop {i}",
                group=f"g{i % 5}",
                windows=windows,
                timezone=ZONES[i % 4],
                daily_cap=10,
                min_spacing_s=900 + 60 * (i % 7),
            )
        )
    return made


def clips(groups: int = 5, per_group: int = 80) -> list[ClipToPlan]:
    return [ClipToPlan(f"c{g}-{j:03d}", "t1", f"g{g}", priority=j % 4) for g in range(groups) for j in range(per_group)]


def test_a_day_for_100_accounts_keeps_every_rule():
    accs, cs = accounts(), clips()
    settings = SchedulerSettings(max_accounts_per_group=3)
    plan = plan_day(cs, accs, DAY, now=NOW, seed=7, settings=settings)
    by_id = {a.account_id: a for a in accs}
    assert len(plan) == 1000  # every account full: 10 posts each
    assert plan_violations(plan, by_id, {c.clip_id: c for c in cs}, settings) == []
    for post in plan:  # every post on the planned local day, inside a window
        account = by_id[post.account_id]
        assert local_day(account, post.at) == DAY
        assert any(s <= post.at <= e for s, e in window_spans(account, DAY))
    first = {p.clip_id for p in plan if p.priority == 3}
    assert first, "high-priority clips are planned"


def test_the_same_seed_makes_the_same_plan_and_another_seed_jitters():
    accs, cs = accounts(20), clips(5, 20)
    one = plan_day(cs, accs, DAY, now=NOW, seed=1)
    assert one == plan_day(cs, accs, DAY, now=NOW, seed=1)
    assert [p.at for p in one] != [p.at for p in plan_day(cs, accs, DAY, now=NOW, seed=2)]


def test_existing_posts_count_for_caps_clips_and_k_and_the_next_day_continues():
    accs, cs = accounts(10), clips(5, 40)
    by_id = {a.account_id: a for a in accs}
    day1 = plan_day(cs, accs, DAY, now=NOW, seed=3)
    day2 = plan_day(cs, accs, DAY + timedelta(days=1), now=NOW, seed=3, existing=day1)
    both = day1 + day2
    assert plan_violations(both, by_id, {c.clip_id: c for c in cs}, SchedulerSettings()) == []
    again = plan_day(cs, accs, DAY, now=NOW, seed=3, existing=day1)
    assert again == []  # the day is full


def test_only_active_accounts_and_only_the_future_are_planned():
    accs = accounts(4)
    accs[0] = Account(**{**accs[0].__dict__, "status": AccountStatus.NEEDS_REAUTH})
    late = window_spans(accs[1], DAY)[0][0] + 3600  # an hour into account 1's first window
    plan = plan_day(clips(), accs, DAY, now=late, seed=1)
    assert all(p.account_id != accs[0].account_id for p in plan)
    assert all(p.at >= late for p in plan)


def test_move_cancel_pause_resume():
    accs = accounts(5)
    by_id = {a.account_id: a for a in accs}
    plan = plan_day(clips(), accs, DAY, now=NOW, seed=1)
    post = next(p for p in plan if p.account_id == "a001")
    others = [p.at for p in plan if p.account_id == "a001" and p is not post]
    spans = window_spans(by_id["a001"], DAY)
    with pytest.raises(ValueError, match="outside the windows"):
        move(plan, post.post_id, spans[0][0] - 600, by_id["a001"])
    with pytest.raises(ValueError, match="within"):
        move(plan, post.post_id, others[0] + 60, by_id["a001"])
    free = next(
        t
        for t in range(int(spans[0][0]), int(spans[-1][1]), 60)
        if all(abs(t - o) >= by_id["a001"].min_spacing_s for o in others) and any(s <= t <= e for s, e in spans)
    )
    moved = move(plan, post.post_id, float(free), by_id["a001"])
    assert next(p for p in moved if p.post_id == post.post_id).at == free
    cancelled = cancel(moved, post.post_id)
    assert next(p for p in cancelled if p.post_id == post.post_id).status is PlanStatus.CANCELLED
    with pytest.raises(KeyError):
        cancel(plan, "no-such-post")
    paused = pause_account(plan, "a002")
    assert {p.status for p in paused if p.account_id == "a002"} == {PlanStatus.PAUSED}
    midway = sorted(p.at for p in plan if p.account_id == "a002")[4]
    resumed = resume_account(paused, "a002", now=midway)
    statuses = [p.status for p in sorted(resumed, key=lambda p: p.at) if p.account_id == "a002"]
    assert statuses == [PlanStatus.CANCELLED] * 5 + [PlanStatus.PLANNED] * 5
