"""The change feed (DESIGN.md, Pollers).

Writers insert events with `position = NULL` in the same transaction as their change. The publisher
gives positions to committed events only, one publisher at a time, each round numbering after the last
(`max(position) + row_number()`), and commits before the next round starts. Hence a reader that
sees position N sees every position below N, positions are contiguous, and an event committed late
is published in a later round with a higher position: a poller that keeps its last position never
misses or repeats an event, however writers interleave their commits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import caches
from app.kernel.clock import today, utcnow
from app.kernel.db import dialect_name
from app.kernel.errors import BadRequest
from app.models import Event, Project

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
    note_emitted(session)
    return event


def note_emitted(session: AsyncSession) -> None:
    """This transaction adds events: every worker forgets the feed's head when it commits (`caches.feed_heads`).
    `emit` calls it; a write that inserts events otherwise goes through the API, whose unit of work calls it."""
    caches.invalidate_on_commit(session, caches.feed_heads)


async def publish_pending(session: AsyncSession, limit: int = 50_000, *, wait: bool = True) -> int:
    """Give positions to committed, unpublished events; call in a transaction of its own and commit.

    Returns how many were published. On PostgreSQL rounds are serialised by a transaction-scoped
    advisory lock; SQLite serialises all writers anyway. With `wait=False` (a reader's request) a round
    already under way elsewhere is not waited for: the reader serves what is published, never a gap.
    """
    published = await _publish(session, limit, wait=wait)
    return published or 0


_PUBLISH_PG = text(
    "WITH pending AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM "
    "(SELECT id FROM events WHERE position IS NULL ORDER BY id LIMIT :limit) AS p), "
    "head AS (SELECT coalesce(max(position), 0) AS last FROM events) "
    "UPDATE events AS e SET position = head.last + pending.n FROM pending, head WHERE e.id = pending.id")


async def _publish(session: AsyncSession, limit: int, *, wait: bool) -> int | None:
    """`publish_pending`, or None when `wait=False` found another round under way (events may stay pending)."""
    if dialect_name(session) == "postgresql":
        if not wait:
            got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": PUBLISHER_LOCK_KEY})
            if not got:
                return None
        else:
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISHER_LOCK_KEY})
        # One statement: the committed pending events, oldest first, numbered on from the head (a batch adds
        # thousands of events at once; an UPDATE per event cost more than the batch's own write).
        result = cast(CursorResult[Any], await session.execute(_PUBLISH_PG, {"limit": limit}))
        published = result.rowcount
        if published:
            note_emitted(session)  # the head moves when this commits
        return published
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
    note_emitted(session)  # the head moves when this commits
    return len(pending)


async def settled_head(session: AsyncSession) -> int:
    """A reader's head: committed events published first (not waiting for a round under way elsewhere).

    Remembered in this worker (`caches.feed_heads`) only when nothing committed was left unpublished: from then on
    the head can move only by a commit that adds events or publishes them, and each of those clears it in every
    worker (NOTIFY) before the writer is answered. Hence an unchanged poll is answered from memory, no session."""
    epoch = caches.feed_heads.epoch
    published = await _publish(session, 50_000, wait=False)
    last = await head(session)
    if published == 0:  # nothing was pending (a round that published bumped the epoch: not stored anyway)
        caches.feed_heads.put(HEAD, last, epoch)
    return last


HEAD = "head"  # the one key of caches.feed_heads


def remembered_head() -> int | None:
    """The feed's head as this worker last settled it, if no commit has changed it since (else None)."""
    value = caches.feed_heads.get(HEAD)
    return None if value is caches.MISSING else int(value)


def page_etag(last: int, after: int, page_size: int, types: list[str] | None, audience: Audience) -> str:
    """Strong ETag of a feed page: positions are immutable once published, so (head, query, audience) fix it."""
    scope = sorted(audience.organisation_ids) if audience.organisation_ids is not None else None
    raw = json.dumps([last, after, page_size, sorted(types or []), scope], separators=(",", ":"))
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


# Event types only the Treasury and the province see (the Treasury's endpoints are refused to owners too).
TREASURY_ONLY_TYPES = ("recovery_case.", "advance.due_soon", "advance.overdue", "advance.marked_misuse",
                       "advance.held_for_disputes", "contract.guarantee_")


@dataclass(frozen=True, slots=True)
class Audience:
    """Whose events a reader may see: everyone's, or (an owner) its scope's projects without Treasury-only types."""

    organisation_ids: frozenset[int] | None = None  # None: every event


async def head(session: AsyncSession) -> int:
    """The last published position (0 on an empty feed)."""
    return int(await session.scalar(select(func.coalesce(func.max(Event.position), 0))) or 0)


async def read_feed(
    session: AsyncSession, after: int, limit: int, types: list[str] | None = None, audience: Audience = Audience(),
    last: int | None = None,
) -> tuple[list[Event], int]:
    """Published events after `after`, in position order, and the position to ask after next.

    The head is read first (here, or by the caller who passes it as `last`): a publisher round commits all its
    positions at once, so every position up to the head is visible to the next statement. Rows are read up to that
    head only, and a page that is not full answers the head as `next_after`: a filtered (or owner's) poll never
    skips an event published between two statements.
    """
    if last is None:
        last = await head(session)
    if after > last:
        # A position the feed has not reached: a poller would skip the events that fill it later.
        raise BadRequest("after_beyond_head", f"The feed's last position is {last}; `after` cannot go beyond it.",
                              pointer="query:after", head=last)
    query = select(Event).where(Event.position > after, Event.position <= last).order_by(Event.position).limit(limit)
    if types:
        query = query.where(Event.type.in_(types))
    if audience.organisation_ids is not None:
        in_scope = select(Project.id).where(Project.investor_id.in_(sorted(audience.organisation_ids)))
        query = query.where(Event.project_id.in_(in_scope),
                            *(Event.type.not_like(f"{prefix}%") for prefix in TREASURY_ONLY_TYPES))
    rows = list((await session.scalars(query)).all())
    if len(rows) == limit:
        return rows, rows[-1].position or after
    return rows, last


async def publish_committed() -> int:
    """Publish in a transaction of its own (the feed endpoint and the background publisher call this)."""
    from app.kernel.db import session_scope  # local: services stay importable without an engine

    async with session_scope() as session:
        return await publish_pending(session)
