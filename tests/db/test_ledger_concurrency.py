"""PostgreSQL: concurrent writers against one pool never break R1, and balances equal the ledger."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger.verify import check_all as verify
from app.models import Disbursement, PoolBalance
from tests.conftest import allocate, disbursement_body, make_project

pytestmark = pytest.mark.postgres


async def test_r1_cap_holds_under_48_concurrent_writers(client, world):
    plan = 10_000_000_000
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], plan)).status_code == 201
    url = f"/api/v1/projects/{project['id']}/disbursements"
    amount = 300_000_000  # 48 × 0.3 tỷ = 14.4 tỷ asked against a 10 tỷ plan

    async def writer(i: int) -> int:
        response = await client.post(url, json=disbursement_body(amount, f"KB-C-{i}"),
                                     headers=world.h("treasury", **{"Idempotency-Key": f"c-{i}"}))
        assert response.status_code in (201, 422), response.text
        if response.status_code == 422:
            assert response.json()["code"] == "plan_cap_exceeded"
        return response.status_code

    statuses = await asyncio.gather(*(writer(i) for i in range(48)))
    accepted = statuses.count(201)
    assert accepted == plan // amount  # exactly as many as fit: 33
    async with session_scope() as session:
        ledger_sum = await session.scalar(select(func.sum(Disbursement.net_vnd)))
        pool = await session.scalar(select(PoolBalance))
        assert ledger_sum == pool.disbursed_vnd == accepted * amount <= plan
        assert await verify(session) == []


async def test_idempotency_key_in_flight_or_replayed_never_duplicates(client, world):
    project = await make_project(client, world)
    await allocate(client, world, project["id"], 10_000_000_000)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    body = disbursement_body(1_000_000_000, "KB-SAME")
    headers = world.h("treasury", **{"Idempotency-Key": "same-key"})
    responses = await asyncio.gather(*(client.post(url, json=body, headers=headers) for _ in range(16)))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {201, 409}
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    for r in responses:
        if r.status_code == 409:
            assert r.json()["code"] in ("idempotency_in_flight", "duplicate_document")
    async with session_scope() as session:
        assert await session.scalar(select(func.count()).select_from(Disbursement)) == 1


async def test_same_document_under_different_keys_at_once_is_one_row_and_409s(client, world):
    project = await make_project(client, world)
    await allocate(client, world, project["id"], 10_000_000_000)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    body = disbursement_body(1_000_000_000, "KB-RACE")
    responses = await asyncio.gather(*(
        client.post(url, json=body, headers=world.h("treasury", **{"Idempotency-Key": f"race-{i}"}))
        for i in range(12)))
    assert sorted({r.status_code for r in responses}) in ([201, 409], [201])
    assert [r.status_code for r in responses].count(201) == 1
    assert all(r.json()["code"] == "duplicate_document" for r in responses if r.status_code == 409)
