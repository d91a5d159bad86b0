"""PostgreSQL: R15a reconciliation cannot race (docs/rules.md, "Reconciliation"). Each scenario runs 20 times through
the API; every run must count the money once and leave `verify` clean.

The superseding reversal is decided under the project lock every ledger writer takes first
(`app.ledger.confirmations`), so an owner's report, its withdrawal and the Treasury's entry serialise.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger.verify import check_all
from app.models import Disbursement
from tests.api.test_ledger_regressions import _project
from tests.conftest import disbursement_body

pytestmark = pytest.mark.postgres
RUNS = 20
B = 1_000_000_000


def _record(client, world, project, role, amount, doc, **extra):
    return client.post(f"/api/v1/projects/{project['id']}/disbursements",
                       json=disbursement_body(amount, doc, **extra), headers=world.h(role))


async def _disbursed(project_id: int) -> tuple[int, int]:
    """(net disbursed, of which confirmed) from the ledger rows."""
    async with session_scope() as session:
        net = await session.scalar(select(func.coalesce(func.sum(Disbursement.net_vnd), 0))
                                   .where(Disbursement.project_id == project_id))
        confirmed = await session.scalar(select(func.coalesce(func.sum(Disbursement.net_vnd), 0))
                                         .where(Disbursement.project_id == project_id,
                                                Disbursement.origin == "treasury"))
        assert await check_all(session) == []
    return int(net), int(confirmed)


@pytest.mark.parametrize("run", range(RUNS))
async def test_r15a_owner_withdrawing_its_report_while_the_treasury_confirms_it_counts_once(client, world, run):
    project = await _project(client, world)
    report = await _record(client, world, project, "owner", 3 * B, "GDN-1")
    assert report.status_code == 201, report.text
    withdraw = client.post(f"/api/v1/disbursements/{report.json()['id']}/reversal", headers=world.h("owner"),
                           json={"document_number": "RUT-1", "value_date": "2024-06-12", "note": "rút"})
    confirm = _record(client, world, project, "treasury", 2 * B, "KB-1", owner_document_number="GDN-1")
    withdrawn, confirmed = await asyncio.gather(withdraw, confirm)
    assert confirmed.status_code == 201, confirmed.text
    assert withdrawn.status_code in (201, 409), withdrawn.text
    if withdrawn.status_code == 409:
        assert withdrawn.json()["code"] == "already_reversed"
    async with session_scope() as session:
        reversals = await session.scalar(select(func.count()).select_from(Disbursement)
                                         .where(Disbursement.reverses_id == report.json()["id"]))
    assert reversals == 1
    assert await _disbursed(project["id"]) == (2 * B, 2 * B)


@pytest.mark.parametrize("run", range(RUNS))
async def test_r15a_owner_reporting_while_the_treasury_records_the_same_document_counts_once(client, world, run):
    project = await _project(client, world)
    reported, confirmed = await asyncio.gather(
        _record(client, world, project, "owner", 3 * B, "GDN-1"),
        _record(client, world, project, "treasury", 2 * B, "KB-1", owner_document_number="GDN-1"))
    assert confirmed.status_code == 201, confirmed.text
    assert reported.status_code in (201, 409), reported.text
    if reported.status_code == 409:
        assert reported.json()["code"] == "recorded_by_treasury"
    assert await _disbursed(project["id"]) == (2 * B, 2 * B)


@pytest.mark.parametrize("run", range(RUNS))
async def test_r15a_two_treasury_entries_naming_one_owner_document_exactly_one_wins(client, world, run):
    project = await _project(client, world)
    assert (await _record(client, world, project, "owner", 3 * B, "GDN-1")).status_code == 201
    batch = client.post("/api/v1/disbursements/batch", headers=world.h("treasury"), json={"rows": [
        {**disbursement_body(1 * B, "KB-0"), "project_id": project["id"]},
        {**disbursement_body(3 * B, "KB-2", owner_document_number="GDN-1"), "project_id": project["id"]}]})
    first, second = await asyncio.gather(
        _record(client, world, project, "treasury", 3 * B, "KB-1", owner_document_number="GDN-1"), batch)
    assert sorted((first.status_code, second.status_code)) == [201, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "owner_document_confirmed", loser.text
    assert (await _disbursed(project["id"]))[0] in (3 * B, 4 * B)
