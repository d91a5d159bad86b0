"""Audit log, idempotency records and the change feed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, pk


class AuditEntry(Base):
    """Who did what, when, under which request id — including rejected writes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = pk()
    at: Mapped[datetime] = mapped_column(index=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    api_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
    organisation_id: Mapped[int | None] = mapped_column(BigId)
    role: Mapped[str | None] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(100))
    entity_type: Mapped[str | None] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    code: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict | None]


class IdempotencyRecord(Base):
    """The first response to an Idempotency-Key, stored in the same transaction as its effect."""

    __tablename__ = "idempotency_records"

    api_key_id: Mapped[int] = mapped_column(BigId, ForeignKey("api_keys.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Event(Base):
    """A change-feed entry. Written with its change; `position` is assigned after commit, in commit order,
    by the feed publisher (app.kernel.feed), so a poller's `after=` never skips or repeats."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_unpublished", "id", postgresql_where=text("position IS NULL"),
              sqlite_where=text("position IS NULL")),
    )

    id: Mapped[int] = pk()
    position: Mapped[int | None] = mapped_column(unique=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    project_id: Mapped[int | None] = mapped_column(BigId)
    payload: Mapped[dict]
    known_on: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[datetime]
