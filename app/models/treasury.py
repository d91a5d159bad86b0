"""Treasury side of the ledger (issue #3): rule-set overrides, calendar days, contracts and their
balances, advances, sweep transitions, recovery cases (R16) and payment dossiers (R15).

Money is BIGINT đồng. Balance rows (`contract_balances`, `advances`) are updated in the same
transaction as the disbursement that moves them (app.ledger.contract_ledger).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import AdvanceKind, BudgetLevel, CapitalSource
from app.models.base import Base, BigId, pk

_source = Enum(CapitalSource, native_enum=False, length=30)
_level = Enum(BudgetLevel, native_enum=False, length=20)


class RuleSetOverride(Base):
    """An administrator's overrides of one rule set's defaults (RuleSet.with_overrides)."""

    __tablename__ = "rule_set_overrides"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    overrides: Mapped[dict]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    updated_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class CalendarDay(Base):
    """A government-decided day off or make-up working day added by an administrator."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # day_off | working_day
    description: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]


class Contract(Base):
    """A contract (hợp đồng) under a project."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        # migration 0015
        CheckConstraint("value_at_signing_vnd > 0", name="value_at_signing_positive"),
        CheckConstraint("agreed_advance_rate_pct IS NULL OR agreed_advance_rate_pct BETWEEN 1 AND 100",
                        name="agreed_advance_rate_in_range"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"), index=True)
    number: Mapped[str] = mapped_column(String(200))
    contract_type: Mapped[str] = mapped_column(String(20))
    contractor: Mapped[str] = mapped_column(String(300))
    value_vnd: Mapped[int]  # today's value, amendments included (R3, R8)
    # R4: the value at signing, on which the advance ceiling is computed; an amendment never raises it.
    value_at_signing_vnd: Mapped[int]
    # R4: the advance level written in the contract (tỷ lệ tạm ứng theo hợp đồng), if it states one.
    agreed_advance_rate_pct: Mapped[int | None] = mapped_column(Integer)
    signed_on: Mapped[date] = mapped_column(Date)
    full_recovery_date: Mapped[date | None] = mapped_column(Date)
    approved_advance_rate_pct: Mapped[int | None] = mapped_column(Integer)
    approving_decision: Mapped[str | None] = mapped_column(String(200))
    guarantee_vnd: Mapped[int] = mapped_column(default=0)
    guarantee_expires_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContractBalance(Base):
    """Running totals of one contract; locked after the project and pool rows (lock order)."""

    __tablename__ = "contract_balances"
    __table_args__ = (
        CheckConstraint("outstanding_vnd = advanced_vnd - recovered_vnd",
                        name="outstanding_is_advanced_less_recovered"),
        CheckConstraint("recovered_vnd >= 0 AND recovered_vnd <= advanced_vnd AND paid_vnd >= 0",
                        name="recovered_within_advanced"),
        CheckConstraint("supply_completions >= 0", name="supply_completions_non_negative"),  # 0019
    )

    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("contracts.id"), primary_key=True)
    advanced_vnd: Mapped[int] = mapped_column(default=0)
    recovered_vnd: Mapped[int] = mapped_column(default=0)
    outstanding_vnd: Mapped[int] = mapped_column(default=0)
    paid_vnd: Mapped[int] = mapped_column(default=0)
    # R8: unreversed payments marked as completing the supplied volume (equipment); complete when > 0 (0019)
    supply_completions: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime]


class ContractMember(Base):
    """A joint-venture member (thành viên liên danh) of a contract: its share of the value and its running totals.
    R8 applies to each member's share (migration 0019)."""

    __tablename__ = "contract_members"
    __table_args__ = (
        UniqueConstraint("contract_id", "name"),
        CheckConstraint("share_vnd > 0", name="share_positive"),
        CheckConstraint("outstanding_vnd = advanced_vnd - recovered_vnd",
                        name="outstanding_is_advanced_less_recovered"),
        CheckConstraint("recovered_vnd >= 0 AND recovered_vnd <= advanced_vnd AND paid_vnd >= 0 "
                        "AND supply_completions >= 0", name="recovered_within_advanced"),
    )

    id: Mapped[int] = pk()
    contract_id: Mapped[int] = mapped_column(BigId, ForeignKey("contracts.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    share_vnd: Mapped[int]
    advanced_vnd: Mapped[int] = mapped_column(default=0)
    recovered_vnd: Mapped[int] = mapped_column(default=0)
    outstanding_vnd: Mapped[int] = mapped_column(default=0)
    paid_vnd: Mapped[int] = mapped_column(default=0)
    supply_completions: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Advance(Base):
    """One advance disbursement (tạm ứng) tracked for overdue (R9–R12); recoveries applied FIFO."""

    __tablename__ = "advances"
    __table_args__ = (
        Index("ix_advances_group", "project_id", "contract_id"),
        Index("ix_advances_outstanding", "outstanding_vnd"),
        CheckConstraint("outstanding_vnd = amount_vnd - recovered_vnd", name="outstanding_is_amount_less_recovered"),
        CheckConstraint("recovered_vnd >= 0 AND recovered_vnd <= amount_vnd", name="recovered_within_amount"),
        CheckConstraint("extended_until IS NULL OR kind = 'other'", name="extension_only_for_other"),  # 0016
    )

    id: Mapped[int] = pk()
    disbursement_id: Mapped[int] = mapped_column(BigId, ForeignKey("disbursements.id"), unique=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contracts.id"))
    # R8: the joint-venture member it was paid to (migration 0019)
    contract_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contract_members.id"))
    kind: Mapped[AdvanceKind] = mapped_column(Enum(AdvanceKind, native_enum=False, length=20))
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    advanced_on: Mapped[date] = mapped_column(Date)
    amount_vnd: Mapped[int]
    recovered_vnd: Mapped[int] = mapped_column(default=0)
    outstanding_vnd: Mapped[int]
    held_for_disputes_vnd: Mapped[int] = mapped_column(default=0)
    # R11: an `other` advance's deadline extended (gia hạn) by the competent authority's decision.
    extended_until: Mapped[date | None] = mapped_column(Date)
    extension_decision_number: Mapped[str | None] = mapped_column(String(200))
    # R9: the Treasury marked the advance overdue for misuse (sử dụng sai mục đích), with its document.
    misuse_marked_on: Mapped[date | None] = mapped_column(Date)
    misuse_document_number: Mapped[str | None] = mapped_column(String(200))
    # Bumped on every change (recovery, contract change, sweep transition): feeds the snapshot ETag.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class SweepTransition(Base):
    """A time-driven transition recorded once: (subject, kind) is unique."""

    __tablename__ = "sweep_transitions"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "kind"),)

    id: Mapped[int] = pk()
    subject_type: Mapped[str] = mapped_column(String(20))  # advance | contract
    subject_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(30))  # due_soon | overdue | guarantee_expiring | guarantee_expired
    project_id: Mapped[int] = mapped_column(BigId, index=True)
    as_of: Mapped[date] = mapped_column(Date)
    detail: Mapped[dict]
    recorded_at: Mapped[datetime]


class RecoveryCase(Base):
    """R16: the Treasury's recovery workflow for one overdue advance."""

    __tablename__ = "recovery_cases"

    id: Mapped[int] = pk()
    advance_id: Mapped[int] = mapped_column(BigId, ForeignKey("advances.id"), unique=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contracts.id"))
    state: Mapped[str] = mapped_column(String(20), index=True)
    opened_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RecoveryStep(Base):
    """One step of a recovery case: who, when, document number, note."""

    __tablename__ = "recovery_steps"

    id: Mapped[int] = pk()
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("recovery_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    escalation: Mapped[str | None] = mapped_column(String(40))
    document_number: Mapped[str | None] = mapped_column(String(100))
    document_date: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    amount_vnd: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(String(1000))
    actor_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))
    at: Mapped[datetime]


class Dossier(Base):
    """R15: a payment or advance dossier (hồ sơ) filed with the Treasury."""

    __tablename__ = "dossiers"
    __table_args__ = (
        UniqueConstraint("project_id", "document_number"),
        Index("ix_dossiers_status_due", "status", "sla_due"),
        Index("ix_dossiers_pool", "plan_year", "status"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contracts.id"))
    kind: Mapped[str] = mapped_column(String(20))  # payment | advance
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    amount_vnd: Mapped[int]
    document_number: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    submitted_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    sla_due: Mapped[date | None] = mapped_column(Date)
    delay_reason: Mapped[str | None] = mapped_column(String(1000))
    return_reason: Mapped[str | None] = mapped_column(String(1000))
    closed_on: Mapped[date | None] = mapped_column(Date)
    # R15: paying the dossier posts the Treasury's disbursement through the posting pipeline (migration 0011).
    disbursement_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("disbursements.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
