"""The simulator as a test: a sequential run on the suite's database, a concurrent one on PostgreSQL.

SIM_SEED (fixed by default), SIM_STEPS (2000), SIM_CONCURRENT_STEPS (2000 operations, 4 clients) and
SIM_SHRINK_SECONDS (120) tune it; `pytest -s` shows the one-line summary with steps/s. A failure's message
carries the seed, the step, the check and the shortest step list found (see tests/simulation/simulator.py).
"""

from __future__ import annotations

import os

import pytest

from tests.simulation.simulator import simulate

SEED = int(os.environ.get("SIM_SEED", "20241011"))
SHRINK_SECONDS = float(os.environ.get("SIM_SHRINK_SECONDS", "120"))


async def test_simulation_sequential_keeps_every_invariant():
    report = await simulate(SEED, int(os.environ.get("SIM_STEPS", "2000")), shrink_seconds=SHRINK_SECONDS)
    assert not report.failures, report.text


@pytest.mark.postgres
async def test_simulation_four_concurrent_clients_keep_every_invariant():
    report = await simulate(SEED + 1, int(os.environ.get("SIM_CONCURRENT_STEPS", "2000")), clients=4,
                            shrink_seconds=SHRINK_SECONDS)
    assert not report.failures, report.text
