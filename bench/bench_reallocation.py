"""Benchmark of the R19 reallocation optimiser on one 10,000-project pool (prints numbers, asserts nothing).

Run: .venv/bin/python bench/bench_reallocation.py [--seed 2024] [--donors 6000] [--recipients 4000]

The pool is generated deterministically: 6,000 donor-or-neutral projects (plans log-normal around 20 tỷ,
about 40% forecast to leave part of their plan unspent) and 4,000 recipients (registered needs 0.3–40 tỷ,
capacity limited by TMĐT headroom and pace, priorities spread over the five R19 classes). Amounts are
arbitrary đồng, not round numbers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.reallocation.optimiser import (  # noqa: E402
    CapitalPool,
    Donor,
    Priority,
    ReallocationOptions,
    Recipient,
    greedy,
    optimise,
)

TY = 1_000_000_000
POOL = CapitalPool("local_balanced", "province", 2024)
PRIORITY_MIX = (
    (Priority.settlement, 0.10),
    (Priority.completed, 0.15),
    (Priority.ongoing_short, 0.40),
    (Priority.key_watch_list, 0.15),
    (Priority.new, 0.20),
)


def generate(seed: int, n_donors: int, n_recipients: int) -> tuple[list[Donor], list[Recipient]]:
    rng = random.Random(seed)
    donors = []
    for i in range(n_donors):
        plan = int(rng.lognormvariate(0, 1.0) * 20 * TY) + rng.randint(0, 999_999)
        spends = rng.random() >= 0.40  # 60% are neutral: forecast at or above plan
        forecast = plan if spends else int(plan * rng.uniform(0.2, 0.95))
        disbursed = int(forecast * rng.uniform(0.3, 0.8))
        in_flight = int(forecast * rng.uniform(0.0, 0.1))
        donors.append(Donor(f"P{i:05d}", POOL, plan, disbursed, in_flight, forecast, rng.random() < 0.05))
    classes, weights = zip(*PRIORITY_MIX, strict=True)
    recipients = []
    for j in range(n_recipients):
        plan = int(rng.lognormvariate(0, 1.0) * 20 * TY)
        need = int(rng.uniform(0.3, 40) * TY) + rng.randint(0, 999_999)
        headroom = int(rng.uniform(0, 60) * TY)
        pace = int(rng.uniform(0, 45) * TY)
        priority = rng.choices(classes, weights)[0]
        recipients.append(Recipient(f"P{n_donors + j:05d}", POOL, plan, need, headroom, pace, priority))
    return donors, recipients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--donors", type=int, default=6_000)
    parser.add_argument("--recipients", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    donors, recipients = generate(args.seed, args.donors, args.recipients)
    options = ReallocationOptions()

    def timed(fn):
        times, result = [], None
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = fn(donors, recipients, options)
            times.append(time.perf_counter() - started)
        return statistics.median(times), result

    opt_time, best = timed(optimise)
    greedy_time, simple = timed(greedy)
    pool = best.pools[0]
    surplus = sum(d.surplus_vnd for d in best.donors)
    capacity = sum(r.capacity_vnd for r in best.recipients if r.excluded is None)
    print(
        f"projects: {len(donors) + len(recipients):,} in one pool ({len(donors):,} donors-or-neutral, "
        f"{len(recipients):,} recipients), min transfer {options.minimum_transfer_vnd:,} đ"
    )
    print(
        f"eligible donors: {sum(1 for d in best.donors if d.excluded is None):,} with "
        f"{surplus / TY:,.1f} tỷ surplus; eligible recipients: "
        f"{sum(1 for r in best.recipients if r.excluded is None):,} with {capacity / TY:,.1f} tỷ capacity"
    )
    print(
        f"optimiser: median {opt_time * 1000:,.0f} ms of {args.repeat} (method {pool.method}); "
        f"greedy: median {greedy_time * 1000:,.0f} ms"
    )
    print(f"moved: optimiser {best.moved_vnd / TY:,.3f} tỷ, greedy {simple.moved_vnd / TY:,.3f} tỷ")
    print(
        f"weighted moved: optimiser {best.weighted_moved_vnd:,}, greedy {simple.weighted_moved_vnd:,}, "
        f"bound {pool.bound_weighted_vnd:,} (optimal: {pool.objective_optimal})"
    )
    print(
        f"transfers: optimiser {best.transfer_count:,}, greedy {simple.transfer_count:,} "
        f"(receivers {sum(1 for r in best.recipients if r.received_vnd):,}, "
        f"givers {sum(1 for d in best.donors if d.given_vnd):,})"
    )
    print(f"expected rate: before {best.expected_rate_before:.2%}, after {best.expected_rate_after:.2%}")


if __name__ == "__main__":
    main()
