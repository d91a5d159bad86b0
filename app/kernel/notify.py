"""PostgreSQL LISTEN/NOTIFY for the per-worker caches: a change is seen by every worker as soon as it commits.

Writers call `caches.invalidate_on_commit`, which NOTIFYs `caches.CHANNEL` inside their transaction (PostgreSQL
delivers it only on commit) with the cache names and a token. Each worker holds one asyncpg connection LISTENing
on that channel (application_name `dm-cache-listener`); it clears the named caches, then acknowledges the token on
`ACK_CHANNEL`. The writing request waits (`caches.delivered`, bounded) until as many acknowledgements as there are
listener connections have come back, so a revocation is answered only after every worker has forgotten the key.
The connection is pinged every `ping_seconds`; when it drops (or before it is first up) the worker bypasses its
notified caches (`caches.distrust`), reconnects, and trusts them again from empty caches once it listens;
meanwhile its own writes, which cannot hear the other workers' acknowledgements, wait the whole bound for them.
Any cache registered with `caches.TtlCache(name, …)` is reachable by name: another change only needs
`invalidate_on_commit(session, that_cache)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no types
import structlog
from sqlalchemy.engine import make_url

from app.kernel import caches
from app.kernel.config import get_settings
from app.kernel.db import is_sqlite

log = structlog.get_logger("caches")

ACK_CHANNEL = "dm_caches_ack"
LISTENER_NAME = "dm-cache-listener"  # application_name: how many workers listen is read from pg_stat_activity
RECENT_TOKENS = 1_000  # acknowledgements kept per token, for a waiter that comes after them


class CacheListener:
    """One LISTEN connection per worker, kept alive (ping) and re-opened when it drops."""

    def __init__(self, dsn: str, *, ping_seconds: float = 2.0, retry_seconds: float = 0.5) -> None:
        self.dsn, self.ping_seconds, self.retry_seconds = dsn, ping_seconds, retry_seconds
        self.listening = asyncio.Event()
        self.connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the connection (ping, acknowledgements)
        self._acks: OrderedDict[str, int] = OrderedDict()
        self._waiters: dict[str, tuple[int, asyncio.Event]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        names, token = caches.parse_payload(payload)
        caches.invalidate_named(names)
        if token is not None:  # cleared: say so (a task, since callbacks are sync)
            task = asyncio.get_running_loop().create_task(self._execute("SELECT pg_notify($1, $2)", ACK_CHANNEL,
                                                                        token))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def _on_ack(self, _connection: Any, _pid: int, _channel: str, token: str) -> None:
        self._acks[token] = self._acks.get(token, 0) + 1
        while len(self._acks) > RECENT_TOKENS:
            self._acks.popitem(last=False)
        waiter = self._waiters.get(token)
        if waiter is not None and self._acks[token] >= waiter[0]:
            waiter[1].set()

    async def _execute(self, query: str, *args: Any) -> Any:
        if self.connection is None:
            return None
        async with self._lock:
            return await asyncio.wait_for(self.connection.fetchval(query, *args), self.ping_seconds)

    async def wait_delivered(self, token: str, seconds: float) -> None:
        """Until every listening worker acknowledged `token` (or `seconds` have passed)."""
        with contextlib.suppress(Exception):  # no answer from the database: the TTL still bounds staleness
            async with asyncio.timeout(seconds):
                if self.connection is None:  # deaf: the other workers' acknowledgements cannot be heard, so
                    await asyncio.sleep(seconds)  # give them the whole bound (this worker bypasses its caches)
                    return
                workers = await self._execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                    "AND datname = current_database()", LISTENER_NAME) or 0
                if self._acks.get(token, 0) >= workers:
                    return
                event = asyncio.Event()
                self._waiters[token] = (workers, event)
                try:
                    await event.wait()
                finally:
                    self._waiters.pop(token, None)

    async def start(self, wait: float = 5.0) -> None:
        caches.distrust()  # until LISTEN is in place, a notification could be missed
        caches.set_delivery_waiter(self.wait_delivered)
        self._task = asyncio.create_task(self._run())
        with contextlib.suppress(TimeoutError):  # serve anyway, without the caches, if the database is slow
            await asyncio.wait_for(self.listening.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        caches.set_delivery_waiter(None)
        caches.trust()

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry, with the caches bypassed meanwhile
                log.warning("cache_listener_down", error=repr(exc))
            await asyncio.sleep(self.retry_seconds)

    async def _listen(self) -> None:
        lost = asyncio.Event()
        connection = await asyncpg.connect(self.dsn, timeout=5, server_settings={"application_name": LISTENER_NAME})
        try:
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(ACK_CHANNEL, self._on_ack)
            await connection.add_listener(caches.CHANNEL, self._on_notification)
            self.connection = connection
            caches.trust()
            self.listening.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.ping_seconds)
                    continue
                await self._execute("SELECT 1")
            raise ConnectionError("listener connection closed")
        finally:
            caches.distrust()
            self.listening.clear()
            self.connection = None
            connection.terminate()


def listener_dsn(database_url: str) -> str:
    """The asyncpg DSN of a SQLAlchemy `postgresql+asyncpg://` URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def start_listener() -> CacheListener | None:
    """Start this worker's listener on PostgreSQL; SQLite (one worker) keeps in-process invalidation."""
    url = get_settings().database_url
    if is_sqlite(url):
        return None
    listener = CacheListener(listener_dsn(url))
    await listener.start()
    return listener
