"""PostgreSQL: workflows cannot race. Each scenario runs 20 times; every run must end with exactly one winner.

Every If-Match update and state transition locks its row and compares the version under the lock
(`app.kernel.db.lock_row`); TMĐT changes take the posting pipeline's first lock (R2).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger.verify import check_all
from app.models import AllocationEntry, Project
from tests.api.test_reallocation_api import APPROVAL, _draft, _pools, _step
from tests.conftest import allocate, make_project

pytestmark = pytest.mark.postgres
RUNS = 20
B = 1_000_000_000


async def _approved(client, world):
    await _pools(client, world)
    p, etag = await _draft(client, world)
    sub = await _step(client, world, p["id"], "submit", etag, "planner")
    appr = await _step(client, world, p["id"], "approve", sub.headers["ETag"], "approver", APPROVAL)
    assert appr.status_code == 200, appr.text
    return p, appr.headers["ETag"]


@pytest.mark.parametrize("run", range(RUNS))
async def test_r19_apply_and_reject_together_exactly_one_wins(client, world, run):
    p, etag = await _approved(client, world)
    applied, rejected = await asyncio.gather(
        _step(client, world, p["id"], "apply", etag, "planner"),
        _step(client, world, p["id"], "reject", etag, "approver", {"reason": "Không đủ căn cứ"}))
    assert sorted((applied.status_code, rejected.status_code)) in ([200, 409], [200, 412]), (applied.text,
                                                                                             rejected.text)
    final = (await client.get(f"/api/v1/reallocation-proposals/{p['id']}", headers=world.h("viewer"))).json()
    async with session_scope() as session:
        entries = await session.scalar(select(func.count()).select_from(AllocationEntry)
                                       .where(AllocationEntry.reallocation_proposal_id == p["id"]))
        assert (final["status"] == "applied") == (entries > 0) and (final["status"] == "rejected") == (entries == 0)
        assert await check_all(session) == []


@pytest.mark.parametrize("run", range(RUNS))
async def test_r19_approve_and_reject_together_exactly_one_wins(client, world, run):
    await _pools(client, world)
    p, etag = await _draft(client, world)
    sub = await _step(client, world, p["id"], "submit", etag, "planner")
    approved, rejected = await asyncio.gather(
        _step(client, world, p["id"], "approve", sub.headers["ETag"], "approver", APPROVAL),
        _step(client, world, p["id"], "reject", sub.headers["ETag"], "approver2", {"reason": "Chưa đủ căn cứ"}))
    assert sorted((approved.status_code, rejected.status_code)) in ([200, 409], [200, 412])


@pytest.mark.parametrize("run", range(RUNS))
async def test_r2_tmdt_cut_racing_a_supplement_keeps_the_plan_within_tmdt(client, world, run):
    project = await make_project(client, world, tmdt=10 * B)
    assert (await allocate(client, world, project["id"], 5 * B)).status_code == 201
    got = await client.get(f"/api/v1/projects/{project['id']}", headers=world.h("planner"))
    cut = client.patch(f"/api/v1/projects/{project['id']}", json={"total_investment_vnd": 6 * B},
                       headers=world.h("planner", **{"If-Match": got.headers["ETag"]}))
    supplement = allocate(client, world, project["id"], 5 * B, kind="supplement", decision="02/QĐ-UBND")
    cut_response, supplement_response = await asyncio.gather(cut, supplement)
    assert {cut_response.status_code, supplement_response.status_code} <= {200, 201, 422}
    async with session_scope() as session:
        tmdt = await session.scalar(select(Project.total_investment_vnd).where(Project.id == project["id"]))
        planned = await session.scalar(select(func.sum(AllocationEntry.amount_vnd))
                                       .where(AllocationEntry.project_id == project["id"]))
        assert planned <= tmdt, (cut_response.text, supplement_response.text)
        assert await check_all(session) == []


@pytest.mark.parametrize("run", range(RUNS))
async def test_ten_patches_with_one_etag_exactly_one_wins(client, world, run):
    project = await make_project(client, world)
    created = await client.post(f"/api/v1/projects/{project['id']}/obstacles", headers=world.h("owner"),
                                json={"category": "procedures", "title": "Chậm thẩm định"})
    oid, etag = created.json()["id"], created.headers["ETag"]
    responses = await asyncio.gather(*(
        client.patch(f"/api/v1/obstacles/{oid}", json={"title": f"Chậm thẩm định {i}"},
                     headers=world.h("owner", **{"If-Match": etag})) for i in range(10)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [412] * 9, codes
