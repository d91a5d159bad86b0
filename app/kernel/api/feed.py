"""The change feed for pollers (CouchDB `_changes` style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.kernel import feed as events
from app.kernel.api.deps import SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.feed_schemas import EventOut, EventPage

router = APIRouter(prefix="/api/v1", tags=["events"])


@router.get("/events", operation_id="listEvents", summary="Change feed: events after a position",
            response_model=EventPage, responses=problem_responses(400, 401, 403, 422), dependencies=[require("read")])
async def list_events(
    session: SessionDep,
    after: Annotated[int, Query(ge=0, description="Last position you processed (0 to start)")] = 0,
    types: Annotated[list[str] | None, Query(max_length=20, description="Only these event types")] = None,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Positions are assigned in commit order after commit: storing `next_after` and polling again never
    misses or repeats an event, whatever concurrent writers do."""
    # Publishing in the reader's own transaction: committed events get positions before we read.
    await events.publish_pending(session, wait=False)
    rows, next_after = await events.read_feed(session, after, page_size, types)
    return EventPage(items=[EventOut.model_validate(r) for r in rows], next_after=next_after)
