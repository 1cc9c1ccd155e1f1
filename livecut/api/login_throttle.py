"""Sign-in rate limits: failed passwords per username and per client address, with doubling backoff.

After `user_failures` wrong passwords for one username (or `address_failures` from one
client address, which may be a NAT of many people, hence the higher bar) each further
failure locks that key out for `backoff_s`, then twice that, and so on up to
`backoff_max_s`. A locked-out attempt is answered 429 with Retry-After before its password
is checked, so guessing costs the attacker time and the server no scrypt work. A success
clears its username's count (not its address's: one valid account must not reset a
guessing address). Failures are forgotten `forget_s` after the last one.

The counts live in this process (one `livecut serve`, or each API process of a scale-out,
which then allows its multiple); each table is bounded, so cycling usernames or addresses
cannot grow memory without limit.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_TRACKED = 10_000  # keys per table; the least recently failed are forgotten first


@dataclass(frozen=True)
class LoginLimits:
    user_failures: int = 5
    address_failures: int = 20
    backoff_s: float = 1.0
    backoff_max_s: float = 300.0
    forget_s: float = 900.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not value > 0:
                raise ValueError(f"login limit {name} must be positive, not {value!r}")


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Counts failed sign-ins; `retry_after` says how long a username or address must wait."""

    def __init__(self, limits: LoginLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._tables: dict[str, OrderedDict[str, _Failures]] = {"user": OrderedDict(), "address": OrderedDict()}

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until this username from this address may try again; 0 when it may now."""
        now = self._clock()
        with self._lock:
            waits = [self._entry(kind, key, now).locked_until - now for kind, key in self._keys(username, address)]
        return max(0.0, *waits)

    def failed(self, username: str, address: str) -> float:
        """Count a wrong password; returns the lock-out it earned (0 while under the thresholds)."""
        now = self._clock()
        thresholds = {"user": self.limits.user_failures, "address": self.limits.address_failures}
        with self._lock:
            for kind, key in self._keys(username, address):
                entry = self._entry(kind, key, now)
                entry.count, entry.last = entry.count + 1, now
                over = entry.count - thresholds[kind]
                if over >= 0:
                    backoff = min(self.limits.backoff_max_s, self.limits.backoff_s * 2 ** min(over, 40))
                    entry.locked_until = now + backoff
                self._tables[kind].move_to_end(key)
        return self.retry_after(username, address)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._tables["user"].pop(username.lower(), None)

    @staticmethod
    def _keys(username: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", username.lower()), ("address", address)

    def _entry(self, kind: str, key: str, now: float) -> _Failures:
        table = self._tables[kind]
        entry = table.get(key)
        if entry is None or now - entry.last > self.limits.forget_s:
            entry = table[key] = _Failures()
            while len(table) > MAX_TRACKED:
                table.popitem(last=False)
        return entry
