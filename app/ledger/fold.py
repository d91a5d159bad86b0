"""The one fold of the ledger (docs/rules.md, "Invariants of the books"): pure, no database.

A ledger row moves the balances it touches through exactly one function here:
- `fold_disbursement` moves a pool, its project and (under a contract) the contract;
- `fold_allocation` moves a pool and its project's planned total;
- `allocate_fifo` spreads a scope's recoveries over its advances, oldest first (the one FIFO, R13);
- `fold_ledger` replays a whole ledger into `Books`.
The write path (`app.ledger.posting`) applies the first three to locked rows; `rebuild` writes `fold_ledger`'s
books; `verify` compares them with what is stored. No other code computes a balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.enums import (
    PLAN_DECREASING,
    AdvanceKind,
    AllocationKind,
    BudgetLevel,
    CapitalSource,
    DisbursementKind,
    EntrySource,
)
from app.rulesets.model import RuleSet, ruleset_for


@dataclass(frozen=True, slots=True, order=True)
class PoolKey:
    """A pool of capital (R1): one project's plan for one year, capital source and budget holder — the province, or
    one named district or commune government (chủ thể ngân sách), whose own council decides it. The budget level is
    the holder's (kept in the key for the reports grouped by it); capital never moves between holders (R19)."""

    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    budget_holder_id: int

    @classmethod
    def of(cls, row: Any) -> PoolKey:
        """The pool of a stored row (ORM object or Core row) that carries the five key columns."""
        return cls(row.project_id, row.plan_year, CapitalSource(row.capital_source), BudgetLevel(row.budget_level),
                   row.budget_holder_id)


def _pool(row: DisbursementInput | AllocationInput) -> PoolKey:
    if row.budget_holder_id is None:
        raise ValueError("the budget holder is resolved before a movement reaches its pool (app.ledger.holders)")
    return PoolKey(row.project_id, row.plan_year, row.capital_source, row.budget_level, row.budget_holder_id)


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    """Where a recovery may go (R7, R13): one contract's advances, or a project's non-contract advances of
    one kind (a clearance settles site-clearance advances; a payment without a contract, the `other` ones)."""

    project_id: int
    contract_id: int  # 0: no contract
    kind: AdvanceKind
    member_id: int = 0  # a joint-venture member's own advances (R8 per member); 0: not a joint venture


def advance_scope(project_id: int, contract_id: int | None, kind: AdvanceKind, member_id: int | None = None) -> Scope:
    return Scope(project_id, contract_id or 0, AdvanceKind.contract if contract_id else kind, member_id or 0)


@dataclass(frozen=True, slots=True)
class DisbursementInput:
    """One disbursement movement (giải ngân). A reversal carries the original's amounts negated."""

    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    kind: DisbursementKind
    amount_vnd: int
    value_date: date
    document_number: str
    advance_kind: AdvanceKind | None = None
    advance_recovered_vnd: int = 0
    contract_id: int | None = None
    note: str | None = None
    reverses_id: int | None = None
    # A reversal counts as late (R14) exactly when its original did: the original's value date.
    original_value_date: date | None = None
    # R15a provenance: who recorded the row; no balance depends on it.
    source: EntrySource = EntrySource.treasury
    # A reversal moves the money of the entry it reverses: that entry's source (see `origin`).
    original_source: EntrySource | None = None
    # On a Treasury entry: the owner's document it pays; posting supersedes the owner's report of that number.
    owner_document_number: str | None = None
    # R1: whose budget (organisation id); None until the posting pipeline resolves the default (`app.ledger.holders`).
    budget_holder_id: int | None = None
    # R8: a payment completing the supplied volume of an equipment contract (its reversal carries it too).
    completes_supply: bool = False
    # R8: the joint-venture member (thành viên liên danh) the money is paid to, under a joint-venture contract.
    contract_member_id: int | None = None

    @property
    def pool(self) -> PoolKey:
        return _pool(self)

    @property
    def origin(self) -> EntrySource:
        """Whose record this row's money is: the Treasury's (confirmed) or an owner's (an estimate)."""
        return self.original_source or self.source

    @property
    def net_vnd(self) -> int:
        """Cash paid out: counts against the plan and TMĐT. Recovery is not new cash (R13)."""
        return self.amount_vnd - self.advance_recovered_vnd

    @property
    def advanced_vnd(self) -> int:
        return self.amount_vnd if self.kind is DisbursementKind.advance else 0

    @property
    def paid_vnd(self) -> int:
        return self.amount_vnd if self.kind is DisbursementKind.payment else 0

    @property
    def site_clearance(self) -> bool:
        return self.advance_kind is AdvanceKind.site_clearance or self.kind is DisbursementKind.clearance

    @property
    def advance_scope(self) -> Scope:
        """For an advance (or its reversal): the recovery scope the advance belongs to."""
        return advance_scope(self.project_id, self.contract_id, self.advance_kind or AdvanceKind.contract,
                             self.contract_member_id)

    @property
    def recovery_scope(self) -> Scope | None:
        """The advances this row's recovery (if any) is allocated to."""
        if self.kind is DisbursementKind.advance:
            return None
        if self.contract_id is not None:
            return Scope(self.project_id, self.contract_id, AdvanceKind.contract, self.contract_member_id or 0)
        kind = AdvanceKind.site_clearance if self.kind is DisbursementKind.clearance else AdvanceKind.other
        return Scope(self.project_id, 0, kind)


@dataclass(frozen=True, slots=True)
class AllocationInput:
    """One decision's change to a pool's plan (kế hoạch vốn); `amount_vnd` positive, the kind gives the sign."""

    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    kind: AllocationKind
    amount_vnd: int
    decision_number: str
    decision_date: date
    authority: str
    tranche: int | None = None
    extended_until: date | None = None
    note: str | None = None
    reallocation_proposal_id: int | None = None
    # R1: whose budget (organisation id); None until the posting pipeline resolves the default (`app.ledger.holders`).
    budget_holder_id: int | None = None
    # R1b: of `amount_vnd`, the capital the province added (giao tăng); the rest is the Prime Minister's plan.
    added_vnd: int = 0

    @property
    def pool(self) -> PoolKey:
        return _pool(self)

    @property
    def plan_delta_vnd(self) -> int:
        if self.kind is AllocationKind.extension:
            return 0
        return -self.amount_vnd if self.kind in PLAN_DECREASING else self.amount_vnd

    @property
    def added_delta_vnd(self) -> int:
        """R1b: the change of the pool's added part (signed like `plan_delta_vnd`)."""
        return -self.added_vnd if self.kind in PLAN_DECREASING else self.added_vnd

    @property
    def signed_vnd(self) -> int:
        """As stored: the plan change, or for an extension the amount extended."""
        return self.amount_vnd if self.kind is AllocationKind.extension else self.plan_delta_vnd


@dataclass(slots=True)
class PoolState:
    """A pool balance row (locked by the write path, or rebuilt in memory)."""

    id: int
    key: PoolKey
    plan_vnd: int = 0
    extended_vnd: int = 0
    extended_until: date | None = None
    late_capital_vnd: int = 0
    disbursed_vnd: int = 0
    advanced_vnd: int = 0
    advance_recovered_vnd: int = 0
    paid_vnd: int = 0
    late_disbursed_vnd: int = 0
    last_value_date: date | None = None
    added_plan_vnd: int = 0  # R1b: of plan_vnd, the capital the province added (giao tăng)


@dataclass(slots=True)
class ProjectState:
    project_id: int
    planned_total_vnd: int = 0
    disbursed_total_vnd: int = 0
    advance_outstanding_vnd: int = 0  # R13: every advance not yet recovered, all years


@dataclass(slots=True)
class ContractState:
    contract_id: int
    advanced_vnd: int = 0
    recovered_vnd: int = 0
    outstanding_vnd: int = 0
    paid_vnd: int = 0
    supply_completions: int = 0  # R8: unreversed payments completing the supply (equipment); complete when > 0


@dataclass(slots=True)
class MemberState:
    """A joint-venture member's running totals under its contract (R8 applies to each member's share)."""

    member_id: int
    advanced_vnd: int = 0
    recovered_vnd: int = 0
    outstanding_vnd: int = 0
    paid_vnd: int = 0
    supply_completions: int = 0


@dataclass(slots=True)
class AdvanceState:
    """One advance (tạm ứng), identified by its disbursement; a reversed advance has amount 0."""

    disbursement_id: int
    scope: Scope
    advanced_on: date
    amount_vnd: int
    recovered_vnd: int = 0

    @property
    def outstanding_vnd(self) -> int:
        return self.amount_vnd - self.recovered_vnd


def is_late(row: DisbursementInput, rule_set: RuleSet) -> bool:
    """R14: a value date after the plan year's normal window (for a reversal: its original's)."""
    day = row.original_value_date or row.value_date
    if row.kind is DisbursementKind.advance:
        deadline = rule_set.advance_deadline_for(row.plan_year, site_clearance=row.site_clearance)
    else:
        deadline = rule_set.payment_deadline_for(row.plan_year)
    return day > deadline


def _move_contract(totals: ContractState | MemberState, row: DisbursementInput) -> None:
    totals.advanced_vnd += row.advanced_vnd
    totals.paid_vnd += row.paid_vnd
    totals.recovered_vnd += row.advance_recovered_vnd
    totals.outstanding_vnd = totals.advanced_vnd - totals.recovered_vnd
    if row.completes_supply:
        totals.supply_completions += 1 if row.reverses_id is None else -1


def fold_disbursement(row: DisbursementInput, pool: PoolState, project: ProjectState,
                      contract: ContractState | None, rule_set: RuleSet, member: MemberState | None = None) -> None:
    """Apply one disbursement (or reversal) to every balance row it touches (a joint-venture member's too)."""
    pool.disbursed_vnd += row.net_vnd
    pool.advanced_vnd += row.advanced_vnd
    pool.advance_recovered_vnd += row.advance_recovered_vnd
    pool.paid_vnd += row.paid_vnd
    if is_late(row, rule_set):
        pool.late_disbursed_vnd += row.net_vnd
    if pool.last_value_date is None or row.value_date > pool.last_value_date:
        pool.last_value_date = row.value_date
    project.disbursed_total_vnd += row.net_vnd
    project.advance_outstanding_vnd += row.advanced_vnd - row.advance_recovered_vnd
    if contract is not None:
        _move_contract(contract, row)
    if member is not None:
        _move_contract(member, row)


def fold_allocation(entry: AllocationInput, pool: PoolState, project: ProjectState, rule_set: RuleSet) -> None:
    """Apply one allocation entry to its pool and project."""
    pool.plan_vnd += entry.plan_delta_vnd
    pool.added_plan_vnd += entry.added_delta_vnd
    project.planned_total_vnd += entry.plan_delta_vnd
    if entry.kind is AllocationKind.extension:
        pool.extended_vnd += entry.amount_vnd
        if entry.extended_until is not None and (pool.extended_until is None
                                                 or entry.extended_until > pool.extended_until):
            pool.extended_until = entry.extended_until
    elif entry.plan_delta_vnd > 0 and rule_set.is_late_capital(entry.plan_year, entry.decision_date):
        pool.late_capital_vnd += entry.plan_delta_vnd


def allocate_fifo(amounts: Sequence[int], recovered_vnd: int) -> list[int]:
    """The recovered part of each advance (given oldest first) when `recovered_vnd` is applied oldest first.

    Raises ValueError when the recovery is negative or exceeds what was advanced: the posting rules refuse
    such movements, so reaching this is a bug and must fail the transaction, never be clamped away.
    """
    if recovered_vnd < 0 or recovered_vnd > sum(amounts):
        raise ValueError(f"recovery {recovered_vnd:,} outside 0..{sum(amounts):,} advanced in its scope")
    left, out = recovered_vnd, []
    for amount in amounts:
        applied = min(left, amount)
        out.append(applied)
        left -= applied
    return out


def fifo_order(advances: Iterable[AdvanceState]) -> list[AdvanceState]:
    return sorted(advances, key=lambda a: (a.advanced_on, a.disbursement_id))


@dataclass(slots=True)
class LedgerRow:
    """A stored disbursement as the fold needs it: its id and the movement."""

    id: int
    movement: DisbursementInput


@dataclass(slots=True)
class Books:
    """Every balance the ledger implies (rebuild writes them; verify compares them with the stored rows)."""

    pools: dict[PoolKey, PoolState] = field(default_factory=dict)
    projects: dict[int, ProjectState] = field(default_factory=dict)
    contracts: dict[int, ContractState] = field(default_factory=dict)
    members: dict[int, MemberState] = field(default_factory=dict)
    advances: dict[int, AdvanceState] = field(default_factory=dict)  # by disbursement id
    scope_recovered: dict[Scope, int] = field(default_factory=lambda: defaultdict(int))

    def pool(self, key: PoolKey) -> PoolState:
        if key not in self.pools:
            self.pools[key] = PoolState(0, key)
        return self.pools[key]

    def project(self, project_id: int) -> ProjectState:
        if project_id not in self.projects:
            self.projects[project_id] = ProjectState(project_id)
        return self.projects[project_id]

    def member(self, member_id: int | None) -> MemberState | None:
        if member_id is None:
            return None
        if member_id not in self.members:
            self.members[member_id] = MemberState(member_id)
        return self.members[member_id]

    def contract(self, contract_id: int | None) -> ContractState | None:
        if contract_id is None:
            return None
        if contract_id not in self.contracts:
            self.contracts[contract_id] = ContractState(contract_id)
        return self.contracts[contract_id]


def fold_ledger(allocations: Iterable[AllocationInput], disbursements: Iterable[LedgerRow],
                rule_sets: tuple[RuleSet, ...]) -> Books:
    """Replay the ledger (rows in id order) into books, with the effective rule sets."""
    books = Books()
    for entry in allocations:
        fold_allocation(entry, books.pool(entry.pool), books.project(entry.project_id),
                        ruleset_for(entry.decision_date, rule_sets))
    for row in disbursements:
        d = row.movement
        fold_disbursement(d, books.pool(d.pool), books.project(d.project_id), books.contract(d.contract_id),
                          ruleset_for(d.original_value_date or d.value_date, rule_sets),
                          books.member(d.contract_member_id))
        if d.kind is DisbursementKind.advance and d.reverses_id is None:
            books.advances[row.id] = AdvanceState(row.id, d.advance_scope, d.value_date, d.amount_vnd)
        elif d.kind is DisbursementKind.advance and d.reverses_id in books.advances:
            books.advances[d.reverses_id].amount_vnd = 0
        if (scope := d.recovery_scope) is not None and d.advance_recovered_vnd:
            books.scope_recovered[scope] += d.advance_recovered_vnd
    by_scope: dict[Scope, list[AdvanceState]] = defaultdict(list)
    for advance in books.advances.values():
        by_scope[advance.scope].append(advance)
    for scope in set(by_scope) | set(books.scope_recovered):
        ordered = fifo_order(by_scope.get(scope, []))
        recovered = books.scope_recovered.get(scope, 0)
        try:
            shares = allocate_fifo([a.amount_vnd for a in ordered], recovered)
        except ValueError:
            # An impossible ledger (verify reports it); fill what can be filled so the rest still compares.
            shares = allocate_fifo([a.amount_vnd for a in ordered], max(0, min(recovered, sum(
                a.amount_vnd for a in ordered))))
        for advance, share in zip(ordered, shares, strict=True):
            advance.recovered_vnd = share
    return books
