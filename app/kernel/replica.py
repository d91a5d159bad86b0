"""Read replicas: read-only endpoints on a PostgreSQL streaming standby, and a client that wrote reads its write.

With `DATABASE_READ_URL` set, every write answered by the API carries `X-Read-After: <LSN>`: the primary's WAL
position read right after the write's commit (`pg_current_wal_lsn()`, past the commit record). An endpoint that
takes `ReadSessionDep` reads from the standby; when its request carries `X-Read-After`, only once the standby has
replayed that far (`pg_last_wal_replay_lsn()`), waited for at most `READ_AFTER_WAIT_MS`, else from the primary. A
standby that cannot be reached or is no standby (no replay position) sends such a read to the primary too.
Without `DATABASE_READ_URL` nothing changes: no header, every read on the primary.

The header carries no secret and needs no cookie: a client keeps the highest LSN it was answered and sends it with
its reads (any client that saw the write may send it, e.g. a dashboard told by the writer).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.kernel.config import get_settings
from app.kernel.db import dialect_name, get_read_sessionmaker

log = structlog.get_logger("replica")

HEADER = "X-Read-After"
LSN_PATTERN = r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"  # PostgreSQL's pg_lsn text form
POLL_SECONDS = 0.005
STATE_KEY = "read_after"  # request.state: the LSN answered in the header (app.kernel.middleware)


def parse_lsn(value: str) -> int:
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


class _Replayed:
    position = 0  # the highest replay position this worker has seen on the standby (it only grows)


async def _caught_up(standby: async_sessionmaker[AsyncSession], lsn: int, wait_seconds: float) -> bool:
    if _Replayed.position >= lsn:
        return True
    deadline = time.monotonic() + wait_seconds
    async with standby() as session:
        while True:
            replayed = await session.scalar(text("SELECT pg_last_wal_replay_lsn()::text"))
            if replayed is None:  # not a standby: its data says nothing about the primary's LSN
                return False
            _Replayed.position = max(_Replayed.position, parse_lsn(replayed))
            if _Replayed.position >= lsn:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)


async def standby_for_read(read_after: str | None) -> async_sessionmaker[AsyncSession] | None:
    """Sessions on the standby for a read-only request, or None: read on the primary (no standby, or the request
    must see a write the standby has not replayed in time, or the standby cannot be reached)."""
    standby = get_read_sessionmaker()
    if standby is None or read_after is None:
        return standby
    try:
        if await _caught_up(standby, parse_lsn(read_after), get_settings().read_after_wait_ms / 1000):
            return standby
    except (OSError, SQLAlchemyError) as exc:  # the standby is away: the primary answers
        log.warning("read_replica_unreachable", error=repr(exc))
    return None


async def note_commit(session: AsyncSession, state: dict) -> None:
    """After a write's commit: the LSN its writer may read after (only when a standby serves reads)."""
    if get_settings().database_read_url and dialect_name(session) == "postgresql":
        state[STATE_KEY] = await session.scalar(text("SELECT pg_current_wal_lsn()::text"))
