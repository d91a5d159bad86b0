"""Organisations change (DOMAIN.md §5): succession links, validity dates, and the successor's scope."""

from __future__ import annotations

from tests.conftest import allocate, disbursement_body, make_project


async def test_successor_takes_over_predecessor_projects(client, world):
    # The "other" investor is merged into the owner's investor on 2025-07-01.
    project = await make_project(client, world, code="VP-OLD", investor_id=world.other_investor_id)
    await allocate(client, world, project["id"], 1_000_000_000)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    before = await client.post(url, json=disbursement_body(1_000_000, "M-1"), headers=world.h("owner"))
    assert before.status_code == 403
    link = await client.post(f"/api/v1/organisations/{world.other_investor_id}/succession",
                             json={"successor_id": world.investor_id, "effective_on": "2024-07-01",
                                   "decision_ref": "1211/NQ-UBTVQH15"}, headers=world.h("admin"))
    assert link.status_code == 201, link.text
    assert link.json()["successor_ids"] == [world.investor_id]
    assert link.json()["valid_to"] == "2024-07-01"
    after = await client.post(url, json=disbursement_body(1_000_000, "M-2"), headers=world.h("owner"))
    assert after.status_code == 201
    detail = await client.get(f"/api/v1/organisations/{world.investor_id}", headers=world.h("viewer"))
    assert detail.json()["predecessor_ids"] == [world.other_investor_id]


async def test_succession_cannot_loop(client, world):
    first = await client.post(f"/api/v1/organisations/{world.other_investor_id}/succession",
                              json={"successor_id": world.investor_id, "effective_on": "2024-07-01"},
                              headers=world.h("admin"))
    assert first.status_code == 201
    loop = await client.post(f"/api/v1/organisations/{world.investor_id}/succession",
                             json={"successor_id": world.other_investor_id, "effective_on": "2024-08-01"},
                             headers=world.h("admin"))
    assert loop.status_code == 409 and loop.json()["code"] == "succession_cycle"
    planner = await client.post(f"/api/v1/organisations/{world.investor_id}/succession",
                                json={"successor_id": world.province_id, "effective_on": "2024-08-01"},
                                headers=world.h("planner"))
    assert planner.status_code == 403
