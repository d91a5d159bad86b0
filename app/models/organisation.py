"""Organisations (cơ quan, đơn vị) with validity dates and succession, and working groups (Tổ công tác)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import OrganisationKind
from app.models.base import Base, BigId, pk


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = pk()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[OrganisationKind] = mapped_column(Enum(OrganisationKind, native_enum=False, length=30))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


class OrganisationSuccession(Base):
    """A predecessor → successor link (e.g. the 2025-07-01 merger); a project keeps its identity across it."""

    __tablename__ = "organisation_successions"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),)

    id: Mapped[int] = pk()
    predecessor_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    successor_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(100))


class WorkingGroup(Base):
    """Tổ công tác: a provincial task force that chases a set of projects' obstacles."""

    __tablename__ = "working_groups"

    id: Mapped[int] = pk()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # its members and leader are people (app.models.programme.WorkingGroupChange, migration 0022)
