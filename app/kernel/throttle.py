"""Per-worker limits on what anonymous callers can cost: failed authentications and audit lines.

Both are kept in the worker's memory (no database round trip on the path they protect): with N workers an
address gets up to N × the limit before every worker refuses it, which is still a bound. Metrics count all.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque

from prometheus_client import Counter

AUTH_FAILURES = Counter("auth_failures_total", "Requests refused for a missing or invalid API key", ["code"])
AUTH_THROTTLED = Counter("auth_throttled_total", "Requests refused 429 after too many failed authentications")
AUDIT_SKIPPED = Counter("audit_anonymous_skipped_total", "Rejected anonymous writes not written to the audit log")
MAX_ADDRESSES = 10_000  # the oldest address is forgotten first: memory stays bounded under a spray of addresses


class FailureWindow:
    """Failed authentications per client address in a sliding window."""

    def __init__(self) -> None:
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, address: str, window: float, now: float) -> deque[float]:
        times = self._failures.get(address)
        if times is None:
            return deque()
        while times and times[0] <= now - window:
            times.popleft()
        return times

    def retry_after(self, address: str, limit: int, window: float) -> int | None:
        """Seconds until this address may try again, or None while it is under the limit (0: no limit)."""
        if limit <= 0:
            return None
        now = time.monotonic()
        times = self._recent(address, window, now)
        if len(times) < limit:
            return None
        return max(1, int(times[0] + window - now) + 1)

    def record(self, address: str, window: float) -> None:
        now = time.monotonic()
        times = self._recent(address, window, now)
        times.append(now)
        self._failures[address] = times
        self._failures.move_to_end(address)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

    def clear(self) -> None:
        self._failures.clear()


class MinuteBudget:
    """At most `per_minute` events per clock minute (0: none)."""

    def __init__(self) -> None:
        self._minute = -1
        self._used = 0

    def take(self, per_minute: int) -> bool:
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used = minute, 0
        if self._used >= per_minute:
            return False
        self._used += 1
        return True

    def clear(self) -> None:
        self._minute, self._used = -1, 0


auth_failures = FailureWindow()
anonymous_audit = MinuteBudget()


def clear_all() -> None:
    auth_failures.clear()
    anonymous_audit.clear()
