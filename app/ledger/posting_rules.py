"""The posting decision (docs/rules.md): every rule in force for one movement of money, as a pure function.

`decide_disbursement` takes a proposed disbursement (or reversal) and the balances locked for it, with the
effective rule sets, and answers the first broken rule (a `RowError` with a stable code and the numbers that
would be allowed) or None, plus R5 warnings. A reversal is a posting of the negated movement: it passes the
same bounds (R1–R3, R7, R8, R13) on the balances it would leave; an advance already recovered in part
cannot be reversed. `decide_allocation` does the same for a plan entry (with its R1c medium-term ceiling). No
database, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from app.enums import (
    PLAN_DECREASING,
    REPAYS_NEXT_YEAR_ADVANCE,
    AdvanceKind,
    AllocationKind,
    DisbursementKind,
    MediumTermKind,
    ProjectFunding,
    ProjectStatus,
)
from app.ledger import advance_rules
from app.ledger.fold import (
    AllocationInput,
    ContractState,
    DisbursementInput,
    MemberState,
    PoolState,
    ProjectState,
    fold_disbursement,
)
from app.ledger.medium_term_rules import MediumTermInput, MediumTermState, period_label
from app.rulesets.model import RuleSet, ruleset_for


@dataclass(slots=True)
class RowError:
    index: int
    code: str
    detail: str
    pointer: str | None = None
    numbers: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "code": self.code, "detail": self.detail, "pointer": self.pointer,
                **self.numbers}


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    id: int
    code: str
    status: ProjectStatus
    total_investment_vnd: int
    investor_id: int
    funding: ProjectFunding = ProjectFunding.public


def _no_ledger(project: ProjectFacts) -> RowError | None:
    """R21: a non-budget project (Appendix 1) has no capital ledger: no plan, no disbursement."""
    if project.funding is ProjectFunding.public:
        return None
    return _err("non_budget_project", f"R21: project {project.code} is financed outside the state budget (dự án "
                "ngoài ngân sách): it has progress, milestones and obstacles, never plans or disbursements.",
                "/project_id", funding=project.funding.value, allowed_funding=[ProjectFunding.public.value])


@dataclass(frozen=True, slots=True)
class ContractFacts:
    id: int
    project_id: int
    contract_type: str
    value_vnd: int
    value_at_signing_vnd: int
    agreed_advance_rate_pct: int | None
    full_recovery_date: date | None
    approved_advance_rate_pct: int | None
    approving_decision: str | None
    guarantee_vnd: int
    guarantee_expires_on: date | None


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """A joint-venture member (thành viên liên danh) of a contract and its share of the value (R8)."""

    id: int
    contract_id: int
    name: str
    share_vnd: int


@dataclass(slots=True)
class Locked:
    """What the posting locked for one row: its project, pool, contract (and joint-venture member) and recovery
    scope."""

    project: ProjectFacts | None
    balance: ProjectState | None
    pool: PoolState | None
    contract: tuple[ContractFacts, ContractState] | None = None
    scope_outstanding_vnd: int = 0  # outstanding advances in the row's recovery scope (no contract)
    reversed_advance_recovered_vnd: int = 0  # for the reversal of an advance: what was recovered of it
    member: tuple[MemberFacts, MemberState] | None = None  # the member the row names
    joint_venture: bool = False  # the row's contract has members: every movement names one


def _fmt(amount: int) -> str:
    return f"{amount:,} đồng"


def _err(code: str, detail: str, pointer: str | None = None, **numbers: Any) -> RowError:
    return RowError(0, code, detail, pointer, numbers)


def check_window(row: DisbursementInput, pool: PoolState, rule_set: RuleSet) -> RowError | None:
    """R14: the value date must fall in the plan year's window, or within an extension / nd254 late capital."""
    year = row.plan_year
    if row.value_date < date(year, 1, 1):
        return _err("value_date_before_plan_year", f"Value date {row.value_date} is before plan year {year} began.",
                    "/value_date")
    if row.kind is DisbursementKind.advance:
        deadline = rule_set.advance_deadline_for(year, site_clearance=row.site_clearance)
    else:
        deadline = rule_set.payment_deadline_for(year)
    if row.value_date <= deadline:
        return None
    late_allowance = pool.extended_vnd if (pool.extended_until and row.value_date <= pool.extended_until) else 0
    if rule_set.late_capital_after is not None and row.value_date <= rule_set.extension_limit_for(year):
        late_allowance += pool.late_capital_vnd
    remaining_late = max(0, late_allowance - pool.late_disbursed_vnd)
    if row.net_vnd > remaining_late:
        return _err("outside_disbursement_window", f"R14: plan year {year} capital may be disbursed until {deadline} "
                    f"({rule_set.code}); after it only extended capital, {_fmt(remaining_late)} left.",
                    "/value_date", deadline=deadline.isoformat(), remaining_vnd=remaining_late)
    return None


def _member_facts(facts: ContractFacts, member: tuple[MemberFacts, MemberState] | None
                  ) -> advance_rules.ContractBalances | None:
    """A joint-venture member's figures as R7/R8 see them: its share is the value it is measured against."""
    if member is None:
        return None
    terms, state = member
    return advance_rules.ContractBalances(
        contract_type=facts.contract_type, value_vnd=terms.share_vnd, advanced_vnd=state.advanced_vnd,
        recovered_vnd=state.recovered_vnd, paid_vnd=state.paid_vnd, supply_completed=state.supply_completions > 0)


def _member_rule(row: DisbursementInput, locked: Locked) -> RowError | None:
    """R8 (joint ventures): a movement under a joint-venture contract names one of its members, and only then."""
    if locked.joint_venture and row.contract_member_id is None:
        return _err("contract_member_required", "R8: this is a joint-venture contract; name the member paid "
                    "(contract_member_id): 80% applies to each member's share.", "/contract_member_id")
    member = locked.member
    if row.contract_member_id is not None and (member is None or member[0].contract_id != row.contract_id):
        return _err("contract_member_not_in_contract", f"Member {row.contract_member_id} is not a joint-venture member "
                    f"of contract {row.contract_id}.", "/contract_member_id")
    return None


def _contract_facts(facts: ContractFacts, state: ContractState) -> advance_rules.ContractBalances:
    return advance_rules.ContractBalances(
        contract_type=facts.contract_type, value_vnd=facts.value_vnd, value_at_signing_vnd=facts.value_at_signing_vnd,
        agreed_advance_rate_pct=facts.agreed_advance_rate_pct, advanced_vnd=state.advanced_vnd,
        recovered_vnd=state.recovered_vnd, paid_vnd=state.paid_vnd,
        approved_advance_rate_pct=facts.approved_advance_rate_pct, approving_decision=facts.approving_decision,
        guarantee_vnd=facts.guarantee_vnd, guarantee_expires_on=facts.guarantee_expires_on,
        supply_completed=state.supply_completions > 0)


def _shape(row: DisbursementInput) -> RowError | None:
    """What a new movement must look like, before any balance is read."""
    if row.kind is DisbursementKind.advance and row.advance_kind is None:
        return _err("advance_kind_required", "An advance must say its kind: contract, site_clearance or other.",
                    "/advance_kind")
    if row.kind is not DisbursementKind.advance and row.advance_kind is not None:
        return _err("advance_kind_not_allowed", "Only advances carry an advance kind.", "/advance_kind")
    if row.kind is DisbursementKind.advance and row.advance_recovered_vnd:
        return _err("recovery_not_allowed", "An advance cannot recover an advance.", "/advance_recovered_vnd")
    if row.advance_recovered_vnd > row.amount_vnd:
        return _err("recovery_exceeds_amount", "R7: the recovery cannot exceed the payment it is deducted from.",
                    "/advance_recovered_vnd", allowed_max_vnd=row.amount_vnd)
    if row.kind is DisbursementKind.advance and row.advance_kind is AdvanceKind.contract and row.contract_id is None:
        return _err("contract_required", "R4a: a contract advance must name its contract (contract_id); advances "
                    "without a contract are site_clearance or other.", "/contract_id")
    if row.kind is DisbursementKind.advance and row.contract_id is not None and \
            row.advance_kind is not AdvanceKind.contract:
        return _err("advance_kind_mismatch", "An advance under a contract is a contract advance.", "/advance_kind")
    if row.completes_supply and (row.kind is not DisbursementKind.payment or row.contract_id is None):
        return _err("supply_completion_not_applicable", "R8: only a payment under an equipment contract completes "
                    "its supply.", "/completes_supply")
    return None


def _contract_rules(row: DisbursementInput, locked: Locked, rule_set: RuleSet
                    ) -> tuple[RowError | None, list[dict[str, Any]]]:
    """R3, R4, R4a, R6, R7, R8 and the R5 warning for a new movement under a contract."""
    if locked.contract is None:
        return _err("contract_not_found", f"Contract {row.contract_id} does not exist.", "/contract_id"), []
    facts, state = locked.contract
    if facts.project_id != row.project_id:
        return _err("contract_not_in_project", f"Contract {facts.id} belongs to another project.", "/contract_id"), []
    if (member_error := _member_rule(row, locked)) is not None:
        return member_error, []
    if row.kind is DisbursementKind.advance and facts.full_recovery_date is None:
        return _err("full_recovery_date_required", "R4a: record the contract's full-recovery date before advancing "
                    "under it.", "/contract_id"), []
    if row.completes_supply and not advance_rules.recovered_on_supply(facts.contract_type, rule_set):
        return _err("supply_completion_not_applicable", f"R8: only a contract recovered on completed supply "
                    f"({', '.join(rule_set.supply_recovery_contract_types)}) takes a payment completing the supply; "
                    f"this one is {facts.contract_type}.", "/completes_supply"), []
    movement = advance_rules.Movement(kind=row.kind, amount_vnd=row.amount_vnd, value_date=row.value_date,
                                      advance_recovered_vnd=row.advance_recovered_vnd
                                      if row.kind is DisbursementKind.payment else 0,
                                      completes_supply=row.completes_supply)
    balances = _contract_facts(facts, state)
    violations = advance_rules.check_movement(balances, movement, rule_set, _member_facts(facts, locked.member))
    if violations:
        first = violations[0]
        pointer = "/advance_recovered_vnd" if first.rule_id in ("R7", "R8") else "/amount_vnd"
        return _err(first.code, f"{first.rule_id}: {first.detail}", pointer, **first.extensions()), []
    warnings: list[dict[str, Any]] = []
    if row.kind is DisbursementKind.advance and state.advanced_vnd == 0:
        warning = advance_rules.advance_floor_warning(facts.contract_type, facts.value_at_signing_vnd, row.amount_vnd,
                                                      rule_set)
        if warning is not None:
            warnings.append({"code": warning.code, "rule": warning.rule_id, "detail": warning.detail,
                             "min_rate_pct": warning.min_rate_pct, "floor_vnd": warning.floor_vnd,
                             "attempted_vnd": warning.attempted_vnd})
    return None, warnings


def _recovery_scope_rule(row: DisbursementInput, locked: Locked) -> RowError | None:
    """R7/R13 without a contract: the recovery must find outstanding advances of its kind in the project."""
    if row.contract_id is not None or not row.advance_recovered_vnd:
        return None
    scope = row.recovery_scope
    assert scope is not None
    if row.advance_recovered_vnd <= locked.scope_outstanding_vnd:
        return None
    return _err("recovery_exceeds_outstanding", f"R7: the project's outstanding {scope.kind.value} advances "
                f"without a contract are {_fmt(locked.scope_outstanding_vnd)}; a recovery is allocated to "
                f"those advances only.", "/advance_recovered_vnd", outstanding_vnd=locked.scope_outstanding_vnd,
                allowed_max_vnd=locked.scope_outstanding_vnd, scope=scope.kind.value)


def _reversal_rules(row: DisbursementInput, locked: Locked, rule_set: RuleSet) -> RowError | None:
    """The balances a reversal would leave must stay within every bound a movement must respect."""
    assert locked.pool is not None and locked.balance is not None
    if row.kind is DisbursementKind.advance and locked.reversed_advance_recovered_vnd:
        return _err("advance_already_recovered", f"R13: {_fmt(locked.reversed_advance_recovered_vnd)} of this "
                    "advance was already recovered; reverse the recovering payments first.", "/disbursement_id",
                    recovered_vnd=locked.reversed_advance_recovered_vnd, allowed_max_vnd=0)
    # Undoing a recovery without a contract only makes its scope's advances outstanding again: always in bounds,
    # since an advance is reversed only while nothing of it is recovered (above).
    if locked.contract is None:
        return None
    facts, before = locked.contract
    after = replace(before)
    member_after = replace(locked.member[1]) if locked.member is not None else None
    fold_disbursement(row, replace(locked.pool), replace(locked.balance), after, rule_set, member_after)
    lowest = min(after.outstanding_vnd, member_after.outstanding_vnd if member_after else after.outstanding_vnd)
    if lowest < 0:
        return _err("recovery_exceeds_outstanding", f"R7: the contract's (or member's) outstanding advance would "
                    f"become {_fmt(lowest)}.", "/disbursement_id", outstanding_vnd=before.outstanding_vnd)
    disbursed_before = before.outstanding_vnd + before.paid_vnd
    disbursed_after = after.outstanding_vnd + after.paid_vnd
    if disbursed_after > facts.value_vnd and disbursed_after > disbursed_before:
        return _err("contract_cap_exceeded", f"R3: this reversal would leave {_fmt(disbursed_after)} disbursed "
                    f"under a contract of {_fmt(facts.value_vnd)}.", "/disbursement_id",
                    remaining_vnd=max(0, facts.value_vnd - disbursed_before), rule="R3")
    # R8 on the contract, or for a joint venture on the member's share.
    own_after: ContractState | MemberState = after
    value, own_before = facts.value_vnd, before.outstanding_vnd
    if locked.member is not None and member_after is not None:
        value, own_before, own_after = locked.member[0].share_vnd, locked.member[1].outstanding_vnd, member_after
    if advance_rules.r8_breached(facts.contract_type, value, own_after.outstanding_vnd, own_after.paid_vnd,
                                 own_after.supply_completions > 0, rule_set) \
            and own_after.outstanding_vnd > own_before:
        return _err("completion_recovery_required", f"R8: the value disbursed would stay at or above "
                    f"{rule_set.completion_recovery_pct}% of the contract value (or its supply complete) with "
                    f"{_fmt(own_after.outstanding_vnd)} of advance outstanding.", "/disbursement_id",
                    rule="R8", minimum_recovery_vnd=own_after.outstanding_vnd)
    return None


def decide_disbursement(row: DisbursementInput, locked: Locked, today: date, rule_sets: tuple[RuleSet, ...]
                        ) -> tuple[RowError | None, list[dict[str, Any]]]:
    """(the first broken rule or None, R5 warnings) for one movement over its locked balances."""
    project, pool, balance = locked.project, locked.pool, locked.balance
    if project is None or balance is None:
        return _err("project_not_found", f"Project {row.project_id} does not exist.", "/project_id"), []
    if (no_ledger := _no_ledger(project)) is not None:
        return no_ledger, []
    if row.value_date > today:
        return _err("value_date_in_future", f"Value date {row.value_date} is after today ({today}).",
                    "/value_date", latest_allowed=today.isoformat()), []
    if row.reverses_id is not None:
        if pool is None:
            return _err("plan_cap_exceeded", "The reversed entry's pool does not exist.", "/disbursement_id"), []
        rule_set = ruleset_for(row.original_value_date or row.value_date, rule_sets)
        return _reversal_rules(row, locked, rule_set), []
    if project.status is not ProjectStatus.active:
        return _err("project_not_active", f"Project {project.code} is {project.status.value}.", "/project_id"), []
    if (shape := _shape(row)) is not None:
        return shape, []
    if pool is None or pool.plan_vnd <= 0:
        return _err("plan_cap_exceeded", f"R1: project {project.code} has no {row.plan_year} plan for "
                    f"{row.capital_source.value}/{row.budget_level.value}.", "/amount_vnd", remaining_vnd=0), []
    rule_set = ruleset_for(row.value_date, rule_sets)
    if (window := check_window(row, pool, rule_set)) is not None:
        return window, []
    remaining_plan = pool.plan_vnd - pool.disbursed_vnd
    if row.net_vnd > remaining_plan:
        return _err("plan_cap_exceeded", f"R1: exceeds the {row.plan_year} plan of this pool; "
                    f"{_fmt(remaining_plan)} left.", "/amount_vnd", remaining_vnd=remaining_plan), []
    remaining_tmdt = project.total_investment_vnd - balance.disbursed_total_vnd
    if row.net_vnd > remaining_tmdt:
        return _err("tmdt_cap_exceeded", f"R2: exceeds the project's total investment (TMĐT); "
                    f"{_fmt(remaining_tmdt)} left.", "/amount_vnd", remaining_vnd=remaining_tmdt), []
    if row.kind is DisbursementKind.advance and \
            pool.advanced_vnd + row.amount_vnd > pool.plan_vnd:
        allowed = max(0, pool.plan_vnd - pool.advanced_vnd)
        return _err("advance_exceeds_plan", f"R4: advances in the plan year would exceed the plan; "
                    f"{_fmt(allowed)} left.", "/amount_vnd", remaining_vnd=allowed, allowed_max_vnd=allowed), []
    if row.contract_id is not None:
        return _contract_rules(row, locked, rule_set)
    return _recovery_scope_rule(row, locked), []


def next_year_advance_repayment(entry: AllocationInput, unrepaid_vnd: int) -> int:
    """R1a: how much of a year Y+1 allocation repays what was advanced from Y+1's plan in year Y (ứng trước).

    The next year's new capital is first used to repay the advance; only the rest is new capital."""
    if entry.kind not in REPAYS_NEXT_YEAR_ADVANCE or unrepaid_vnd <= 0:
        return 0
    return min(unrepaid_vnd, entry.amount_vnd)


def _provenance_rule(entry: AllocationInput, pool: PoolState) -> RowError | None:
    """R1b: the added part lies within the entry; a decrease takes each part from what the pool holds of it."""
    if entry.kind is AllocationKind.extension and entry.added_vnd:
        return _err("added_not_allowed", "R1b: an extension changes the window, not the plan: it carries no "
                    "provenance (added_vnd 0).", "/added_vnd", allowed_max_vnd=0)
    if entry.added_vnd > entry.amount_vnd:
        return _err("added_exceeds_amount", "R1b: the part added by the province cannot exceed the entry's amount.",
                    "/added_vnd", allowed_max_vnd=entry.amount_vnd)
    if entry.kind not in PLAN_DECREASING:
        return None
    assigned_plan, assigned_taken = pool.plan_vnd - pool.added_plan_vnd, entry.amount_vnd - entry.added_vnd
    if entry.added_vnd > pool.added_plan_vnd or assigned_taken > assigned_plan:
        return _err("provenance_plan_exceeded", f"R1b: the pool holds {_fmt(assigned_plan)} of the Prime Minister's "
                    f"plan and {_fmt(pool.added_plan_vnd)} added by the province; a decrease takes each part from "
                    "its own.", "/added_vnd", assigned_plan_vnd=assigned_plan, added_plan_vnd=pool.added_plan_vnd,
                    allowed_min_added_vnd=max(0, entry.amount_vnd - assigned_plan),
                    allowed_max_added_vnd=min(entry.amount_vnd, pool.added_plan_vnd))
    return None


def _medium_term_rule(entry: AllocationInput, medium_term: MediumTermState) -> RowError | None:
    """R1c: a plan increase needs the project in the medium-term plan of the period and source, with headroom."""
    if entry.plan_delta_vnd <= 0:
        return None
    period = period_label(medium_term.key.period_start)
    numbers = {"period": period, "capital_source": entry.capital_source.value, "project_id": entry.project_id}
    if medium_term.ceiling_vnd is None:
        return _err("medium_term_plan_missing", f"R1c: project has no medium-term plan {period} for "
                    f"{entry.capital_source.value}; a project gets annual capital only within its medium-term plan "
                    "(record it first).", "/capital_source", remaining_vnd=0, **numbers)
    if entry.plan_delta_vnd > medium_term.headroom_vnd:
        return _err("medium_term_ceiling_exceeded", f"R1c: the annual plans of {period} would exceed the "
                    f"medium-term ceiling of {_fmt(medium_term.ceiling_vnd)}; {_fmt(medium_term.headroom_vnd)} of "
                    "headroom left.", "/amount_vnd", remaining_vnd=medium_term.headroom_vnd,
                    ceiling_vnd=medium_term.ceiling_vnd, annual_plans_vnd=medium_term.annual_plans_vnd, **numbers)
    return None


def decide_medium_term(entry: MediumTermInput, state: MediumTermState, today: date) -> RowError | None:
    """R1c: a medium-term entry is a decision like an allocation; the ceiling never goes below the annual plans of
    the period already given from it."""
    if entry.decision_date > today:
        return _err("decision_date_in_future", f"Decision date {entry.decision_date} is after today.",
                    "/decision_date", latest_allowed=today.isoformat())
    if entry.kind is MediumTermKind.initial and state.ceiling_vnd is not None:
        return _err("medium_term_plan_exists", f"R1c: the project already has a medium-term plan "
                    f"{period_label(entry.period_start)} for {entry.capital_source.value}; change it with an "
                    "adjustment.", "/kind", ceiling_vnd=state.ceiling_vnd)
    if entry.kind is not MediumTermKind.initial and state.ceiling_vnd is None:
        return _err("medium_term_plan_missing", f"R1c: there is no medium-term plan "
                    f"{period_label(entry.period_start)} for {entry.capital_source.value} to adjust; record its "
                    "initial entry.", "/kind", remaining_vnd=0)
    if entry.signed_vnd < 0 and -entry.signed_vnd > state.headroom_vnd:
        return _err("medium_term_below_annual_plans", f"R1c: the annual plans of the period already take "
                    f"{_fmt(state.annual_plans_vnd)} of the ceiling of {_fmt(state.ceiling_vnd or 0)}; it can be "
                    f"reduced by {_fmt(state.headroom_vnd)} at most.", "/amount_vnd",
                    remaining_vnd=state.headroom_vnd, annual_plans_vnd=state.annual_plans_vnd)
    return None


def decide_allocation(entry: AllocationInput, project: ProjectFacts, pool: PoolState, balance: ProjectState,
                      medium_term: MediumTermState, today: date, rule_sets: tuple[RuleSet, ...], *,
                      generated: bool = False) -> RowError | None:
    """R1 (a plan never below what is disbursed), R1a (repayments are generated), R1b (provenance), R1c
    (medium-term ceiling), R2/R19 (cumulative plan ≤ TMĐT), R14 (extensions), R21 (no ledger outside the budget)."""
    if (no_ledger := _no_ledger(project)) is not None:
        return no_ledger
    if entry.kind is AllocationKind.advance_repayment and not generated:
        return _err("generated_kind", "R1a: a repayment of capital advanced from next year's plan is recorded by the "
                    "service with the next year's allocation, never sent.", "/kind",
                    allowed=sorted(k.value for k in AllocationKind if k is not AllocationKind.advance_repayment))
    if entry.decision_date > today:
        return _err("decision_date_in_future", f"Decision date {entry.decision_date} is after today.",
                    "/decision_date", latest_allowed=today.isoformat())
    if (provenance := _provenance_rule(entry, pool)) is not None:
        return provenance
    unspent = pool.plan_vnd - pool.disbursed_vnd
    if entry.kind in PLAN_DECREASING and entry.amount_vnd > unspent:
        return _err("plan_below_disbursed", f"R1: the pool has {_fmt(unspent)} unspent; the plan cannot go below "
                    "what is already disbursed.", "/amount_vnd", remaining_vnd=unspent)
    if entry.kind in PLAN_DECREASING and pool.advanced_vnd > pool.plan_vnd - entry.amount_vnd:
        allowed = max(0, pool.plan_vnd - pool.advanced_vnd)
        return _err("plan_below_advanced", f"R4: advances of this pool's year are {_fmt(pool.advanced_vnd)}; the "
                    "plan cannot go below them.", "/amount_vnd", remaining_vnd=allowed)
    headroom = project.total_investment_vnd - balance.planned_total_vnd
    if entry.plan_delta_vnd > headroom:
        return _err("tmdt_cap_exceeded", f"R2: the cumulative plan would exceed the project's TMĐT; "
                    f"{_fmt(headroom)} of headroom left.", "/amount_vnd", remaining_vnd=headroom)
    if (ceiling := _medium_term_rule(entry, medium_term)) is not None:
        return ceiling
    if entry.kind is AllocationKind.extension:
        rule_set = ruleset_for(entry.decision_date, rule_sets)
        limit = rule_set.extension_limit_for(entry.plan_year)
        normal_end = rule_set.payment_deadline_for(entry.plan_year)
        if entry.extended_until is None or not normal_end < entry.extended_until <= limit:
            return _err("invalid_extension", f"R14: an extension of {entry.plan_year} capital must end after "
                        f"{normal_end} and no later than {limit}.", "/extended_until",
                        earliest=normal_end.isoformat(), latest=limit.isoformat())
        still_extendable = unspent - pool.extended_vnd
        if entry.amount_vnd > still_extendable:
            return _err("extension_exceeds_unspent", f"R14: only {_fmt(still_extendable)} of unspent plan can still "
                        "be extended.", "/amount_vnd", remaining_vnd=still_extendable)
    elif entry.extended_until is not None:
        return _err("extended_until_not_allowed", "Only an extension carries extended_until.", "/extended_until")
    return None
