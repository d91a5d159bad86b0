"""PostgreSQL LISTEN/NOTIFY for the per-worker caches: a change is seen by every worker as soon as it commits.

Writers call `caches.invalidate_on_commit`, which NOTIFYs `caches.CHANNEL` inside their transaction (PostgreSQL
delivers it only on commit). Each worker holds one asyncpg connection LISTENing on that channel and clears the
caches named in the payload. The connection is pinged every `ping_seconds`; when it drops (or before it is first
up) the worker bypasses its notified caches (`caches.distrust`), reconnects, and trusts them again from empty
caches once it listens. Any cache registered with `caches.TtlCache(name, …)` is reachable by name, so another
change only needs `invalidate_on_commit(session, that_cache)`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no types
import structlog
from sqlalchemy.engine import make_url

from app.kernel import caches
from app.kernel.config import get_settings
from app.kernel.db import is_sqlite

log = structlog.get_logger("caches")


def _on_notification(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
    caches.invalidate_named(name.strip() for name in payload.split(",") if name.strip())


class CacheListener:
    """One LISTEN connection per worker, kept alive (ping) and re-opened when it drops."""

    def __init__(self, dsn: str, *, ping_seconds: float = 2.0, retry_seconds: float = 0.5) -> None:
        self.dsn, self.ping_seconds, self.retry_seconds = dsn, ping_seconds, retry_seconds
        self.listening = asyncio.Event()
        self.connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait: float = 5.0) -> None:
        caches.distrust()  # until LISTEN is in place, a notification could be missed
        self._task = asyncio.create_task(self._run())
        with contextlib.suppress(TimeoutError):  # serve anyway, without the caches, if the database is slow
            await asyncio.wait_for(self.listening.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
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
        connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            connection.add_termination_listener(lambda _c: lost.set())
            await connection.add_listener(caches.CHANNEL, _on_notification)
            self.connection = connection
            caches.trust()
            self.listening.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.ping_seconds)
                    continue
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self.ping_seconds)
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
