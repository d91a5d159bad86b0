"""PostgreSQL: 64 concurrent clients posting disbursements, each retrying its Idempotency-Key at random."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger.verify import check_all as verify
from app.models import Disbursement, PoolBalance
from tests.conftest import allocate, disbursement_body, make_project

pytestmark = pytest.mark.postgres

CLIENTS = 64
PLAN = 10_000_000_000
AMOUNT = 300_000_000  # 64 × 0.3 tỷ = 19.2 tỷ asked against a 10 tỷ plan: exactly 33 fit


async def test_64_clients_with_random_retries_no_duplicate_no_lost_write_caps_hold(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], PLAN)).status_code == 201
    url = f"/api/v1/projects/{project['id']}/disbursements"
    rng = random.Random(20241011)
    plans = [
        (f"storm-{i}", f"KB-S-{i}", rng.randint(1, 4), [rng.random() * 0.05 for _ in range(4)])
        for i in range(CLIENTS)
    ]

    async def one_client(
        key: str, document: str, attempts: int, delays: list[float]
    ) -> tuple[str, list, object]:
        body = disbursement_body(AMOUNT, document)
        headers = world.h("treasury", **{"Idempotency-Key": key})

        async def attempt(delay: float):
            await asyncio.sleep(delay)
            return await client.post(url, json=body, headers=headers)

        responses = await asyncio.gather(
            *(attempt(delays[j]) for j in range(attempts))
        )  # overlapping retries
        final = await client.post(url, json=body, headers=headers)  # a last retry once all have answered
        return key, list(responses), final

    results = await asyncio.gather(*(one_client(*plan) for plan in plans))
    acknowledged: dict[str, int] = {}
    statuses: dict[int, int] = {}
    for key, responses, final in results:
        for response in [*responses, final]:
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code in (201, 409, 422), response.text
            if response.status_code == 409:
                assert response.json()["code"] == "idempotency_in_flight"
            if response.status_code == 422:
                assert response.json()["code"] == "plan_cap_exceeded"
        ids = {r.json()["id"] for r in [*responses, final] if r.status_code == 201}
        assert len(ids) <= 1, f"{key} was acknowledged as two disbursements: {ids}"
        assert final.status_code in (201, 422), final.text  # nothing is left in flight
        if ids:
            acknowledged[key] = ids.pop()
            assert final.status_code == 201 and final.json()["id"] == acknowledged[key]
    async with session_scope() as session:
        rows = list((await session.scalars(select(Disbursement))).all())
        pool = await session.scalar(select(PoolBalance))
        documents = [r.document_number for r in rows]
        assert sorted(r.id for r in rows) == sorted(acknowledged.values()), (
            "a lost or an unacknowledged write"
        )
        assert len(documents) == len(set(documents))
        assert len(rows) == PLAN // AMOUNT
        assert pool.disbursed_vnd == sum(r.net_vnd for r in rows) == len(rows) * AMOUNT <= PLAN
        assert await session.scalar(select(func.count()).select_from(Disbursement)) == len(acknowledged)
        assert await verify(session) == []
    print(
        f"\nidempotency storm: {CLIENTS} clients, {sum(statuses.values())} requests, statuses {statuses}, "
        f"{len(acknowledged)} disbursements"
    )
