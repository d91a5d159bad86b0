"""Solvers behind the R19 reallocation optimiser (điều chuyển vốn), on one pool, in whole units.

Everything here works on integers ("units", e.g. million đồng); `reallocation.py` converts đồng to units
and back. A pool problem is: donors with a supply s_i, recipients with a capacity c_j and a priority
weight w_j, and a minimum transfer m. A solution is a set of flows (donor, recipient, units) with each
flow ≥ m, Σ_j x_ij ≤ s_i and Σ_i x_ij ≤ c_j. Objectives, lexicographic: (1) maximise Σ w_j·x_ij, then
(2) minimise the number of flows.

* `exact_flows` — pair MILP solved by HiGHS (`scipy.optimize.milp`): integer x_ij, binary y_ij with
  m·y_ij ≤ x_ij ≤ min(s_i, c_j)·y_ij. Stage 1 maximises the weighted amount; stage 2 fixes it
  (Σ w·x ≥ optimum − ½: the objective is an integer, so this is "= optimum") and minimises Σ y. Exact when
  both stages finish within the time limit; used when the pool has few pairs.
* `aggregate_bound` + `best_fit_flows` — for large pools, where pairs would number 10^7: stage 1 keeps one
  semi-integer variable per recipient (a_j = 0 or m ≤ a_j ≤ c_j, Σ a_j ≤ Σ s_i) and is solved exactly:
  in closed form when the fractional knapsack (by weight) is, or can be made, semi-integer feasible at the
  same objective (`knapsack_targets`: always when m = 1, and on realistic large pools), else by HiGHS.
  It is a relaxation: its optimum is an upper *bound* for the pair problem (equal to it when
  m = 1 unit). Stage 2 realises those amounts with a deterministic best-fit matching (each recipient
  takes the smallest donor that covers it whole, else the largest donor), then tops up with what is
  left. Without a binding minimum each flow exhausts a donor or a recipient, so flows ≤ D + R; the
  count is near-minimal, not proven minimal. The greedy answer is also computed and the better of the
  two (higher objective, then fewer flows) is kept, so the optimiser never does worse than greedy.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

Flow = tuple[int, int, int]  # (donor index, recipient index, units)


@dataclass(frozen=True, slots=True)
class PoolProblem:
    supplies: tuple[int, ...]  # donor surplus, units
    capacities: tuple[int, ...]  # recipient capacity, units
    weights: tuple[int, ...]  # recipient priority weight, ≥ 1
    min_units: int  # minimum transfer, ≥ 1

    def __post_init__(self) -> None:
        if len(self.capacities) != len(self.weights):
            raise ValueError("one weight per recipient")
        if self.min_units < 1 or min(self.supplies + self.capacities, default=0) < 0:
            raise ValueError("amounts must be ≥ 0 and the minimum transfer ≥ 1 unit")
        if min(self.weights, default=1) < 1:
            raise ValueError("weights must be ≥ 1")

    def usable_donors(self) -> list[int]:
        return [i for i, s in enumerate(self.supplies) if s >= self.min_units]

    def usable_recipients(self) -> list[int]:
        return [j for j, c in enumerate(self.capacities) if c >= self.min_units]


@dataclass(frozen=True, slots=True)
class PoolSolution:
    flows: tuple[Flow, ...]  # sorted by (donor, recipient)
    method: str
    bound: int  # upper bound on Σ w·units (= the optimum when objective_optimal)
    objective_optimal: bool
    transfers_minimal: bool
    note: str


def objective(problem: PoolProblem, flows: Iterable[Flow]) -> int:
    return sum(problem.weights[j] * x for _, j, x in flows)


def check(problem: PoolProblem, flows: Sequence[Flow]) -> None:
    """Raise ValueError unless the flows respect every R19 constraint of the pool (exact integers)."""
    given = [0] * len(problem.supplies)
    received = [0] * len(problem.capacities)
    if len({(i, j) for i, j, _ in flows}) != len(flows):
        raise ValueError("a donor–recipient pair appears twice")
    for i, j, x in flows:
        if x < problem.min_units:
            raise ValueError(f"flow {i}->{j} of {x} is below the minimum transfer")
        given[i] += x
        received[j] += x
    if any(g > s for g, s in zip(given, problem.supplies, strict=True)):
        raise ValueError("a donor gives more than its surplus")
    if any(r > c for r, c in zip(received, problem.capacities, strict=True)):
        raise ValueError("a recipient receives more than its capacity")


def _sorted(flows: dict[tuple[int, int], int]) -> tuple[Flow, ...]:
    return tuple((i, j, x) for (i, j), x in sorted(flows.items()) if x > 0)


def greedy_flows(problem: PoolProblem) -> tuple[Flow, ...]:
    """The simple rule: largest surplus first to the highest priority, then the largest capacity."""
    m = problem.min_units
    donors = sorted(problem.usable_donors(), key=lambda i: (-problem.supplies[i], i))
    recipients = sorted(
        problem.usable_recipients(), key=lambda j: (-problem.weights[j], -problem.capacities[j], j)
    )
    flows: dict[tuple[int, int], int] = {}
    d = 0
    left = problem.supplies[donors[0]] if donors else 0
    for j in recipients:
        need = problem.capacities[j]
        while d < len(donors) and need >= m:
            piece = min(left, need)
            if piece >= m:
                flows[donors[d], j] = piece
                left -= piece
                need -= piece
            if left < m:  # this donor's remainder cannot make a transfer: next donor
                d += 1
                left = problem.supplies[donors[d]] if d < len(donors) else 0
    return _sorted(flows)


def lp_bound(problem: PoolProblem) -> int:
    """Fractional-knapsack bound: fill recipients by weight with all usable supply (ignores m)."""
    supply = sum(problem.supplies[i] for i in problem.usable_donors())
    bound = 0
    for j in sorted(problem.usable_recipients(), key=lambda j: (-problem.weights[j], j)):
        take = min(supply, problem.capacities[j])
        bound += problem.weights[j] * take
        supply -= take
    return bound


def knapsack_targets(problem: PoolProblem) -> tuple[int, list[int]] | None:
    """Stage 1 in closed form when the LP relaxation's answer is (or can be made) semi-integer feasible.

    The fractional knapsack (recipients by weight, ties by index, all usable supply) gives the LP bound,
    an upper bound of the aggregate problem. Every amount is an integer and every recipient is filled to
    c_j ≥ m, except at most one, the last, with a rest r. If r = 0 or r ≥ m the fill is feasible, so it is
    optimal. If 0 < r < m, moving m − r units to it from a filled recipient of the *same* weight that keeps
    ≥ m leaves the objective at the LP bound: optimal again. Otherwise None (the MILP decides).
    Returns (optimum = LP bound, amount per recipient).
    """
    m = problem.min_units
    supply = sum(problem.supplies[i] for i in problem.usable_donors())
    targets = [0] * len(problem.capacities)
    bound, last = 0, None
    for j in sorted(problem.usable_recipients(), key=lambda j: (-problem.weights[j], j)):
        if supply == 0:
            break
        take = min(supply, problem.capacities[j])
        targets[j], last = take, j
        bound += problem.weights[j] * take
        supply -= take
    if last is None or targets[last] >= m:
        return bound, targets
    short = m - targets[last]
    donor = next((j for j, t in enumerate(targets)
                  if j != last and t - short >= m and problem.weights[j] == problem.weights[last]), None)
    if donor is None:
        return None
    targets[donor] -= short
    targets[last] = m
    return bound, targets


def aggregate_bound(problem: PoolProblem, time_limit_s: float) -> tuple[int, list[int], bool]:
    """Stage 1 without pairs: (upper bound, amount per recipient, solved to optimality).

    Exact in closed form when `knapsack_targets` applies (always when m = 1 unit, and in practice on
    large pools), else by the semi-integer MILP in HiGHS within the time limit.
    """
    m = problem.min_units
    recipients = problem.usable_recipients()
    supply = sum(problem.supplies[i] for i in problem.usable_donors())
    targets = [0] * len(problem.capacities)
    if not recipients or supply < m:
        return 0, targets, True
    closed = knapsack_targets(problem)
    if closed is not None:
        return closed[0], closed[1], True
    return aggregate_milp(problem, time_limit_s)


def aggregate_milp(problem: PoolProblem, time_limit_s: float) -> tuple[int, list[int], bool]:
    """Stage 1 by HiGHS: one semi-integer variable per recipient (a_j = 0 or m ≤ a_j ≤ c_j), Σ a_j ≤ S."""
    m = problem.min_units
    recipients = problem.usable_recipients()
    supply = sum(problem.supplies[i] for i in problem.usable_donors())
    targets = [0] * len(problem.capacities)
    if not recipients or supply < m:
        return 0, targets, True
    caps = np.array([problem.capacities[j] for j in recipients], dtype=float)
    res = milp(
        -np.array([problem.weights[j] for j in recipients], dtype=float),
        integrality=np.full(len(recipients), 3),  # semi-integer: 0 or an integer in [m, c_j]
        bounds=Bounds(np.full(len(recipients), float(m)), caps),
        constraints=LinearConstraint(coo_array(np.ones((1, len(recipients)))), -np.inf, float(supply)),
        options={"time_limit": time_limit_s, "mip_rel_gap": 0.0},
    )
    if res.x is None:
        return lp_bound(problem), targets, False
    for k, j in enumerate(recipients):
        value = int(round(res.x[k]))
        targets[j] = value if m <= value <= problem.capacities[j] else 0
    if res.status == 0:
        return min(lp_bound(problem), int(round(-res.fun))), targets, True
    return lp_bound(problem), targets, False


def best_fit_flows(problem: PoolProblem, targets: Sequence[int]) -> tuple[Flow, ...]:
    """Stage 2 for large pools: realise per-recipient targets with few flows, then top up."""
    m = problem.min_units
    left = list(problem.supplies)
    avail = sorted((left[i], i) for i in problem.usable_donors())  # ascending (remaining, donor)
    flows: dict[tuple[int, int], int] = {}
    received = [0] * len(problem.capacities)

    def give(k: int, j: int, amount: int) -> None:
        _, i = avail.pop(k)
        flows[i, j] = flows.get((i, j), 0) + amount
        received[j] += amount
        left[i] -= amount
        if left[i] >= m:  # a remainder below m can never move: drop the donor
            bisect.insort(avail, (left[i], i))

    order = sorted(
        (j for j, t in enumerate(targets) if t >= m), key=lambda j: (-problem.weights[j], -targets[j], j)
    )
    for j in order:
        need = min(targets[j], problem.capacities[j])
        while need > 0 and avail:
            k = bisect.bisect_left(avail, (need, -1))
            if k < len(avail) and avail[k][0] != need:
                # why: prefer a donor whose remainder stays usable (0 or ≥ m) over one that strands < m
                k2 = bisect.bisect_left(avail, (need + m, -1))
                k = k2 if k2 < len(avail) else k
            if k < len(avail):  # one donor covers the whole need
                give(k, j, need)
                break
            amount = avail[-1][0]  # no donor covers it: the largest gives everything it has
            give(len(avail) - 1, j, amount)
            need -= amount
            if need < m:  # the rest is too small for another transfer
                break
    # top-up: what is left goes by priority to remaining capacity
    for j in sorted(problem.usable_recipients(), key=lambda j: (-problem.weights[j], j)):
        room = problem.capacities[j] - received[j]
        while avail and room >= m:
            amount = min(room, avail[-1][0])
            give(len(avail) - 1, j, amount)
            room -= amount
    return _sorted(flows)


def _milp_flows(x: np.ndarray, pairs: Sequence[tuple[int, int, int]]) -> tuple[Flow, ...]:
    flows = {(i, j): int(round(v)) for (i, j, _), v in zip(pairs, x, strict=False)}
    return _sorted(flows)


def _valid(problem: PoolProblem, flows: tuple[Flow, ...], optimum: int) -> bool:
    try:
        check(problem, flows)
    except ValueError:
        return False
    return objective(problem, flows) >= optimum


def exact_flows(
    problem: PoolProblem,
    time_limit_s: float,
    incumbents: Sequence[tuple[Flow, ...]] = (),
    known_optimum: int | None = None,
) -> tuple[tuple[Flow, ...], int, bool] | None:
    """Both stages on the pair MILP: (flows, optimum, transfer count proven minimal), or None if unsolved.

    `incumbents` are feasible answers found otherwise (greedy, best fit): they cap Σ y in stage 2 and
    remain candidates; `known_optimum` (a heuristic that reached the aggregate bound) skips stage 1.
    """
    m = problem.min_units
    donors, recipients = problem.usable_donors(), problem.usable_recipients()
    pairs = [(i, j, min(problem.supplies[i], problem.capacities[j])) for i in donors for j in recipients]
    n = len(pairs)
    if n == 0:
        return (), 0, True
    rows, cols, vals = [], [], []
    lower: list[float] = []
    upper: list[float] = []
    d_row = {i: r for r, i in enumerate(donors)}
    r_row = {j: len(donors) + r for r, j in enumerate(recipients)}
    for p, (i, j, _) in enumerate(pairs):  # Σ_j x_ij ≤ s_i and Σ_i x_ij ≤ c_j
        rows += [d_row[i], r_row[j]]
        cols += [p, p]
        vals += [1.0, 1.0]
    lower += [-np.inf] * (len(donors) + len(recipients))
    upper += [float(problem.supplies[i]) for i in donors] + [float(problem.capacities[j]) for j in recipients]
    base = len(lower)
    for p, (_, _, cap) in enumerate(pairs):  # m·y ≤ x ≤ cap·y
        rows += [base + 2 * p, base + 2 * p, base + 2 * p + 1, base + 2 * p + 1]
        cols += [p, n + p, p, n + p]
        vals += [1.0, -float(cap), 1.0, -float(m)]
        lower += [-np.inf, 0.0]
        upper += [0.0, np.inf]
    structure = LinearConstraint(
        coo_array((vals, (rows, cols)), shape=(len(lower), 2 * n)), np.array(lower), np.array(upper)
    )
    bounds = Bounds(np.zeros(2 * n), np.array([float(c) for *_, c in pairs] + [1.0] * n))
    integrality = np.ones(2 * n)
    options = {"time_limit": time_limit_s, "mip_rel_gap": 0.0}
    weights = np.array([float(problem.weights[j]) for _, j, _ in pairs])

    candidates: list[tuple[Flow, ...]] = []
    optimum = known_optimum
    if optimum is None:
        first = milp(
            np.concatenate([-weights, np.zeros(n)]),
            integrality=integrality,
            bounds=bounds,
            constraints=structure,
            options=options,
        )
        if first.status != 0 or first.x is None:
            return None
        optimum = int(round(-first.fun))
        candidates.append(_milp_flows(first.x[:n], pairs))
    candidates += [f for f in incumbents if _valid(problem, f, optimum)]
    count_cap = min((len(f) for f in candidates if _valid(problem, f, optimum)), default=2 * n)
    keep = LinearConstraint(  # stage 2: the weighted amount stays optimal (integer, hence − ½) …
        coo_array(
            np.vstack([np.concatenate([weights, np.zeros(n)]), np.concatenate([np.zeros(n), np.ones(n)])])
        ),
        np.array([optimum - 0.5, -np.inf]),
        np.array([np.inf, count_cap + 0.5]),  # … and no answer worse than the best known is explored
    )
    second = milp(
        np.concatenate([np.zeros(n), np.ones(n)]),
        integrality=integrality,
        bounds=bounds,
        constraints=[structure, keep],
        options=options,
    )
    proven = None
    if second.x is not None:
        flows = _milp_flows(second.x[:n], pairs)
        candidates.insert(0, flows)
        # why: a count is proven only if the solver finished and its y agree with the rounded x
        if second.status == 0 and int(round(second.x[n:].sum())) == len(flows):
            proven = len(flows)
    valid = [f for f in candidates if _valid(problem, f, optimum)]
    if not valid:
        return None
    best = min(valid, key=len)  # stable: the stage-2 answer wins ties
    return best, optimum, proven is not None and len(best) <= proven


def solve_greedy(problem: PoolProblem) -> PoolSolution:
    flows = greedy_flows(problem)
    return PoolSolution(
        flows, "greedy", lp_bound(problem), False, False, "largest surplus to highest priority"
    )


def solve_pool(problem: PoolProblem, *, exact_pair_limit: int, time_limit_s: float) -> PoolSolution:
    """R19 on one pool: exact pair MILP when small enough, else aggregate MILP + best-fit (module doc)."""
    pairs = len(problem.usable_donors()) * len(problem.usable_recipients())
    if pairs == 0:
        return PoolSolution((), "empty", 0, True, True, "no usable donor or recipient")
    bound, targets, solved = aggregate_bound(problem, time_limit_s)
    fitted, simple = best_fit_flows(problem, targets), greedy_flows(problem)
    # why: keep the better of the two, so the optimiser is never worse than the simple rule
    if (objective(problem, simple), -len(simple)) > (objective(problem, fitted), -len(fitted)):
        flows, method = simple, "aggregate_milp+greedy"
    else:
        flows, method = fitted, "aggregate_milp+best_fit"
    achieved = objective(problem, flows)
    if pairs <= exact_pair_limit:
        # a heuristic that reaches the aggregate bound proves the optimum: stage 1 is then skipped
        known = bound if solved and achieved >= bound else None
        exact = exact_flows(problem, time_limit_s, (fitted, simple), known)
        if exact is not None:
            best, optimum, minimal = exact
            note = "both stages optimal" if minimal else "transfer count not proven minimal (time limit)"
            return PoolSolution(best, "exact_milp", optimum, True, minimal, note)
    note = (
        f"{pairs} pairs (exact limit {exact_pair_limit}): stage 1 "
        f"{'exact' if solved else 'LP bound (time limit)'} on per-recipient amounts; "
        f"achieved {achieved} of bound {bound}; transfer count heuristic"
    )
    return PoolSolution(flows, method, bound, achieved >= bound, False, note)
