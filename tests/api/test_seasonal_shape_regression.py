"""R17/R18 regression (found by the simulator, seed 20241011): a previous year whose disbursements were all reversed
has no shape; the milestone curve falls back to the national one instead of failing every read with a 500."""

from __future__ import annotations

from datetime import date

from tests.conftest import allocate, make_project

B = 1_000_000_000


async def test_a_previous_year_that_disbursed_nothing_in_the_end_lends_no_shape(client, world, set_today):
    pid = (await make_project(client, world))["id"]
    assert (await allocate(client, world, pid, 10 * B, year=2023, decided="2023-01-05")).status_code == 201
    assert (await allocate(client, world, pid, 10 * B)).status_code == 201
    set_today(date(2024, 1, 20))
    paid = await client.post(f"/api/v1/projects/{pid}/disbursements", headers=world.h("treasury"), json={
        "plan_year": 2023, "capital_source": "local_balanced", "budget_level": "province", "kind": "payment",
        "amount_vnd": 1 * B, "value_date": "2024-01-10", "document_number": "KB-2023-1"})
    assert paid.status_code == 201, paid.text
    reversed_ = await client.post(f"/api/v1/disbursements/{paid.json()['id']}/reversal", headers=world.h("treasury"),
                                  json={"document_number": "KB-2023-1-R", "value_date": "2024-01-15", "note": "sai"})
    assert reversed_.status_code == 201, reversed_.text
    set_today(date(2024, 10, 11))
    # 2023: plan 10, net disbursed 0 with a January 2024 row → no shape; 2024's indicators still answer
    response = await client.get(f"/api/v1/projects/{pid}/indicators", params={"plan_year": 2024},
                                headers=world.h("viewer"))
    assert response.status_code == 200, response.text
    assert response.json()["milestone_target_pct"] > 0
