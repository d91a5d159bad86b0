"""The change feed (DESIGN.md, Pollers).

Writers insert events with `position = NULL` in the same transaction as their change. The publisher
gives positions to committed events only, one publisher at a time, each round numbering after the last
(`max(position) + row_number()`), and commits before the next round starts. Hence a reader that
sees position N sees every position below N, positions are contiguous, and an event committed late
is published in a later round with a higher position: a poller that keeps its last position never
misses or repeats an event, however writers interleave their commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.clock import today, utcnow
from app.kernel.db import dialect_name
from app.models import Event

# Arbitrary constant identifying the feed publisher's advisory lock on PostgreSQL.
PUBLISHER_LOCK_KEY = 7_301_001


def emit(
    session: AsyncSession,
    type_: str,
    entity_type: str,
    entity_id: int | str,
    payload: dict[str, Any],
    project_id: int | None = None,
    known_on: date | None = None,
) -> Event:
    """Record an event in the caller's transaction (published after commit)."""
    event = Event(
        type=type_,
        entity_type=entity_type,
        entity_id=str(entity_id),
        project_id=project_id,
        payload=payload,
        known_on=known_on or today(),
        occurred_at=utcnow(),
    )
    session.add(event)
    return event


async def publish_pending(session: AsyncSession, limit: int = 50_000, *, wait: bool = True) -> int:
    """Give positions to committed, unpublished events; call in a transaction of its own and commit.

    Returns how many were published. On PostgreSQL rounds are serialised by a transaction-scoped
    advisory lock; SQLite serialises all writers anyway. With `wait=False` (a reader's request) a round
    already under way elsewhere is not waited for: the reader serves what is published, never a gap.
    """
    if dialect_name(session) == "postgresql":
        if not wait:
            got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PUBLISHER_LOCK_KEY})
            if not got:
                return 0
        else:
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISHER_LOCK_KEY})
    pending = (
        await session.scalars(select(Event.id).where(Event.position.is_(None)).order_by(Event.id).limit(limit))
    ).all()
    if not pending:
        return 0
    last = (await session.scalar(select(func.coalesce(func.max(Event.position), 0)))) or 0
    await session.execute(
        update(Event),
        [{"id": event_id, "position": last + index} for index, event_id in enumerate(pending, start=1)],
    )
    return len(pending)


async def read_feed(
    session: AsyncSession, after: int, limit: int, types: list[str] | None = None
) -> tuple[list[Event], int]:
    """Published events after `after`, in position order, and the position to ask after next."""
    query = select(Event).where(Event.position > after).order_by(Event.position).limit(limit)
    if types:
        query = query.where(Event.type.in_(types))
    events = list((await session.scalars(query)).all())
    if events:
        return events, events[-1].position or after
    if types:
        # Nothing of these types: skip ahead to the last published position so the next poll is cheap.
        head = await session.scalar(select(func.max(Event.position)).where(Event.position > after))
        return [], head or after
    return [], after


async def publish_committed() -> int:
    """Publish in a transaction of its own (the feed endpoint and the background publisher call this)."""
    from app.kernel.db import session_scope  # local: services stay importable without an engine

    async with session_scope() as session:
        return await publish_pending(session)
