"""Change-feed schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from app.kernel.schemas import Schema


class EventOut(Schema):
    position: int = Field(description="Feed position: contiguous, increasing; keep the last one you processed")
    type: str = Field(examples=["disbursement.recorded"])
    entity_type: str
    entity_id: str
    project_id: int | None
    payload: dict[str, Any]
    known_on: date
    occurred_at: datetime


class EventPage(Schema):
    items: list[EventOut]
    next_after: int = Field(description="Pass as `after` on your next poll")


class FeedHead(Schema):
    head: int = Field(description="The last published position; pass it as `after` to start from now")
