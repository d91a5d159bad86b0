"""The action programme's follow-up as data (chương trình hành động): watch-lists and their members, people and
the working groups they sit in, a project's lead official, its physical progress and milestones.

Every history here is append-only and effective-dated, so a past date reads as it was: a membership is the
fold of its join/leave changes (`app.programme.timeline`), a lead is the latest assignment effective by then,
progress and milestones the latest report dated by then.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, pk

_CHANGE = "action IN ('join', 'leave')"


class WatchList(Base):
    """A list of projects the province follows (danh mục theo dõi), e.g. an appendix of the action programme,
    with the decision that set it and its reporting duty (who reports, how often, to whom)."""

    __tablename__ = "watch_lists"

    id: Mapped[int] = pk()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    decision_ref: Mapped[str | None] = mapped_column(String(300))  # the programme or decision that set it
    decided_on: Mapped[date | None] = mapped_column(Date)
    # which projects may join: 'public' (đầu tư công), 'non_budget' (ngoài ngân sách); NULL: any
    project_funding: Mapped[str | None] = mapped_column(String(20))
    reporter: Mapped[str | None] = mapped_column(String(300))  # who reports
    report_frequency: Mapped[str | None] = mapped_column(String(20))  # weekly | monthly | quarterly | ad_hoc
    report_to_organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    report_duty: Mapped[str | None] = mapped_column(String(1000))  # the duty in the programme's words
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class WatchListChange(Base):
    """A project joins or leaves a watch-list on a date (append-only; membership on a day is their fold)."""

    __tablename__ = "watch_list_changes"
    __table_args__ = (
        CheckConstraint(_CHANGE, name="action_known"),
        Index("ix_watch_list_changes_list_project", "watch_list_id", "project_id", "effective_on"),
        Index("ix_watch_list_changes_project", "project_id"),
    )

    id: Mapped[int] = pk()
    watch_list_id: Mapped[int] = mapped_column(BigId, ForeignKey("watch_lists.id"))
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    action: Mapped[str] = mapped_column(String(10))
    effective_on: Mapped[date] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[datetime]
    key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class Person(Base):
    """A person the programme names: a lead official (lãnh đạo theo dõi), a working-group member."""

    __tablename__ = "people"

    id: Mapped[int] = pk()
    full_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))  # chức vụ
    organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    created_at: Mapped[datetime]


class ProjectLead(Base):
    """The lead official of a project from a date (append-only: the latest effective assignment holds)."""

    __tablename__ = "project_leads"
    __table_args__ = (Index("ix_project_leads_project", "project_id", "effective_on"),)

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    effective_on: Mapped[date] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[datetime]
    key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class WorkingGroupChange(Base):
    """A person joins or leaves a working group (Tổ công tác) with a role, on a date (append-only)."""

    __tablename__ = "working_group_changes"
    __table_args__ = (
        CheckConstraint(_CHANGE, name="action_known"),
        CheckConstraint("role IN ('leader', 'deputy', 'member')", name="role_known"),
        Index("ix_working_group_changes_group", "working_group_id", "person_id", "effective_on"),
    )

    id: Mapped[int] = pk()
    working_group_id: Mapped[int] = mapped_column(BigId, ForeignKey("working_groups.id"))
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("people.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime]
    key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class ProgressReport(Base):
    """Physical progress (tiến độ thực hiện, % of the works done) as reported on a date (append-only)."""

    __tablename__ = "progress_reports"
    __table_args__ = (
        CheckConstraint("physical_pct >= 0 AND physical_pct <= 100", name="pct_range"),
        Index("ix_progress_reports_project", "project_id", "reported_on"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    reported_on: Mapped[date] = mapped_column(Date)
    physical_pct: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_at: Mapped[datetime]
    key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class MilestoneReport(Base):
    """A milestone's planned and/or actual date (khởi công, hoàn thành, khánh thành) as known on a date
    (append-only: the latest report dated by a day holds on that day)."""

    __tablename__ = "milestone_reports"
    __table_args__ = (
        CheckConstraint("milestone IN ('start', 'completion', 'inauguration')", name="milestone_known"),
        CheckConstraint("planned_on IS NOT NULL OR actual_on IS NOT NULL", name="some_date"),
        Index("ix_milestone_reports_project", "project_id", "milestone", "reported_on"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    milestone: Mapped[str] = mapped_column(String(20))
    planned_on: Mapped[date | None] = mapped_column(Date)
    actual_on: Mapped[date | None] = mapped_column(Date)
    reported_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_at: Mapped[datetime]
    key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
