"""Small per-worker TTL caches for the request's fixed costs (principal, rule sets), cleared in every worker.

Each entry lives at most `ttl` seconds. A change that invalidates a cache calls `invalidate_on_commit`: this
worker's copy is cleared at once and again after the commit, and on PostgreSQL the transaction also sends
`NOTIFY dm_caches, '<cache names>'`, which PostgreSQL delivers only if it commits; every worker LISTENs on that
channel (`app.kernel.notify`) and clears the named caches. While a worker's listener is down its notified caches
are bypassed (`distrust`), so a revocation is never served from a cache that may have missed its notification.
SQLite runs one worker: in-process clearing is enough. `clear_all()` empties every cache (tests call it when they
reset the tables). Staleness bounds are documented in CONTRIBUTING.md ("Per-worker caches").

A reader that fills a cache takes `cache.epoch` *before* it reads the database and hands it to `put`: an
invalidation that lands while it reads bumps the epoch, and the (possibly old) value is dropped, not stored.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

# The one channel every worker LISTENs on; its payload is a comma-separated list of cache names ("*": all),
# then ";" and a token that every worker acknowledges once it has cleared them (app.kernel.notify).
CHANNEL = "dm_caches"
_PENDING = "caches.notify_pending"  # session.info: names to NOTIFY when this transaction commits
_SENT = "caches.notify_sent"  # session.info: the token of the NOTIFY this transaction sent
DELIVERY_WAIT_SECONDS = 1.0  # a stuck worker delays the answer this much at most (it bypasses caches anyway)

_MISSING = object()
_REGISTRY: dict[str, TtlCache] = {}


class _Trust:
    # False while this worker cannot hear notifications (listener starting, dropped, reconnecting).
    notified_caches_trusted = True
    # Set by the listener (app.kernel.notify): waits until every worker acknowledged a notification (its token).
    heard: Callable[[str, float], Awaitable[None]] | None = None


class TtlCache:
    """A dict with per-entry expiry and a size bound (evicts everything when full: entries are cheap).

    `notified`: cleared across workers by NOTIFY, hence bypassed while this worker's listener is down. A cache
    whose staleness is bounded by its TTL alone (e.g. the seasonal curves) says `notified=False`.
    """

    def __init__(self, name: str, ttl: float, max_entries: int = 10_000, *, notified: bool = True) -> None:
        if name in _REGISTRY:
            raise ValueError(f"a cache named {name!r} exists")
        self.name, self.ttl, self.max_entries, self.notified = name, ttl, max_entries, notified
        self.epoch = 0
        self._data: dict[Hashable, tuple[float, Any]] = {}
        _REGISTRY[name] = self

    def _bypassed(self) -> bool:
        return self.notified and not _Trust.notified_caches_trusted

    def get(self, key: Hashable) -> Any:
        if self._bypassed():
            return _MISSING
        entry = self._data.get(key)
        if entry is None:
            return _MISSING
        if entry[0] < time.monotonic():
            self._data.pop(key, None)
            return _MISSING
        return entry[1]

    def put(self, key: Hashable, value: Any, epoch: int | None = None) -> None:
        """Store `value`, unless the cache was invalidated since `epoch` (taken before the value was read)."""
        if self._bypassed() or (epoch is not None and epoch != self.epoch):
            return
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic() + self.ttl, value)

    def pop(self, key: Hashable) -> None:
        self._data.pop(key, None)

    def invalidate(self) -> None:
        self._data.clear()
        self.epoch += 1


MISSING = _MISSING

# Authenticated principals keyed by the SHA-256 of the presented key. Cleared in every worker when a key is revoked
# or an owner scope changes (NOTIFY); the TTL bounds what a change made straight in the database can leave behind.
PRINCIPAL_TTL_SECONDS = 5.0
principals = TtlCache("principals", PRINCIPAL_TTL_SECONDS)

# The effective rule sets (defaults + administrator overrides).
RULE_SETS_TTL_SECONDS = 5.0
rule_sets = TtlCache("rule_sets", RULE_SETS_TTL_SECONDS, max_entries=4)

# The organisation tree (kind and parent of each organisation) that resolves R1 budget holders on every posting
# (app.ledger.holders). Cleared (NOTIFY) by every ORM write of an organisation; the TTL bounds a change made straight
# in the database.
ORGANISATIONS_TTL_SECONDS = 60.0
organisations = TtlCache("organisations", ORGANISATIONS_TTL_SECONDS, max_entries=1)

# What the pollers' ETags are computed from (app.kernel.poll_shortcut): the overdue snapshot's version and the change
# feed's head. Cleared (NOTIFY) by every commit that changes them, so an unchanged poll is answered 304 from memory;
# the TTL bounds what a change made outside the API (the CLI, straight in the database) can leave behind.
POLL_VERSION_TTL_SECONDS = 10.0
snapshot_versions = TtlCache("snapshot_versions", POLL_VERSION_TTL_SECONDS, max_entries=1)
feed_heads = TtlCache("feed_heads", POLL_VERSION_TTL_SECONDS, max_entries=1)

# The province's seasonal curve from the previous plan year (R17): a whole-year aggregate that changes only
# when last year's ledger does, so a few minutes of staleness is harmless and saves a scan per refresh.
SEASONAL_TTL_SECONDS = 300.0
seasonal_curves = TtlCache("seasonal_curves", SEASONAL_TTL_SECONDS, max_entries=16, notified=False)


async def remembered(cache: TtlCache, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
    """`cache[key]`, else `await load()` stored under the epoch taken before it (a change meanwhile drops it)."""
    value = cache.get(key)
    if value is _MISSING:
        epoch = cache.epoch
        value = await load()
        cache.put(key, value, epoch)
    return value


def named(name: str) -> TtlCache | None:
    return _REGISTRY.get(name)


def clear_all() -> None:
    for cache in _REGISTRY.values():
        cache.invalidate()


def parse_payload(payload: str) -> tuple[list[str], str | None]:
    """(cache names, token) of a notification's payload."""
    names, _, token = payload.partition(";")
    return [n.strip() for n in names.split(",") if n.strip()], token or None


def invalidate_named(names: Iterable[str]) -> None:
    """Clear the caches named (a notification's payload); "*" clears all, unknown names are ignored."""
    for name in names:
        if name == "*":
            clear_all()
        elif (cache := _REGISTRY.get(name)) is not None:
            cache.invalidate()


def distrust() -> None:
    """This worker may have missed notifications: bypass the notified caches until `trust()`."""
    _Trust.notified_caches_trusted = False
    clear_all()


def trust() -> None:
    """Listening again: start from empty caches (what was cached before may have missed a notification)."""
    clear_all()
    _Trust.notified_caches_trusted = True


def trusted() -> bool:
    return _Trust.notified_caches_trusted


def invalidate_on_commit(session: Any, *targets: TtlCache) -> None:
    """Clear `targets` now and again once `session` commits (so a read racing the commit cannot keep the old
    value in this worker); on PostgreSQL the transaction also NOTIFYs every worker, delivered only on commit."""
    from sqlalchemy import event

    sync_session = getattr(session, "sync_session", session)  # an AsyncSession, or its Session (ORM events)
    pending: set[str] | None = sync_session.info.get(_PENDING)
    if pending is not None and pending.issuperset(cache.name for cache in targets):
        return  # already done in this transaction (a batch emits an event per row)
    _clear_now_and_after_commit(sync_session, targets)
    if pending is None:
        pending = sync_session.info[_PENDING] = set()
        event.listen(sync_session, "before_commit", _notify, once=True)
        event.listen(sync_session, "after_rollback", _forget, once=True)
    pending.update(cache.name for cache in targets)


def _clear_now_and_after_commit(sync_session: Any, targets: tuple[TtlCache, ...]) -> None:
    from sqlalchemy import event

    for cache in targets:
        cache.invalidate()

    def _clear(_session: Any) -> None:
        for cache in targets:
            cache.invalidate()

    event.listen(sync_session, "after_commit", _clear, once=True)


def _forget(sync_session: Any) -> None:
    sync_session.info.pop(_PENDING, None)  # rolled back: the next transaction of this session starts afresh


def _notify(sync_session: Any) -> None:
    """before_commit: one NOTIFY for every cache this transaction invalidated (PostgreSQL only)."""
    from sqlalchemy import text

    names = sync_session.info.pop(_PENDING, set())
    if names and sync_session.get_bind().dialect.name == "postgresql":
        token = uuid.uuid4().hex
        sync_session.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": CHANNEL, "payload": f"{','.join(sorted(names))};{token}"})
        sync_session.info.setdefault(_SENT, []).append(token)


def invalidate_in_commit(sync_session: Any, *targets: TtlCache) -> None:
    """`invalidate_on_commit` for a `before_commit` hook (the snapshot counters' bump), which runs too late to add
    a hook of its own: the names join this transaction's pending NOTIFY, or are NOTIFYed now if it went out."""
    _clear_now_and_after_commit(sync_session, targets)
    pending: set[str] | None = sync_session.info.get(_PENDING)
    if pending is not None:
        pending.update(cache.name for cache in targets)
        return
    sync_session.info[_PENDING] = {cache.name for cache in targets}
    _notify(sync_session)


async def delivered(session: Any) -> None:
    """After a commit that NOTIFYed: wait (bounded by DELIVERY_WAIT_SECONDS) until every listening worker has
    acknowledged it, so the change is answered only once no worker's cache still holds the old value."""
    for token in session.sync_session.info.pop(_SENT, ()):
        if _Trust.heard is not None:
            await _Trust.heard(token, DELIVERY_WAIT_SECONDS)


def set_delivery_waiter(waiter: Callable[[str, float], Awaitable[None]] | None) -> None:
    _Trust.heard = waiter
