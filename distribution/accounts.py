"""Accounts a tenant posts from: where, when and how often."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"  # its refresh token was refused: posts wait until a person reconnects it
    PAUSED = "paused"  # an operator stopped it; its planned posts wait
    DISABLED = "disabled"  # banned or removed: nothing is planned for it


@dataclass(frozen=True)
class Window:
    """A daily posting window in the account's own time zone; `end` may be before `start` (past midnight)."""

    start: time
    end: time

    @property
    def seconds(self) -> tuple[int, int]:
        s = self.start.hour * 3600 + self.start.minute * 60 + self.start.second
        e = self.end.hour * 3600 + self.end.minute * 60 + self.end.second
        return s, (e if e > s else e + 86400)


@dataclass(frozen=True)
class Account:
    account_id: str
    tenant: str
    platform: str
    display_name: str
    group: str = ""
    windows: tuple[Window, ...] = (Window(time(8), time(23)),)
    timezone: str = "Asia/Shanghai"
    daily_cap: int = 10
    min_spacing_s: int = 1800
    status: AccountStatus = AccountStatus.ACTIVE
    # Platform ids the posters need (Douyin open_id, TikTok creator id ...), never secrets.
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def parse_window(text: str) -> Window:
    """'HH:MM-HH:MM' (24 h)."""
    try:
        start, end = (time.fromisoformat(p.strip()) for p in text.split("-"))
    except ValueError:
        raise ValueError(f"windows: {text!r} is not HH:MM-HH:MM") from None
    if start == end:
        raise ValueError(f"windows: {text!r} is empty")
    return Window(start, end)


def account_from_record(record: dict[str, Any], known_platforms: set[str]) -> Account:
    """An account from a plain record (API body or store row); bad fields raise ValueError naming the field."""
    for name in ("account_id", "tenant", "platform", "display_name"):
        if not isinstance(record.get(name), str) or not record[name].strip():
            raise ValueError(f"{name}: required, a non-empty string")
    if record["platform"] not in known_platforms:
        raise ValueError(
            f"platform: unknown platform {record['platform']!r}; known: {', '.join(sorted(known_platforms))}"
        )
    timezone = record.get("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: unknown time zone {timezone!r}") from None
    cap = record.get("daily_cap", 10)
    if not isinstance(cap, int) or isinstance(cap, bool) or not 0 <= cap <= 1000:
        raise ValueError(f"daily_cap: {cap!r} is not an integer in 0..1000")
    spacing = record.get("min_spacing_s", 1800)
    if not isinstance(spacing, int) or isinstance(spacing, bool) or spacing < 0:
        raise ValueError(f"min_spacing_s: {spacing!r} is not a non-negative integer")
    windows = record.get("windows", ["08:00-23:00"])
    if not isinstance(windows, list) or not windows:
        raise ValueError("windows: a non-empty list of 'HH:MM-HH:MM'")
    try:
        status = AccountStatus(record.get("status", "active"))
    except ValueError:
        raise ValueError(f"status: {record.get('status')!r} is not one of {[s.value for s in AccountStatus]}") from None
    return Account(
        account_id=record["account_id"],
        tenant=record["tenant"],
        platform=record["platform"],
        display_name=record["display_name"],
        group=str(record.get("group", "")),
        windows=tuple(parse_window(w) for w in windows),
        timezone=timezone,
        daily_cap=cap,
        min_spacing_s=spacing,
        status=status,
        extra={str(k): str(v) for k, v in record.get("extra", {}).items()},
    )


def account_of_tenant(accounts: dict[str, Account], account_id: str, tenant: str) -> Account:
    """The account, or KeyError for a missing one and for another tenant's alike (the API answers 404)."""
    account = accounts.get(account_id)
    if account is None or account.tenant != tenant:
        raise KeyError(f"account {account_id!r} not found")
    return account
