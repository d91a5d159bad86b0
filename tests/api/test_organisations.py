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


async def test_a_missing_successor_is_an_unknown_reference_not_a_missing_url(client, world):
    # Live Schemathesis (ST302): a 404 here read as "the organisation just created is gone". 404 is kept for the
    # URL's own resource; a body that names nothing is 422 with the field's pointer.
    body = {"successor_id": 9_000_000_000, "effective_on": "2024-07-01"}
    missing_successor = await client.post(f"/api/v1/organisations/{world.investor_id}/succession", json=body,
                                          headers=world.h("admin"))
    assert missing_successor.status_code == 422, missing_successor.text
    problem = missing_successor.json()
    assert problem["code"] == "reference_not_found" and problem["resource"] == "organisation"
    assert problem["errors"][0]["pointer"] == "/successor_id"
    body["successor_id"] = world.investor_id
    missing_url = await client.post("/api/v1/organisations/9000000000/succession", json=body, headers=world.h("admin"))
    assert missing_url.status_code == 404 and missing_url.json()["code"] == "organisation_not_found"
    orphan = await client.post("/api/v1/organisations", headers=world.h("admin"), json={
        "code": "X-1", "name": "x", "kind": "other", "valid_from": "2024-01-01", "parent_id": 9_000_000_000})
    assert orphan.status_code == 422 and orphan.json()["code"] == "reference_not_found", orphan.text
