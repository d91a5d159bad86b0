"""PostgreSQL: concurrent allocations of one project, in different pools (years 2023 and 2024) of one source, share
one medium-term ceiling (R1c): the project lock makes them take the headroom one at a time, never twice."""

from __future__ import annotations

import asyncio

import pytest

from app.kernel.db import session_scope
from app.ledger.verify import check_all as verify
from tests.conftest import allocate, make_project, plan_medium_term

pytestmark = pytest.mark.postgres
B = 1_000_000_000


async def test_r1c_ceiling_holds_under_concurrent_allocations_and_a_concurrent_cut(client, world):
    pid = (await make_project(client, world, tmdt=10_000 * B))["id"]
    assert (await plan_medium_term(client, world, pid, 100 * B, decision="31/NQ-HĐND")).status_code == 201
    # 20 writers ask 10 tỷ each, alternating plan years 2023 and 2024 (two pools), against a ceiling of 100;
    # a 45 tỷ cut of the ceiling races with them.

    async def writer(i: int) -> int:
        year = 2023 if i % 2 else 2024
        response = await allocate(client, world, pid, 10 * B, year=year, decision=f"{i}/QĐ-UBND",
                                  decided=f"{year}-01-05", medium_term=False)
        assert response.status_code in (201, 422), response.text
        if response.status_code == 422:
            assert response.json()["code"] == "medium_term_ceiling_exceeded"
        return response.status_code

    async def cut() -> int:
        response = await plan_medium_term(client, world, pid, 45 * B, kind="adjustment_out", decision="45/NQ-HĐND",
                                          decided="2024-07-10")
        assert response.status_code in (201, 422), response.text
        return response.status_code

    *statuses, cut_status = await asyncio.gather(*(writer(i) for i in range(20)), cut())
    accepted = statuses.count(201)
    # The cut passes only while the annual plans are ≤ 55 (its headroom ≥ 45); the ceiling is then 55 and the
    # writers stop at 5 × 10 = 50. Refused, the ceiling stays 100 and exactly 10 fit.
    assert accepted == (5 if cut_status == 201 else 10)
    plan = (await client.get(f"/api/v1/projects/{pid}/medium-term-plans", headers=world.h("viewer"))).json()
    [ceiling] = plan["ceilings"]
    assert ceiling["annual_plans_vnd"] == accepted * 10 * B <= ceiling["ceiling_vnd"]
    async with session_scope() as session:
        assert await verify(session) == []
