"""R1a: capital advanced from next year's plan (ứng trước) raises this year's cap and is repaid first from the
next year's new capital, by an entry the service records in the same call (docs/rules.md R1a)."""

from __future__ import annotations

from app.kernel.db import session_scope
from app.ledger.verify import check_all as verify
from tests.conftest import allocate, disbursement_body, make_project

B = 1_000_000_000


async def _pay(client, world, project_id, amount, doc, day, year):
    return await client.post(f"/api/v1/projects/{project_id}/disbursements", headers=world.h("treasury"),
                             json=disbursement_body(amount, doc, value_date=day, year=year))


async def _plan(client, world, project_id, year) -> int:
    balances = (await client.get(f"/api/v1/projects/{project_id}/balances", headers=world.h("viewer"))).json()
    return sum(p["plan_vnd"] for p in balances["pools"] if p["plan_year"] == year)


async def test_r1a_advance_raises_this_year_and_is_repaid_first_from_next_year(client, world):
    p = (await make_project(client, world))["id"]
    assert (await allocate(client, world, p, 10 * B, year=2023, decided="2023-01-05")).status_code == 201
    advance = await allocate(client, world, p, 3 * B, year=2023, kind="next_year_advance",
                             decision="950/QĐ-UBND", decided="2023-11-20")
    assert advance.status_code == 201, advance.text
    assert await _plan(client, world, p, 2023) == 13 * B  # 10 + 3 advanced from 2024's plan

    # R1 with R1a: 13 tỷ can be disbursed in 2023, not one đồng more.
    assert (await _pay(client, world, p, 13 * B, "KB-23-1", "2023-12-10", 2023)).status_code == 201
    over = await _pay(client, world, p, 1, "KB-23-2", "2023-12-11", 2023)
    assert over.status_code == 422 and over.json()["code"] == "plan_cap_exceeded"

    # 2024: the first 2 tỷ all repay the advance (plan 0); the next 5 tỷ repay the last 1 tỷ (plan 4 tỷ).
    first = await allocate(client, world, p, 2 * B, decision="45/QĐ-UBND")
    assert first.status_code == 201 and first.json()["kind"] == "initial" and first.json()["amount_vnd"] == 2 * B
    assert await _plan(client, world, p, 2024) == 0
    assert (await allocate(client, world, p, 5 * B, kind="supplement", decision="1200/QĐ-UBND",
                           decided="2024-06-01")).status_code == 201
    assert await _plan(client, world, p, 2024) == 4 * B
    entries = (await client.get(f"/api/v1/projects/{p}/allocations", params={"plan_year": 2024},
                                headers=world.h("viewer"))).json()["items"]
    assert [(e["kind"], e["amount_vnd"], e["decision_number"]) for e in entries] == [
        ("initial", 2 * B, "45/QĐ-UBND"), ("advance_repayment", -2 * B, "45/QĐ-UBND"),
        ("supplement", 5 * B, "1200/QĐ-UBND"), ("advance_repayment", -1 * B, "1200/QĐ-UBND")]

    # Fully repaid: a later supplement is all new capital.
    assert (await allocate(client, world, p, 1 * B, kind="supplement", decision="1500/QĐ-UBND",
                           decided="2024-07-01")).status_code == 201
    assert await _plan(client, world, p, 2024) == 5 * B
    assert (await _pay(client, world, p, 5 * B, "KB-24-1", "2024-08-01", 2024)).status_code == 201
    refused = await _pay(client, world, p, 1, "KB-24-2", "2024-08-02", 2024)
    assert refused.status_code == 422 and refused.json()["remaining_vnd"] == 0
    async with session_scope() as session:
        assert await verify(session) == []


async def test_r1a_a_client_cannot_send_a_repayment(client, world):
    p = (await make_project(client, world))["id"]
    sent = await allocate(client, world, p, 1 * B, kind="advance_repayment")
    assert sent.status_code == 422, sent.text
    problem = sent.json()
    assert problem["code"] == "generated_kind" and "advance_repayment" not in problem["allowed"]
    assert (await client.get(f"/api/v1/projects/{p}/allocations", headers=world.h("viewer"))).json()["items"] == []
