"""Stored indicators for the current business date (R17/R18 at national scale).

`indicator_snapshots` holds one row per (plan year, project): the project's figures and flags as computed
for `computed_for` (a business date). `indicator_snapshot_pools` holds the same figures per pool (capital
source × budget level) for the source/level groupings. `indicator_refresh_state` is the refresher's
bookmark per plan year: the change-feed high-water marks it has consumed, the date the stored set is
complete for, and the progress of a full rebuild. Everything lives in the database, so any worker can
refresh or read (DESIGN.md, stateless workers); the tables are derived data and can be rebuilt at will.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId


class IndicatorSnapshot(Base):
    """A project's indicators and flags for one plan year, as computed for `computed_for`."""

    __tablename__ = "indicator_snapshots"
    plan_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_vnd: Mapped[int]
    added_plan_vnd: Mapped[int] = mapped_column(server_default="0")  # R1b (migration 0020)
    disbursed_vnd: Mapped[int]
    forecast_vnd: Mapped[int]
    low_vnd: Mapped[int]
    high_vnd: Mapped[int]
    capacity_vnd: Mapped[int]
    at_risk_vnd: Mapped[int]
    extra_need_vnd: Mapped[int]
    absorbable_vnd: Mapped[int]
    rate_pct: Mapped[float] = mapped_column(Float)
    days_since_last_disbursement: Mapped[int] = mapped_column(Integer)
    last_disbursement_on: Mapped[date | None] = mapped_column(Date)
    flag_mask: Mapped[int] = mapped_column(Integer)  # bit i = FlagCode number i (app.monitoring.indicator_store)
    computed_for: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime]
    # The project's grouping keys, copied when the row is computed (a project change re-computes it), so a
    # summary is one narrow single-table GROUP BY with no join: the national-scale path (issue #5 target).
    investor_id: Mapped[int] = mapped_column(BigId)
    sector: Mapped[str] = mapped_column(String(60))
    location: Mapped[str] = mapped_column(String(120))
    working_group_id: Mapped[int | None] = mapped_column(BigId)
    lead_person_id: Mapped[int | None] = mapped_column(BigId)  # the lead official on computed_for


class IndicatorFlagDetail(Base):
    """The flags' reasons and numbers for a stored row (kept apart so the summed table stays narrow)."""

    __tablename__ = "indicator_flag_details"

    plan_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flags: Mapped[dict]  # {"flags": [{code, reason, detail, numbers}, …]}


class IndicatorSnapshotPool(Base):
    """One pool's share of a project's stored indicators (for capital source / budget level groupings)."""

    __tablename__ = "indicator_snapshot_pools"

    plan_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    capital_source: Mapped[str] = mapped_column(String(30), primary_key=True)
    budget_level: Mapped[str] = mapped_column(String(20), primary_key=True)
    budget_holder_id: Mapped[int] = mapped_column(BigId, primary_key=True)  # R1 (migration 0018)
    plan_vnd: Mapped[int]
    added_plan_vnd: Mapped[int] = mapped_column(server_default="0")  # R1b (migration 0020)
    disbursed_vnd: Mapped[int]
    forecast_vnd: Mapped[int]
    low_vnd: Mapped[int]
    high_vnd: Mapped[int]
    at_risk_vnd: Mapped[int]
    absorbable_vnd: Mapped[int]
    computed_for: Mapped[date] = mapped_column(Date)
    flag_mask: Mapped[int] = mapped_column(Integer)  # the project's flags, copied: source/level groupings need no join


class IndicatorRefreshState(Base):
    """The refresher's bookmark for one plan year (one row; updated under the refresh lock)."""

    __tablename__ = "indicator_refresh_state"

    plan_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    computed_for: Mapped[date | None] = mapped_column(Date)  # every stored row is for this date or later
    fingerprint: Mapped[str] = mapped_column(String(64))  # thresholds + milestone curve the rows used
    building_for: Mapped[date | None] = mapped_column(Date)  # a full rebuild in progress, for this date
    build_cursor: Mapped[int] = mapped_column(default=0)  # rebuilt every project id ≤ this one
    event_position: Mapped[int] = mapped_column(default=0)  # change feed consumed up to this position
    event_id: Mapped[int] = mapped_column(default=0)  # … and unpublished events up to this id
    updated_at: Mapped[datetime]
