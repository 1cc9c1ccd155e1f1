"""Plans a day of posts for approved clips over a tenant's accounts.

A pure function of its inputs, the clock (`now`) and a seed: the same inputs make the same plan.
Rules it keeps: each account's daily cap; at least `min_spacing_s` between two posts of an
account (slots are spread evenly over the windows, then jittered within what the spacing
allows); every post inside one of the account's windows, in its own time zone; a clip at most
once per account and on at most K accounts of a group; higher-priority clips get the earlier
slots and the accounts first.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from distribution.accounts import Account, AccountStatus


class PlanStatus(StrEnum):
    PLANNED = "planned"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"  # posted (or being posted): counts for caps, spacing and K, never moved


@dataclass(frozen=True)
class ClipToPlan:
    clip_id: str
    tenant: str
    group: str  # the account group the operator approved it for
    priority: int = 0  # higher goes first
    not_before: float = 0.0  # unix seconds (e.g. approval time)


@dataclass(frozen=True)
class PlannedPost:
    post_id: str
    clip_id: str
    account_id: str
    at: float  # unix seconds
    priority: int = 0
    status: PlanStatus = PlanStatus.PLANNED

    @property
    def counts(self) -> bool:
        return self.status in (PlanStatus.PLANNED, PlanStatus.PAUSED, PlanStatus.DONE)


@dataclass(frozen=True)
class SchedulerSettings:
    max_accounts_per_group: int = 3  # K: one clip on at most this many accounts of a group
    jitter_s: float = 600.0  # at most this far from the even spread (less when spacing needs it)
    lead_s: float = 120.0  # nothing is planned sooner than now + lead


def post_id_for(clip_id: str, account_id: str) -> str:
    """Deterministic: one clip goes at most once to an account, so the pair names the post."""
    return "p" + hashlib.sha1(f"{clip_id}\x1f{account_id}".encode()).hexdigest()[:19]


@lru_cache(maxsize=4096)
def _midnight(zone_name: str, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone_name))


def window_spans(account: Account, day: date) -> list[tuple[float, float]]:
    """The account's windows on its local `day` as unix [start, end) spans, in time order."""
    midnight = _midnight(account.timezone, day)
    spans = []
    for window in account.windows:
        start_s, end_s = window.seconds
        spans.append(
            ((midnight + timedelta(seconds=start_s)).timestamp(), (midnight + timedelta(seconds=end_s)).timestamp())
        )
    return sorted(spans)


def local_day(account: Account, at: float) -> date:
    """The local day whose windows contain `at` (a window past midnight belongs to the day it opened)."""
    today = datetime.fromtimestamp(at, account.zone).date()
    for day in (today, today - timedelta(days=1)):
        if any(s <= at <= e for s, e in window_spans(account, day)):
            return day
    return today


def _slots(
    account: Account,
    windows: list[tuple[float, float]],
    count: int,
    taken: list[float],
    now: float,
    rng: random.Random,
    settings: SchedulerSettings,
) -> list[float]:
    """Up to `count` times in the account's windows, `min_spacing_s` apart and from `taken` times."""
    spans = [(max(s, now + settings.lead_s), e) for s, e in windows]
    spans = [(s, e) for s, e in spans if e > s]
    total = sum(e - s for s, e in spans)
    spacing = account.min_spacing_s
    if count <= 0 or total <= 0:
        return []
    if spacing:
        count = min(count, int(total // spacing) + 1)
    step = total / count
    room = max(0.0, min(settings.jitter_s, (step - spacing) / 2, step / 2 - 1))
    times = []
    for i in range(count):
        position = step * (i + 0.5) + (rng.uniform(-room, room) if room > 0 else 0.0)
        for s, e in spans:  # a position along the joined windows -> a time
            if position <= e - s:
                times.append(s + position)
                break
            position -= e - s
    if taken:
        times = [t for t in times if all(abs(t - u) >= spacing for u in taken)]
    return times


def plan_day(
    clips: Iterable[ClipToPlan],
    accounts: Iterable[Account],
    day: date,
    *,
    now: float,
    seed: int,
    settings: SchedulerSettings | None = None,
    existing: Iterable[PlannedPost] = (),
) -> list[PlannedPost]:
    """New posts for `day` (each account's local date). `existing` holds the tenant's earlier and already
    planned posts: they count for caps, spacing, one-clip-per-account and K, and are not returned."""
    settings = settings or SchedulerSettings()
    current = [p for p in existing if p.counts]
    has_clip = {(p.clip_id, p.account_id) for p in current}
    by_account: dict[str, list[float]] = defaultdict(list)
    for p in current:
        by_account[p.account_id].append(p.at)
    active = [a for a in accounts if a.status is AccountStatus.ACTIVE and a.daily_cap > 0]
    account_group = {a.account_id: (a.tenant, a.group) for a in active}
    on_group: dict[tuple[str, str], int] = defaultdict(int)  # (clip, group) -> accounts holding it
    for p in current:
        if p.account_id in account_group:
            on_group[(p.clip_id, account_group[p.account_id][1])] += 1

    # Free slots per account, computed once: the day's cap minus what the day already holds.
    free: dict[str, list[float]] = {}
    groups: dict[tuple[str, str], list[Account]] = defaultdict(list)
    for account in active:
        spans = window_spans(account, day)
        day_start, day_end = spans[0][0], max(e for _, e in spans)
        taken = [t for t in by_account.get(account.account_id, ()) if day_start - 86400 <= t <= day_end + 86400]
        used = sum(1 for t in taken if day_start <= t <= day_end)
        rng = random.Random(f"{seed}:{account.account_id}:{day.isoformat()}")
        free[account.account_id] = _slots(account, spans, account.daily_cap - used, taken, now, rng, settings)
        if free[account.account_id]:
            groups[(account.tenant, account.group)].append(account)

    clips_of: dict[tuple[str, str], list[ClipToPlan]] = defaultdict(list)
    for clip in sorted(clips, key=lambda c: (-c.priority, c.not_before, c.clip_id)):
        clips_of[(clip.tenant, clip.group)].append(clip)
    planned: list[PlannedPost] = []
    for (tenant, group), members in sorted(groups.items()):
        tie = random.Random(f"{seed}:{tenant}:{group}")
        order = {a.account_id: tie.random() for a in members}
        # Accounts with the most free slots first, so the group's posts spread evenly.
        heap = [(-len(free[a.account_id]), order[a.account_id], a.account_id) for a in members]
        heapq.heapify(heap)
        for clip in clips_of.get((tenant, group), ()):
            if not heap:
                break
            wanted = settings.max_accounts_per_group - on_group[(clip.clip_id, group)]
            skipped = []
            while wanted > 0 and heap:
                entry = heapq.heappop(heap)
                account_id = entry[2]
                slots = free[account_id]
                at_index = bisect_left(slots, clip.not_before)
                if (clip.clip_id, account_id) in has_clip or at_index >= len(slots):
                    skipped.append(entry)
                    continue
                at = slots.pop(at_index)
                planned.append(
                    PlannedPost(post_id_for(clip.clip_id, account_id), clip.clip_id, account_id, at, clip.priority)
                )
                has_clip.add((clip.clip_id, account_id))
                on_group[(clip.clip_id, group)] += 1
                wanted -= 1
                if slots:
                    skipped.append((-len(slots), entry[1], account_id))
            for entry in skipped:
                heapq.heappush(heap, entry)
    return sorted(planned, key=lambda p: (p.at, p.account_id))


# -- checks and edits of a plan ------------------------------------------------------------------


def plan_violations(
    posts: Iterable[PlannedPost],
    accounts: dict[str, Account],
    clips: dict[str, ClipToPlan],
    settings: SchedulerSettings,
) -> list[str]:
    """Every rule the posts break, in words (empty when the plan is sound)."""
    problems = []
    live = [p for p in posts if p.counts]
    per_account: dict[str, list[PlannedPost]] = defaultdict(list)
    pairs: set[tuple[str, str]] = set()
    on_group: dict[tuple[str, str], int] = defaultdict(int)
    for p in live:
        account = accounts[p.account_id]
        per_account[p.account_id].append(p)
        if (p.clip_id, p.account_id) in pairs:
            problems.append(f"{p.post_id}: clip {p.clip_id} twice on account {p.account_id}")
        pairs.add((p.clip_id, p.account_id))
        on_group[(p.clip_id, account.group)] += 1
        if p.clip_id in clips and (clips[p.clip_id].group, clips[p.clip_id].tenant) != (account.group, account.tenant):
            problems.append(f"{p.post_id}: clip {p.clip_id} is not for account {p.account_id}'s group")
        if not any(s <= p.at <= e for s, e in window_spans(account, local_day(account, p.at))):
            problems.append(f"{p.post_id}: {p.at:.0f} is outside account {p.account_id}'s windows")
    for (clip_id, group), count in on_group.items():
        if count > settings.max_accounts_per_group:
            problems.append(f"clip {clip_id} on {count} accounts of group {group!r}")
    for account_id, items in per_account.items():
        account = accounts[account_id]
        times = sorted(p.at for p in items)
        for a, b in zip(times, times[1:], strict=False):
            if b - a < account.min_spacing_s - 1e-6:
                problems.append(f"account {account_id}: posts {b - a:.0f} s apart, under {account.min_spacing_s} s")
        days: dict[date, int] = defaultdict(int)
        for t in times:
            days[local_day(account, t)] += 1
        problems += [
            f"account {account_id}: {n} posts on {d}, cap {account.daily_cap}"
            for d, n in days.items()
            if n > account.daily_cap
        ]
    return problems


def _find(posts: list[PlannedPost], post_id: str) -> int:
    for index, post in enumerate(posts):
        if post.post_id == post_id:
            return index
    raise KeyError(f"post {post_id!r} not in the plan")


def move(posts: list[PlannedPost], post_id: str, at: float, account: Account) -> list[PlannedPost]:
    """The plan with one post at a new time; ValueError when the time breaks the account's rules."""
    index = _find(posts, post_id)
    post = posts[index]
    if post.status is not PlanStatus.PLANNED:
        raise ValueError(f"post {post_id}: only a planned post moves (it is {post.status})")
    if post.account_id != account.account_id:
        raise ValueError(f"post {post_id}: belongs to account {post.account_id}")
    day = local_day(account, at)
    if not any(s <= at <= e for s, e in window_spans(account, day)):
        raise ValueError(f"at: {datetime.fromtimestamp(at, account.zone):%Y-%m-%d %H:%M} is outside the windows")
    others = [p for p in posts if p.account_id == account.account_id and p.counts and p.post_id != post_id]
    close = [p.post_id for p in others if abs(p.at - at) < account.min_spacing_s]
    if close:
        raise ValueError(f"at: within {account.min_spacing_s} s of post {close[0]}")
    if sum(1 for p in others if local_day(account, p.at) == day) >= account.daily_cap:
        raise ValueError(f"at: account {account.account_id} already has {account.daily_cap} posts on {day}")
    moved = list(posts)
    moved[index] = replace(post, at=at)
    return moved


def cancel(posts: list[PlannedPost], post_id: str) -> list[PlannedPost]:
    index = _find(posts, post_id)
    if posts[index].status is PlanStatus.DONE:
        raise ValueError(f"post {post_id}: already posted")
    changed = list(posts)
    changed[index] = replace(posts[index], status=PlanStatus.CANCELLED)
    return changed


def pause_account(posts: list[PlannedPost], account_id: str) -> list[PlannedPost]:
    """The account's planned posts wait (paused) until `resume_account`."""
    return [
        replace(p, status=PlanStatus.PAUSED) if p.account_id == account_id and p.status is PlanStatus.PLANNED else p
        for p in posts
    ]


def resume_account(posts: list[PlannedPost], account_id: str, now: float) -> list[PlannedPost]:
    """Paused posts whose time is still ahead go back to planned; those whose time passed are cancelled,
    freeing their clips for the next plan (posting them all at once would break the spacing)."""
    resumed = []
    for p in posts:
        if p.account_id == account_id and p.status is PlanStatus.PAUSED:
            p = replace(p, status=PlanStatus.PLANNED if p.at > now else PlanStatus.CANCELLED)
        resumed.append(p)
    return resumed
