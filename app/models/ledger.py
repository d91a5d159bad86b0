"""The capital ledger: allocation entries and disbursements (append-only), and their balance rows.

A pool is (project, plan year, capital source, budget holder) — R1; the budget level is the holder's. Balance rows
are updated in the same transaction as the ledger row; `python -m app verify` recomputes them from the ledger.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import AdvanceKind, AllocationKind, BudgetLevel, CapitalSource, DisbursementKind
from app.models.base import Base, BigId, pk

_source = Enum(CapitalSource, native_enum=False, length=30)
_level = Enum(BudgetLevel, native_enum=False, length=20)


class AllocationEntry(Base):
    """One decision's change to a pool's capital plan (kế hoạch vốn). Signed: decreases are negative."""

    __tablename__ = "allocation_entries"
    __table_args__ = (
        UniqueConstraint("project_id", "plan_year", "capital_source", "budget_level", "budget_holder_id", "kind",
                         "decision_number", name="uq_allocation_entries_pool_kind_decision"),
        Index("ix_allocation_entries_pool", "project_id", "plan_year", "capital_source", "budget_level",
              "budget_holder_id"),
        Index("ix_allocation_entries_year_known", "plan_year", "known_on"),
        # migration 0020 (R1b): the part added by the province has the entry's sign and lies within it
        CheckConstraint("(amount_vnd >= 0 AND added_vnd >= 0 AND added_vnd <= amount_vnd) OR "
                        "(amount_vnd < 0 AND added_vnd <= 0 AND added_vnd >= amount_vnd)", name="added_within_amount"),
        CheckConstraint("kind <> 'extension' OR added_vnd = 0", name="extension_has_no_provenance"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    kind: Mapped[AllocationKind] = mapped_column(Enum(AllocationKind, native_enum=False, length=20))
    amount_vnd: Mapped[int]
    # R1b provenance: of `amount_vnd` (same sign), the capital added by the province itself (giao tăng); the rest is
    # the plan assigned by the Prime Minister (giao theo kế hoạch Thủ tướng). Migration 0020.
    added_vnd: Mapped[int] = mapped_column(server_default="0")
    tranche: Mapped[int | None] = mapped_column(Integer)
    decision_number: Mapped[str] = mapped_column(String(200))
    decision_date: Mapped[date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(String(200))
    extended_until: Mapped[date | None] = mapped_column(Date)
    reallocation_proposal_id: Mapped[int | None] = mapped_column(BigId, index=True)
    note: Mapped[str | None] = mapped_column(String(1000))
    known_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class Disbursement(Base):
    """Money the Treasury paid out (giải ngân). Corrections are reversing rows (`reverses_id`)."""

    __tablename__ = "disbursements"
    __table_args__ = (
        UniqueConstraint("project_id", "document_number"),
        UniqueConstraint("reverses_id"),
        UniqueConstraint("project_id", "owner_document_number"),
        CheckConstraint("reverses_id IS NOT NULL OR amount_vnd > 0", name="amount_positive"),
        CheckConstraint("reverses_id IS NOT NULL OR advance_recovered_vnd >= 0", name="recovery_non_negative"),
        Index("ix_disbursements_pool", "project_id", "plan_year", "capital_source", "budget_level", "budget_holder_id"),
        Index("ix_disbursements_year_value_date", "plan_year", "value_date"),
        Index("ix_disbursements_contract", "contract_id"),
        # migration 0009: the database holds what it can (docs/rules.md, "Invariants of the books")
        CheckConstraint("net_vnd = amount_vnd - advance_recovered_vnd", name="net_is_amount_less_recovered"),
        CheckConstraint("NOT (kind = 'advance' AND advance_kind = 'contract' AND contract_id IS NULL)",
                        name="contract_advance_names_contract"),
        CheckConstraint("source IN ('treasury', 'owner')", name="source_known"),
        # migration 0012 (R15a reconciliation)
        CheckConstraint("origin IN ('treasury', 'owner')", name="origin_known"),
        CheckConstraint("reverses_id IS NOT NULL OR origin = source", name="origin_of_original_is_source"),
        CheckConstraint("owner_document_number IS NULL OR (source = 'treasury' AND reverses_id IS NULL)",
                        name="owner_document_on_treasury_entry"),
        # migration 0019 (R8)
        CheckConstraint("NOT completes_supply OR (kind = 'payment' AND contract_id IS NOT NULL)",
                        name="supply_completion_is_contract_payment"),
        CheckConstraint("contract_member_id IS NULL OR contract_id IS NOT NULL", name="member_under_its_contract"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    kind: Mapped[DisbursementKind] = mapped_column(Enum(DisbursementKind, native_enum=False, length=20))
    advance_kind: Mapped[AdvanceKind | None] = mapped_column(Enum(AdvanceKind, native_enum=False, length=20))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contracts.id"))
    # R8: the joint-venture member paid, under a joint-venture contract (migration 0019)
    contract_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("contract_members.id"))
    # advance: the amount advanced; payment: value of completed work paid (gross); clearance: value settled.
    amount_vnd: Mapped[int]
    advance_recovered_vnd: Mapped[int]
    # Cash out of the Treasury: counts against the plan (R1) and TMĐT (R2). amount − recovered.
    net_vnd: Mapped[int]
    value_date: Mapped[date] = mapped_column(Date)
    document_number: Mapped[str] = mapped_column(String(200))
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("disbursements.id"))
    note: Mapped[str | None] = mapped_column(String(1000))
    # R15a: the Treasury's record, or an owner's report (migration 0010; rows loaded behind the API: 'treasury')
    source: Mapped[str] = mapped_column(String(20), server_default="treasury")
    # Whose money the row moves: its source, or for a reversal the source of the entry it reverses (migration
    # 0012). Σ net where origin = 'treasury' is the confirmed part of a figure; the rest is owners' estimates.
    origin: Mapped[str] = mapped_column(String(20), server_default="treasury")
    # On a Treasury entry: the owner's document (payment request) it pays — the key reconciliation matches on.
    owner_document_number: Mapped[str | None] = mapped_column(String(200))
    # R8: a payment completing the supplied volume of an equipment contract (migration 0019)
    completes_supply: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    known_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class PoolBalance(Base):
    """Running totals of one pool; the row locked by every write that checks R1/R14."""

    __tablename__ = "pool_balances"
    __table_args__ = (
        UniqueConstraint("project_id", "plan_year", "capital_source", "budget_level", "budget_holder_id",
                         name="uq_pool_balances_pool"),
        Index("ix_pool_balances_year", "plan_year"),
        CheckConstraint("disbursed_vnd <= plan_vnd", name="disbursed_within_plan"),
        CheckConstraint("added_plan_vnd >= 0 AND added_plan_vnd <= plan_vnd", name="added_plan_within_plan"),
        CheckConstraint("plan_vnd >= 0 AND extended_vnd >= 0 AND late_capital_vnd >= 0 AND disbursed_vnd >= 0 AND "
                        "advanced_vnd >= 0 AND advance_recovered_vnd >= 0 AND paid_vnd >= 0 AND "
                        "late_disbursed_vnd >= 0", name="amounts_non_negative"),
    )

    id: Mapped[int] = pk()
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"))
    plan_year: Mapped[int] = mapped_column(Integer)
    capital_source: Mapped[CapitalSource] = mapped_column(_source)
    budget_level: Mapped[BudgetLevel] = mapped_column(_level)
    budget_holder_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))  # R1, migration 0018
    plan_vnd: Mapped[int] = mapped_column(default=0)
    # R1b: the part of `plan_vnd` added by the province (giao tăng); plan − added is the Prime Minister's plan.
    added_plan_vnd: Mapped[int] = mapped_column(default=0, server_default="0")
    extended_vnd: Mapped[int] = mapped_column(default=0)
    extended_until: Mapped[date | None] = mapped_column(Date)
    late_capital_vnd: Mapped[int] = mapped_column(default=0)
    disbursed_vnd: Mapped[int] = mapped_column(default=0)
    advanced_vnd: Mapped[int] = mapped_column(default=0)
    advance_recovered_vnd: Mapped[int] = mapped_column(default=0)
    paid_vnd: Mapped[int] = mapped_column(default=0)
    late_disbursed_vnd: Mapped[int] = mapped_column(default=0)
    last_value_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime]


class ProjectBalance(Base):
    """Lifetime totals of a project; locked first (before any pool) by writes that check R2."""

    __tablename__ = "project_balances"
    __table_args__ = (
        CheckConstraint("planned_total_vnd >= 0 AND disbursed_total_vnd >= 0 AND advance_outstanding_vnd >= 0",
                        name="amounts_non_negative"),
    )

    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id"), primary_key=True)
    planned_total_vnd: Mapped[int] = mapped_column(default=0)
    disbursed_total_vnd: Mapped[int] = mapped_column(default=0)
    # Advances not yet recovered, all years (R13 carry-over); per-contract detail lives with contracts.
    advance_outstanding_vnd: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]
