"""The medium-term public-investment plan (kế hoạch đầu tư công trung hạn, R1c): append-only decision entries.

A ceiling is kept per (project, period, capital source); a period is five plan years (2021–2025, 2026–2030),
named by its first year. The ceiling is the sum of the entries; the sum of the project's annual plans of that
source over the period stays within it (checked by the posting pipeline, `app.ledger.posting_rules`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import CapitalSource, MediumTermKind
from app.models.base import Base, BigId, pk


class MediumTermEntry(Base):
    """One decision's change to a project's medium-term ceiling for a period and source. Signed: decreases < 0."""

    __tablename__ = "medium_term_entries"
    __table_args__ = (
        UniqueConstraint("project_id", "period_start", "capital_source", "decision_number"),
        CheckConstraint("(period_start - 2021) % 5 = 0", name="period_start_of_a_period"),
        CheckConstraint("(kind = 'adjustment_out') = (amount_vnd < 0) AND amount_vnd <> 0", name="sign_of_kind"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"), index=True)
    period_start: Mapped[int] = mapped_column(Integer)  # 2021 for 2021–2025
    capital_source: Mapped[CapitalSource] = mapped_column(Enum(CapitalSource, native_enum=False, length=30))
    kind: Mapped[MediumTermKind] = mapped_column(Enum(MediumTermKind, native_enum=False, length=20))
    amount_vnd: Mapped[int]
    decision_number: Mapped[str] = mapped_column(String(200))
    decision_date: Mapped[date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    known_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
