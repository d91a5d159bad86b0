"""R19 reallocation proposals (đề xuất điều chuyển vốn): move capital from projects forecast not to spend
to projects that registered a need and can spend it before the deadline.

Pure: inputs are dataclasses, the answer is a proposal (nothing is applied; applying needs an approved
decision and writes paired zero-sum plan changes elsewhere).

* Pools. Capital never crosses a (capital source, budget level, budget holder, plan year) pool: each pool is
  solved on its own (R19: never mix sources, holders or years; R1: a district's or commune's budget is decided by
  its own council and never funds another's project).
* Donor surplus = max(0, plan − max(forecast + safety margin, disbursed + dossiers in flight)): never
  below what is disbursed or in flight (R1). Protected donors (watch-lists) give nothing when
  `protect_watch_lists` is on.
* Recipient capacity = max(0, min(registered need, TMĐT − cumulative plan (R2), pace capacity beyond plan,
  medium-term ceiling − annual plans of the period (R1c; 0 for a project outside the medium-term plan))).
* Priority weights (R19 order): settlement 5, completed 4, ongoing short of capital 3, key watch-list 2,
  new 1. Equal spacing keeps the order strict and the objective readable as "weighted đồng".
* Objective, lexicographic: maximise Σ weight × moved, then minimise the number of transfers
  (`reallocation_solver`). Exact for pools with at most `exact_pair_limit` donor–recipient pairs; for
  larger pools the moved amount comes from an exact aggregate MILP that is an upper bound, realised
  by a documented heuristic; each pool reports its method, bound and whether optimality is proven.
* Units. Amounts are solved in `unit_vnd` (default 1,000,000 đồng = 1 triệu, the unit of Vietnamese
  plan tables): surplus and capacity are floored to whole units, so every transfer is an exact multiple
  of the unit and conservation holds in integer đồng; 10^13 đồng is 10^7 units, exact in a double.
* Determinism: pools, donors and recipients are sorted by stable keys (ties by project id); HiGHS is
  deterministic for the same model. Only `solve_seconds` varies between runs, unless a HiGHS time limit
  is reached (then the answer is still valid, and `transfers_minimal` / `objective_optimal` say so).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from app.reallocation.solver import PoolProblem, PoolSolution, solve_greedy, solve_pool

ProjectId = int | str


class Priority(StrEnum):
    """R19 recipient priority classes, highest first."""

    settlement = "settlement"  # quyết toán
    completed = "completed"  # hoàn thành
    ongoing_short = "ongoing_short_of_capital"  # chuyển tiếp thiếu vốn
    key_watch_list = "key_watch_list"  # dự án trọng điểm
    new = "new"  # khởi công mới


DEFAULT_PRIORITY_WEIGHTS: dict[Priority, int] = {
    Priority.settlement: 5,
    Priority.completed: 4,
    Priority.ongoing_short: 3,
    Priority.key_watch_list: 2,
    Priority.new: 1,
}


class CapitalPool(NamedTuple):
    """Capital never moves between pools (R19): one source, one budget holder (R1, an organisation id), one year."""

    capital_source: str
    budget_level: str
    plan_year: int
    budget_holder_id: int


@dataclass(frozen=True, slots=True)
class Donor:
    project_id: ProjectId
    pool: CapitalPool
    plan_vnd: int
    disbursed_vnd: int
    in_flight_vnd: int  # payment dossiers filed and not yet paid or returned
    forecast_vnd: int
    is_protected: bool = False  # e.g. on a watch-list


@dataclass(frozen=True, slots=True)
class Recipient:
    project_id: ProjectId
    pool: CapitalPool
    plan_vnd: int
    registered_need_vnd: int  # extra capital it registered
    tmdt_headroom_vnd: int  # TMĐT − cumulative plan (R2)
    pace_capacity_vnd: int  # what its pace can spend by the deadline beyond its plan
    priority: Priority
    forecast_vnd: int | None = None  # None: it spends its whole plan
    # R1c: medium-term ceiling − the annual plans of the period (0 without a medium-term plan); None: not checked
    medium_term_headroom_vnd: int | None = None


@dataclass(frozen=True, slots=True)
class ReallocationOptions:
    minimum_transfer_vnd: int = 100_000_000  # 100 triệu: smaller moves are not worth a decision
    safety_margin_vnd: int = 0
    safety_margin_pct: float = 0.0  # % of the donor's plan kept above its forecast
    protect_watch_lists: bool = True
    unit_vnd: int = 1_000_000
    priority_weights: dict[Priority, int] = field(default_factory=lambda: dict(DEFAULT_PRIORITY_WEIGHTS))
    exact_pair_limit: int = 400  # pools with more donor–recipient pairs use the large-pool method
    time_limit_s: float = 2.0  # per HiGHS stage; a time-limited answer is flagged, never invalid


DEFAULT_OPTIONS = ReallocationOptions()


@dataclass(frozen=True, slots=True)
class Transfer:
    donor_id: ProjectId
    recipient_id: ProjectId
    pool: CapitalPool
    amount_vnd: int
    reason: str


@dataclass(frozen=True, slots=True)
class DonorOutcome:
    project_id: ProjectId
    pool: CapitalPool
    plan_vnd: int
    floor_vnd: int  # max(forecast + margin, disbursed + in flight): the plan never goes below it
    surplus_vnd: int
    given_vnd: int
    excluded: str | None  # protected | no_surplus | below_minimum_transfer | None


@dataclass(frozen=True, slots=True)
class RecipientOutcome:
    project_id: ProjectId
    pool: CapitalPool
    priority: Priority
    weight: int
    capacity_vnd: int
    limited_by: str  # registered_need | tmdt_headroom | pace_capacity | medium_term_headroom
    received_vnd: int
    excluded: str | None  # no_capacity | below_minimum_transfer | None


@dataclass(frozen=True, slots=True)
class PoolOutcome:
    pool: CapitalPool
    method: str  # exact_milp | aggregate_milp+best_fit | aggregate_milp+greedy | greedy | empty
    objective_optimal: bool  # weighted moved amount proven optimal
    transfers_minimal: bool  # number of transfers proven minimal given that optimum
    moved_vnd: int
    weighted_moved_vnd: int  # Σ weight × amount
    bound_weighted_vnd: int  # upper bound on weighted_moved_vnd
    transfer_count: int
    plan_vnd: int  # Σ plan of the pool's projects (unchanged: reallocation is zero-sum)
    expected_vnd: int  # Σ forecast before (a recipient without a forecast spends its plan)
    expected_rate_before: float  # expected_vnd ÷ plan_vnd
    expected_rate_after: float  # (expected_vnd + moved_vnd) ÷ plan_vnd: moved capital is spent
    solve_seconds: float
    note: str


@dataclass(frozen=True, slots=True)
class ReallocationResult:
    transfers: tuple[Transfer, ...]
    donors: tuple[DonorOutcome, ...]
    recipients: tuple[RecipientOutcome, ...]
    pools: tuple[PoolOutcome, ...]
    moved_vnd: int
    weighted_moved_vnd: int
    transfer_count: int
    expected_rate_before: float  # Σ forecast ÷ Σ plan over all projects given
    expected_rate_after: float  # moved capital counts as spent by its recipients
    solve_seconds: float


def id_key(project_id: ProjectId) -> tuple[int, int, str]:
    """Stable order of project ids: integers numerically, then other ids by their text."""
    return (0, project_id, "") if isinstance(project_id, int) else (1, 0, str(project_id))


def donor_floor_vnd(donor: Donor, options: ReallocationOptions = DEFAULT_OPTIONS) -> int:
    """R19: the plan never goes below max(forecast + safety margin, disbursed + dossiers in flight)."""
    margin = options.safety_margin_vnd
    if options.safety_margin_pct:  # exact decimal percentage of plan, rounded up (the safe side)
        margin += math.ceil(Fraction(str(options.safety_margin_pct)) * donor.plan_vnd / 100)
    return max(donor.forecast_vnd + margin, donor.disbursed_vnd + donor.in_flight_vnd)


def donor_surplus_vnd(donor: Donor, options: ReallocationOptions = DEFAULT_OPTIONS) -> int:
    """R19: what a donor could give without going below its forecast (+ margin) or disbursed + in flight."""
    if options.protect_watch_lists and donor.is_protected:
        return 0
    return max(0, donor.plan_vnd - donor_floor_vnd(donor, options))


def recipient_capacity_vnd(recipient: Recipient) -> tuple[int, str]:
    """R19: (capacity, which limit binds): registered need, TMĐT headroom (R2), pace capacity or medium-term
    headroom (R1c)."""
    limits = [
        (recipient.registered_need_vnd, "registered_need"),
        (recipient.tmdt_headroom_vnd, "tmdt_headroom"),
        (recipient.pace_capacity_vnd, "pace_capacity"),
    ]
    if recipient.medium_term_headroom_vnd is not None:
        limits.append((recipient.medium_term_headroom_vnd, "medium_term_headroom"))
    amount, name = min(limits, key=lambda item: item[0])  # min keeps the first on ties
    return max(0, amount), name


def _validate(donors: Sequence[Donor], recipients: Sequence[Recipient], options: ReallocationOptions) -> None:
    if options.unit_vnd < 1 or options.minimum_transfer_vnd < 0:
        raise ValueError("unit_vnd must be ≥ 1 and minimum_transfer_vnd ≥ 0")
    if any(options.priority_weights.get(p, 0) < 1 for p in Priority):
        raise ValueError("every priority class needs an integer weight ≥ 1")
    seen: set[tuple[CapitalPool, ProjectId]] = set()
    items: tuple[Donor | Recipient, ...] = (*donors, *recipients)
    for item in items:
        key = (item.pool, item.project_id)
        if key in seen:
            raise ValueError(f"project {item.project_id!r} appears twice in pool {tuple(item.pool)}")
        seen.add(key)
    for d in donors:
        if min(d.plan_vnd, d.disbursed_vnd, d.in_flight_vnd, d.forecast_vnd) < 0:
            raise ValueError(f"donor {d.project_id!r}: amounts must be ≥ 0")
    for r in recipients:
        if r.plan_vnd < 0:
            raise ValueError(f"recipient {r.project_id!r}: plan must be ≥ 0")


def _rate(forecast: int, plan: int) -> float:
    return forecast / plan if plan > 0 else 0.0


def _reason(d: Donor, r: Recipient, surplus: int, capacity: int, weight: int) -> str:
    deadline = date(d.pool.plan_year + 1, 1, 31).strftime("%d/%m/%Y")
    return (
        f"{d.project_id} is forecast to disburse {d.forecast_vnd:,} of its {d.plan_vnd:,} đ plan "
        f"(surplus {surplus:,} đ); {r.project_id} ({r.priority.value}, weight {weight}) can spend "
        f"{capacity:,} đ more by {deadline}."
    )


Solver = Callable[[PoolProblem, ReallocationOptions], PoolSolution]


def _solve(problem: PoolProblem, options: ReallocationOptions) -> PoolSolution:
    return solve_pool(problem, exact_pair_limit=options.exact_pair_limit, time_limit_s=options.time_limit_s)


def _donor_exclusion(
    d: Donor, surplus_vnd: int, units: int, min_units: int, options: ReallocationOptions
) -> str | None:
    if options.protect_watch_lists and d.is_protected:
        return "protected"
    if surplus_vnd == 0:
        return "no_surplus"
    return "below_minimum_transfer" if units < min_units else None


def _solve_pool(
    pool: CapitalPool,
    donors: list[Donor],
    recipients: list[Recipient],
    options: ReallocationOptions,
    solver: Solver,
) -> tuple[list[Transfer], list[DonorOutcome], list[RecipientOutcome], PoolOutcome]:
    unit = options.unit_vnd
    min_units = max(1, -(-options.minimum_transfer_vnd // unit))  # ceil: never below the minimum
    floors = [donor_floor_vnd(d, options) for d in donors]
    surplus = [donor_surplus_vnd(d, options) for d in donors]
    capacity = [recipient_capacity_vnd(r) for r in recipients]
    weights = [options.priority_weights[r.priority] for r in recipients]
    problem = PoolProblem(
        supplies=tuple(s // unit for s in surplus),  # floor: a donor never gives more than its surplus
        capacities=tuple(c // unit for c, _ in capacity),
        weights=tuple(weights),
        min_units=min_units,
    )
    started = time.perf_counter()
    solution = solver(problem, options)
    seconds = time.perf_counter() - started

    transfers = []
    given, received = [0] * len(donors), [0] * len(recipients)
    for i, j, units in solution.flows:
        amount = units * unit
        given[i] += amount
        received[j] += amount
        reason = _reason(donors[i], recipients[j], surplus[i], capacity[j][0], weights[j])
        transfers.append(Transfer(donors[i].project_id, recipients[j].project_id, pool, amount, reason))
    donor_out = [
        DonorOutcome(
            d.project_id,
            pool,
            d.plan_vnd,
            floors[i],
            surplus[i],
            given[i],
            _donor_exclusion(d, surplus[i], problem.supplies[i], min_units, options),
        )
        for i, d in enumerate(donors)
    ]
    recipient_out = [
        RecipientOutcome(
            r.project_id,
            pool,
            r.priority,
            weights[j],
            capacity[j][0],
            capacity[j][1],
            received[j],
            "no_capacity"
            if capacity[j][0] == 0
            else "below_minimum_transfer"
            if problem.capacities[j] < min_units
            else None,
        )
        for j, r in enumerate(recipients)
    ]
    plan = sum(d.plan_vnd for d in donors) + sum(r.plan_vnd for r in recipients)
    expected = sum(d.forecast_vnd for d in donors) + sum(
        r.plan_vnd if r.forecast_vnd is None else r.forecast_vnd for r in recipients
    )
    moved = sum(received)
    outcome = PoolOutcome(
        pool=pool,
        method=solution.method,
        objective_optimal=solution.objective_optimal,
        transfers_minimal=solution.transfers_minimal,
        moved_vnd=moved,
        weighted_moved_vnd=sum(w * x for w, x in zip(weights, received, strict=True)),
        bound_weighted_vnd=solution.bound * unit,
        transfer_count=len(transfers),
        plan_vnd=plan,
        expected_vnd=expected,
        expected_rate_before=_rate(expected, plan),
        expected_rate_after=_rate(expected + moved, plan),
        solve_seconds=seconds,
        note=solution.note,
    )
    return transfers, donor_out, recipient_out, outcome


def _run(
    donors: Sequence[Donor], recipients: Sequence[Recipient], options: ReallocationOptions, solver: Solver
) -> ReallocationResult:
    _validate(donors, recipients, options)
    by_pool: dict[CapitalPool, tuple[list[Donor], list[Recipient]]] = defaultdict(lambda: ([], []))
    for d in donors:
        by_pool[d.pool][0].append(d)
    for r in recipients:
        by_pool[r.pool][1].append(r)
    transfers: list[Transfer] = []
    donor_out: list[DonorOutcome] = []
    recipient_out: list[RecipientOutcome] = []
    pools: list[PoolOutcome] = []
    for pool in sorted(by_pool, key=lambda p: tuple(map(str, p))):
        pool_donors, pool_recipients = by_pool[pool]
        pool_transfers, pool_donor_out, pool_recipient_out, outcome = _solve_pool(
            pool,
            sorted(pool_donors, key=lambda x: id_key(x.project_id)),  # why: ties broken by project id
            sorted(pool_recipients, key=lambda x: id_key(x.project_id)),
            options,
            solver,
        )
        transfers += pool_transfers
        donor_out += pool_donor_out
        recipient_out += pool_recipient_out
        pools.append(outcome)
    plan = sum(p.plan_vnd for p in pools)
    expected = sum(p.expected_vnd for p in pools)
    moved = sum(p.moved_vnd for p in pools)
    return ReallocationResult(
        transfers=tuple(transfers),
        donors=tuple(donor_out),
        recipients=tuple(recipient_out),
        pools=tuple(pools),
        moved_vnd=moved,
        weighted_moved_vnd=sum(p.weighted_moved_vnd for p in pools),
        transfer_count=len(transfers),
        expected_rate_before=_rate(expected, plan),
        expected_rate_after=_rate(expected + moved, plan),
        solve_seconds=sum(p.solve_seconds for p in pools),
    )


def optimise(
    donors: Sequence[Donor], recipients: Sequence[Recipient], options: ReallocationOptions = DEFAULT_OPTIONS
) -> ReallocationResult:
    """R19: the proposal maximising priority-weighted moved capital, then with the fewest transfers."""
    return _run(donors, recipients, options, _solve)


def greedy(
    donors: Sequence[Donor], recipients: Sequence[Recipient], options: ReallocationOptions = DEFAULT_OPTIONS
) -> ReallocationResult:
    """R19 by the simple rule (largest surplus to highest priority, then largest capacity), for comparison."""
    return _run(donors, recipients, options, lambda problem, _: solve_greedy(problem))


ENVELOPE = "envelope"  # the one donor of envelope mode: the new capital itself


def distribute(
    envelope_vnd: int, pool: CapitalPool, recipients: Sequence[Recipient],
    options: ReallocationOptions = DEFAULT_OPTIONS, solver: Callable[..., ReallocationResult] = optimise,
) -> ReallocationResult:
    """R19 envelope mode: new capital (a tranche, đợt) of one pool to the projects able to absorb it by the
    deadline, by the same priorities and caps (need, TMĐT headroom, pace); nothing is taken from anyone.

    Solved as a reallocation with one donor, the envelope, whose surplus is the whole amount; the rates are those of
    the recipients (the envelope is new plan, spent by whoever receives it)."""
    mine = [r for r in recipients if r.pool == pool]
    result = solver([Donor(ENVELOPE, pool, envelope_vnd, 0, 0, 0)], mine,
                    replace(options, safety_margin_vnd=0, safety_margin_pct=0.0, protect_watch_lists=False))
    plan = sum(r.plan_vnd for r in mine)
    expected = sum(r.plan_vnd if r.forecast_vnd is None else r.forecast_vnd for r in mine)
    return replace(result, donors=(), expected_rate_before=_rate(expected, plan),
                   expected_rate_after=_rate(expected + result.moved_vnd, plan + result.moved_vnd))


__all__ = [
    "DEFAULT_OPTIONS",
    "DEFAULT_PRIORITY_WEIGHTS",
    "Donor",
    "DonorOutcome",
    "CapitalPool",
    "PoolOutcome",
    "Priority",
    "ReallocationOptions",
    "ReallocationResult",
    "Recipient",
    "RecipientOutcome",
    "Transfer",
    "donor_floor_vnd",
    "donor_surplus_vnd",
    "distribute",
    "greedy",
    "id_key",
    "optimise",
    "recipient_capacity_vnd",
]
