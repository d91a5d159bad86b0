"""Engine and the unit of work: one session and one transaction per request (DESIGN.md, Storage).

Services flush, never commit. The request dependency commits *before* the response is sent
(`Depends(..., scope="function")`), so a failed commit reaches the client as an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.kernel.config import get_settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
            # Let us emit BEGIN ourselves: SQLite serialises writers only with BEGIN IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn):  # pragma: no cover - driver hook
            # Every transaction takes the write lock up front: no lock upgrades, no "database is locked".
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping (a round trip per checkout): connections are recycled instead, and a dead connection fails
    # its request, which the client retries (money POSTs with their Idempotency-Key).
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


async def lock_row(session: AsyncSession, query: Select[Any]) -> Any:
    """The row lock every If-Match update and state transition takes before it compares versions: `FOR UPDATE`
    (PostgreSQL; SQLite's writers are serialised anyway) and a fresh read, never a stale identity-map object.
    Pending changes are flushed first (sessions do not autoflush), so the fresh read cannot drop them."""
    await session.flush()
    return await session.scalar(query.with_for_update().execution_options(populate_existing=True))


def dialect_name(session: AsyncSession) -> str:
    """The name of the dialect the session is bound to ("postgresql" or "sqlite")."""
    bind = session.bind
    if bind is None:  # every session here comes from get_sessionmaker(), bound to the engine
        raise RuntimeError("session is not bound to an engine")
    return bind.dialect.name


@lru_cache
def get_engine() -> AsyncEngine:
    settings = get_settings()
    return make_engine(settings.database_url, settings.db_pool_size)


@lru_cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(get_engine(), expire_on_commit=False, autoflush=False)


@lru_cache
def get_read_sessionmaker() -> async_sessionmaker[AsyncSession] | None:
    """Sessions on the streaming standby (DATABASE_READ_URL), or None without one (app.kernel.replica)."""
    settings = get_settings()
    if not settings.database_read_url:
        return None
    engine = make_engine(settings.database_read_url, settings.db_pool_size)
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits on success and rolls back on error (CLI, background jobs)."""
    async with get_sessionmaker()() as session, session.begin():
        yield session
