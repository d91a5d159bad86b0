"""Batch import at bulk speed (issue 13): a large batch goes through the same posting pipeline as one row.

On PostgreSQL a batch of `writes.COPY_FROM_ROWS` rows or more is written by COPY; these tests hold it to the rules
(docs/rules.md R1, R7, R13 and the all-or-nothing batch) and to the books: a batch leaves exactly the ledger, balances
and advances that posting its rows one by one leaves, and `verify` finds nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger import writes
from app.ledger.verify import check_all as verify
from app.models import Advance, Disbursement, Event, PoolBalance, ProjectBalance
from tests.conftest import allocate, disbursement_body, make_project

BATCH = "/api/v1/disbursements/batch"


async def _projects(client, world, prefix: str, n: int, plan: int = 10_000_000_000) -> list[int]:
    ids = []
    for i in range(n):
        project = await make_project(client, world, code=f"{prefix}-{i:03d}")
        assert (await allocate(client, world, project["id"], plan)).status_code == 201
        ids.append(project["id"])
    return ids


def _rows(project_ids: list[int], count: int) -> list[dict]:
    """Round-robin over the projects: an advance every tenth row of a project, payments recovering it (R7, R13)."""
    rows = []
    for i in range(count):
        project, j = project_ids[i % len(project_ids)], i // len(project_ids)
        day = (date(2024, 3, 1) + timedelta(days=j // 4)).isoformat()
        if j % 10 == 0:
            body = disbursement_body(5_000_000, f"D-{j}", kind="advance", value_date=day)
        else:
            body = disbursement_body(1_000_000, f"D-{j}", value_date=day,
                                     advance_recovered_vnd=500_000 if j % 10 in (3, 6, 9) else 0)
        rows.append({**body, "project_id": project})
    return rows


async def _books(project_ids: list[int]) -> list:
    """Everything the postings stored for these projects, positionally (ids and timestamps left out)."""
    async with session_scope() as session:
        out = []
        for position, pid in enumerate(project_ids):
            ledger = (await session.execute(
                select(Disbursement.plan_year, Disbursement.kind, Disbursement.amount_vnd,
                       Disbursement.advance_recovered_vnd, Disbursement.net_vnd, Disbursement.value_date,
                       Disbursement.document_number, Disbursement.source, Disbursement.origin,
                       Disbursement.budget_holder_id)
                .where(Disbursement.project_id == pid).order_by(Disbursement.id))).all()
            pools = (await session.execute(
                select(PoolBalance.plan_year, PoolBalance.capital_source, PoolBalance.plan_vnd,
                       PoolBalance.disbursed_vnd, PoolBalance.advanced_vnd, PoolBalance.advance_recovered_vnd,
                       PoolBalance.paid_vnd, PoolBalance.late_disbursed_vnd, PoolBalance.last_value_date)
                .where(PoolBalance.project_id == pid).order_by(PoolBalance.id))).all()
            balance = (await session.execute(
                select(ProjectBalance.planned_total_vnd, ProjectBalance.disbursed_total_vnd,
                       ProjectBalance.advance_outstanding_vnd).where(ProjectBalance.project_id == pid))).one()
            advances = (await session.execute(
                select(Advance.kind, Advance.advanced_on, Advance.amount_vnd, Advance.recovered_vnd,
                       Advance.outstanding_vnd).where(Advance.project_id == pid).order_by(Advance.id))).all()
            # A batch moves an advance once (its final FIFO figures), one by one moves it per recovery: the
            # disbursements' own events are the ones to match.
            events = [(e.type, {k: v for k, v in e.payload.items() if k not in ("id", "project_id")})
                      for e in await session.scalars(select(Event).where(
                          Event.project_id == pid, Event.entity_type == "disbursement").order_by(Event.id))]
            out.append((position, ledger, pools, balance, advances, events))
        return out


async def test_batch_of_2000_leaves_the_books_of_posting_its_rows_one_by_one(client, world):
    """R1, R7, R13: one 2,000-row batch (COPY on PostgreSQL) and the same rows posted one at a time leave the same
    ledger, pool and project balances, advances (FIFO recoveries) and disbursement events; `verify` finds nothing."""
    assert writes.COPY_FROM_ROWS <= 2000
    batched, single = await _projects(client, world, "BATCH", 4), await _projects(client, world, "SINGLE", 4)
    response = await client.post(BATCH, json={"rows": _rows(batched, 2000)}, headers=world.h("treasury"))
    assert response.status_code == 201, response.text[:500]
    assert response.json()["created"] == 2000
    for row in _rows(single, 2000):
        project_id = row.pop("project_id")
        one = await client.post(f"/api/v1/projects/{project_id}/disbursements", json=row, headers=world.h("treasury"))
        assert one.status_code == 201, one.text
    books_batched, books_single = await _books(batched), await _books(single)
    assert [len(b[1]) for b in books_batched] == [500] * 4
    assert books_batched == books_single
    async with session_scope() as session:
        assert await verify(session) == []


async def test_a_failing_row_in_the_middle_rejects_the_whole_batch_with_each_rows_code(client, world):
    """All or nothing: rows 150 (R1 plan cap), 151 (a document already in the batch) and 200 (R7 recovery beyond
    what is outstanding) fail in a 300-row batch; every row is refused with the code a single posting gives, and
    nothing — no row, event, advance or balance — is written."""
    [pid] = await _projects(client, world, "MID", 1, plan=2_000_000_000)
    rows = _rows([pid], 300)
    rows[150]["amount_vnd"] = 5_000_000_000
    rows[151]["document_number"] = rows[10]["document_number"]
    rows[200] = {**rows[200], "kind": "payment", "amount_vnd": 900_000_000, "advance_recovered_vnd": 800_000_000}
    rows[200].pop("advance_kind", None)
    before = await _books([pid])
    bad = await client.post(BATCH, json={"rows": rows}, headers=world.h("treasury"))
    assert bad.status_code == 422 and bad.json()["code"] == "batch_rejected", bad.text[:500]
    errors = [(e["index"], e["code"], e["pointer"]) for e in bad.json()["errors"]]
    assert errors == [(150, "plan_cap_exceeded", "/rows/150/amount_vnd"),
                      (151, "duplicate_document", "/rows/151/document_number"),
                      (200, "recovery_exceeds_outstanding", "/rows/200/advance_recovered_vnd")]
    assert await _books([pid]) == before
    async with session_scope() as session:
        assert await session.scalar(select(func.count()).select_from(Disbursement)) == 0
    # The same rules answer a single posting of each refused row (nothing else recorded yet).
    url = f"/api/v1/projects/{pid}/disbursements"
    alone = {k: v for k, v in rows[150].items() if k != "project_id"}
    assert (await client.post(url, json=alone, headers=world.h("treasury"))).json()["code"] == "plan_cap_exceeded"
    alone = {k: v for k, v in rows[200].items() if k != "project_id"}
    assert (await client.post(url, json=alone, headers=world.h("treasury"))).json()["code"] == \
        "recovery_exceeds_outstanding"
    # Without the refused rows the batch goes through, by the bulk path, and the books verify.
    good = [r for i, r in enumerate(rows) if i not in (150, 151, 200)]
    ok = await client.post(BATCH, json={"rows": good}, headers=world.h("treasury"))
    assert ok.status_code == 201 and ok.json()["created"] == 297
    async with session_scope() as session:
        assert await verify(session) == []
