"""Projects (dự án đầu tư công)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import ProjectFunding, ProjectGroup, ProjectStage, ProjectStatus
from app.kernel.search_text import project_search_text
from app.models.base import Base, BigId, pk


def _search_text(context) -> str:  # any INSERT, ORM or Core (the demo loader inserts in bulk)
    row = context.get_current_parameters()
    return project_search_text(row["code"], row["name"])


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (CheckConstraint("total_investment_vnd > 0", name="tmdt_positive"),)

    id: Mapped[int] = pk()
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    # code and name folded (app.kernel.search_text): written with the row, searched with LIKE (migration 0014)
    search_text: Mapped[str] = mapped_column(Text, default=_search_text)
    investor_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    sector: Mapped[str] = mapped_column(String(60), index=True)
    location: Mapped[str] = mapped_column(String(120), index=True)
    group: Mapped[ProjectGroup] = mapped_column(Enum(ProjectGroup, native_enum=False, length=20))
    stage: Mapped[ProjectStage] = mapped_column(Enum(ProjectStage, native_enum=False, length=20))
    total_investment_vnd: Mapped[int]
    decision_ref: Mapped[str | None] = mapped_column(String(100))
    decision_date: Mapped[date | None] = mapped_column(Date)
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    is_key_project: Mapped[bool] = mapped_column(Boolean, default=False)
    # public (đầu tư công) or non_budget (ngoài ngân sách, Appendix 1): no capital ledger (migration 0022)
    funding: Mapped[ProjectFunding] = mapped_column(Enum(ProjectFunding, native_enum=False, length=20),
                                                    default=ProjectFunding.public, server_default="public")
    working_group_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("working_groups.id"), index=True)
    status: Mapped[ProjectStatus] = mapped_column(Enum(ProjectStatus, native_enum=False, length=20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProjectInvestor(Base):
    """One entry of a project's investor history (chủ đầu tư theo thời gian, DOMAIN.md §5): from `effective_from`
    the investor is `investor_id`. A change is a new entry, never an overwrite, so a report as of a date groups
    the project under the investor of that day. `effective_from` NULL: the investor since the project was
    registered. `projects.investor_id` is the entry in force today (migration 0019)."""

    __tablename__ = "project_investors"
    __table_args__ = (Index("ix_project_investors_project", "project_id", "effective_from"),)

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    investor_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    effective_from: Mapped[date | None] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(200))
    known_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
