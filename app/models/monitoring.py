"""Monitoring (R17–R20): schedules, milestone curves, extra needs, obstacles, reallocation proposals.

Money columns are BIGINT đồng; rates and curve fractions are floats. Schedules and obstacle changes
are append-only (revisions and history rows) so that any past `as_of` can be reproduced.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import BudgetLevel, CapitalSource
from app.models.base import Base, BigId, pk

_source = Enum(CapitalSource, native_enum=False, length=30)
_level = Enum(BudgetLevel, native_enum=False, length=20)


class DisbursementSchedule(Base):
    """One revision of a project's monthly disbursement schedule for a plan year (R17)."""

    __tablename__ = "disbursement_schedules"
    __table_args__ = (
        UniqueConstraint("project_id", "plan_year", "revision"),
        Index("ix_disbursement_schedules_year_current", "plan_year", "is_current"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    plan_year: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    total_vnd: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(1000))
    known_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class ScheduleMonth(Base):
    """Amount expected in one month: 1–12 of the plan year, 13 = January of the next year (R14 window)."""

    __tablename__ = "schedule_months"
    __table_args__ = (
        CheckConstraint("month BETWEEN 1 AND 13", name="month_range"),
        CheckConstraint("amount_vnd >= 0", name="amount_non_negative"),
    )

    schedule_id: Mapped[int] = mapped_column(BigId, ForeignKey("disbursement_schedules.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount_vnd: Mapped[int]


class MilestonePoint(Base):
    """R17 milestone curve as data: by `on_date`, `target_fraction` of the plan should be disbursed."""

    __tablename__ = "milestone_points"

    plan_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    on_date: Mapped[date] = mapped_column(Date, primary_key=True)
    target_fraction: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]


class ExtraNeed(Base):
    """An owner's request for more capital (nhu cầu bổ sung vốn) for a project, pool and plan year."""

    __tablename__ = "extra_needs"
    __table_args__ = (
        CheckConstraint("amount_vnd > 0", name="amount_positive"),
        Index("ix_extra_needs_year", "plan_year", "status"),
        Index("ix_extra_needs_project", "project_id", "plan_year"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    amount_vnd: Mapped[int]
    justification: Mapped[str] = mapped_column(String(2000))
    spend_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="registered")  # registered | withdrawn
    known_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class Obstacle(Base):
    """A blocking problem of a project (khó khăn, vướng mắc) with an owner, a deadline and a status."""

    __tablename__ = "obstacles"
    __table_args__ = (
        Index("ix_obstacles_project", "project_id"),
        Index("ix_obstacles_group_status", "working_group_id", "status", "deadline"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(4000))
    responsible_organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    working_group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("working_groups.id"))
    deadline: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    recommendation: Mapped[str | None] = mapped_column(String(2000))
    opened_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ObstacleChange(Base):
    """History of an obstacle: who changed which fields from what to what, and when."""

    __tablename__ = "obstacle_changes"

    id: Mapped[int] = pk()
    obstacle_id: Mapped[int] = mapped_column(BigId, ForeignKey("obstacles.id"), index=True)
    changed_on: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime]
    key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
    changes: Mapped[dict]


class ReallocationProposal(Base):
    """R19 proposal: draft → submitted → approved → applied | rejected; candidates and comparison as data."""

    __tablename__ = "reallocation_proposals"
    __table_args__ = (
        Index("ix_reallocation_proposals_year_status", "plan_year", "status"),
        # migration 0017: envelope mode distributes new capital; a zero-sum proposal moves it
        CheckConstraint("mode IN ('zero_sum', 'envelope')", name="mode_known"),
        CheckConstraint("(mode = 'envelope') = (envelope_vnd IS NOT NULL AND envelope_vnd > 0)",
                        name="envelope_with_its_mode"),
        CheckConstraint("envelope_vnd IS NULL OR moved_vnd <= envelope_vnd", name="moved_within_envelope"),
    )

    id: Mapped[int] = pk()
    plan_year: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(500))
    request: Mapped[dict]  # pools and options as posted
    analysis: Mapped[dict]  # donors, recipients, pool outcomes, greedy comparison
    moved_vnd: Mapped[int]
    # R19: `zero_sum` moves capital between projects of a pool; `envelope` distributes new capital (a tranche, đợt)
    mode: Mapped[str] = mapped_column(String(20), server_default="zero_sum")
    envelope_vnd: Mapped[int | None]
    tranche: Mapped[int | None] = mapped_column(Integer)
    transfer_count: Mapped[int] = mapped_column(Integer)
    expected_rate_before: Mapped[float] = mapped_column(Float)
    expected_rate_after: Mapped[float] = mapped_column(Float)
    drafted_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
    submitted_at: Mapped[datetime | None]
    approved_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
    authority: Mapped[str | None] = mapped_column(String(200))
    decision_number: Mapped[str | None] = mapped_column(String(200))
    decision_date: Mapped[date | None] = mapped_column(Date)
    approved_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    applied_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
    rejected_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReallocationTransfer(Base):
    """One donor → recipient move of a proposal, within one pool (never across pools, R19)."""

    __tablename__ = "reallocation_transfers"

    id: Mapped[int] = pk()
    proposal_id: Mapped[int] = mapped_column(BigId, ForeignKey("reallocation_proposals.id"), index=True)
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    donor_project_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("projects.id"))  # None: the envelope
    recipient_project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    amount_vnd: Mapped[int]
    reason: Mapped[str] = mapped_column(String(2000))
