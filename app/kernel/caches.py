"""Small per-worker TTL caches for the request's fixed costs (principal, rule sets).

Each entry lives at most `ttl` seconds, so a change made through another worker (or straight in the
database) is seen within that bound; a change made through this worker clears the cache at once
(`invalidate()`), and `clear_all()` empties every cache (tests call it when they reset the tables).
Staleness bounds are documented in CONTRIBUTING.md ("Per-worker caches").
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

_MISSING = object()
_REGISTRY: list[TtlCache] = []


class TtlCache:
    """A dict with per-entry expiry and a size bound (evicts everything when full: entries are cheap)."""

    def __init__(self, name: str, ttl: float, max_entries: int = 10_000) -> None:
        self.name, self.ttl, self.max_entries = name, ttl, max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        _REGISTRY.append(self)

    def get(self, key: Hashable) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return _MISSING
        if entry[0] < time.monotonic():
            self._data.pop(key, None)
            return _MISSING
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic() + self.ttl, value)

    def invalidate(self) -> None:
        self._data.clear()


MISSING = _MISSING

# Authenticated principals keyed by the SHA-256 of the presented key (revocation, role and owner scope
# changes made through another worker take effect within this many seconds).
PRINCIPAL_TTL_SECONDS = 5.0
principals = TtlCache("principals", PRINCIPAL_TTL_SECONDS)

# The effective rule sets (defaults + administrator overrides).
RULE_SETS_TTL_SECONDS = 5.0
rule_sets = TtlCache("rule_sets", RULE_SETS_TTL_SECONDS, max_entries=4)


def clear_all() -> None:
    for cache in _REGISTRY:
        cache.invalidate()


def invalidate_on_commit(session: Any, *targets: TtlCache) -> None:
    """Clear `targets` now and again once `session` commits (so a read racing the commit cannot keep the old
    value in this worker; other workers see the change within each cache's TTL)."""
    from sqlalchemy import event

    for cache in targets:
        cache.invalidate()

    def _clear(_session: Any) -> None:
        for cache in targets:
            cache.invalidate()

    event.listen(session.sync_session, "after_commit", _clear, once=True)

# The province's seasonal curve from the previous plan year (R17): a whole-year aggregate that changes only
# when last year's ledger does, so a few minutes of staleness is harmless and saves a scan per refresh.
SEASONAL_TTL_SECONDS = 300.0
seasonal_curves = TtlCache("seasonal_curves", SEASONAL_TTL_SECONDS, max_entries=16)
