"""The change feed for pollers (CouchDB `_changes` style)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from app.enums import Role
from app.kernel import caches, poll_shortcut
from app.kernel import feed as events
from app.kernel.api.deps import PrincipalDep, SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.conditional import etag_matches
from app.kernel.event_catalogue import EVENT_TYPES
from app.kernel.feed_schemas import EventOut, EventPage, FeedHead
from app.kernel.schemas import FeedPosition
from app.kernel.security import Principal

router = APIRouter(prefix="/api/v1", tags=["events"])

# The catalogue's types, so an unknown (misspelt) type is refused instead of silently matching nothing.
EventType = StrEnum("EventType", {name: name for name in sorted(EVENT_TYPES)})  # type: ignore[misc]


@router.get("/events", operation_id="listEvents", summary="Change feed: events after a position",
            response_model=EventPage, responses=problem_responses(400, 401, 403, 422), dependencies=[require("read")])
async def list_events(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    response: Response,
    after: Annotated[FeedPosition, Query(description="Last position you processed (0 to start)")] = 0,
    event_types: Annotated[list[EventType] | None, Query(alias="types", max_length=20,
                                                         description="Only these event types")] = None,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match",
                                                description="The ETag of your last page of this query")] = None,
) -> EventPage | Response:
    """Positions are assigned in commit order after commit: storing `next_after` and polling again never
    misses or repeats an event, whatever concurrent writers do, with or without `types`. `after` beyond the
    feed's head is refused (400 `after_beyond_head`, with `head`); `GET /api/v1/events/head` starts at the head.
    An owner's key sees only events of its own projects, never the Treasury's own (recovery cases, overdue,
    misuse, guarantees). Poll with `If-None-Match`: while no event was committed since, the answer is 304,
    from the worker's memory without a database round trip."""
    audience = _audience(principal)
    types = [t.value for t in event_types] if event_types else None
    since = caches.feed_heads.epoch
    remembered = events.remembered_head()
    if remembered is not None and after <= remembered:
        etag = events.page_etag(remembered, after, page_size, types, audience)
        if etag_matches(if_none_match, etag):
            poll_shortcut.remember(request, etag, caches.feed_heads, events.HEAD, since)
            return Response(status_code=304, headers={"ETag": etag})
    # Publishing in the reader's own transaction: committed events get positions before we read.
    last = await events.settled_head(session)
    rows, next_after = await events.read_feed(session, after, page_size, types, audience, last)
    etag = events.page_etag(last, after, page_size, types, audience)
    # Remembered only if the head is in memory as read (nothing pending, no commit since): app.kernel.poll_shortcut.
    poll_shortcut.remember(request, etag, caches.feed_heads, events.HEAD, since)
    response.headers["ETag"] = etag
    return EventPage(items=[EventOut.model_validate(r) for r in rows], next_after=next_after)


def _audience(principal: Principal) -> events.Audience:
    if principal.role is Role.owner:
        return events.Audience(principal.scope_organisation_ids or frozenset({principal.organisation_id}))
    return events.Audience()


@router.get("/events/head", operation_id="getEventsHead", summary="The change feed's last position",
            response_model=FeedHead, responses=problem_responses(401, 403), dependencies=[require("read")])
async def get_head(session: SessionDep) -> FeedHead:
    """Start a new poller here: pass `head` as `after` to receive only what happens from now on."""
    await events.publish_pending(session, wait=False)
    return FeedHead(head=await events.head(session))
