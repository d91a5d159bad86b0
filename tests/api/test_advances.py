"""Treasury actions on one advance: misuse marking (R9) and money held for disputing owners (R10)."""

from __future__ import annotations

from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"
OVERDUE = "/api/v1/treasury/overdue-advances"


async def _advances(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 50_000_000_000)).status_code == 201
    body = {"number": "07/2024/HĐ", "contract_type": "construction", "contractor": "Công ty B",
            "value_vnd": 2_000_000_000, "signed_on": "2024-02-01", "full_recovery_date": "2025-12-31"}
    contract = (await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body,
                                  headers=world.h("owner"))).json()
    url = f"/api/v1/projects/{project['id']}/disbursements"
    for amount, doc, extra in (
        (400_000_000, "A-C", {"kind": "advance", "contract_id": contract["id"], "value_date": "2024-03-01"}),
        (300_000_000, "A-G", {"kind": "advance", "advance_kind": "site_clearance", "value_date": "2024-06-05"}),
    ):
        response = await client.post(url, json=disbursement_body(amount, doc, **extra), headers=world.h("treasury"))
        assert response.status_code == 201, response.text
    items = (await client.get(OVERDUE, headers=world.h("treasury"))).json()["items"]
    site_clearance = next(i for i in items if i["kind"] == "site_clearance")
    ids = {}
    for advance_id in range(1, 3):
        data = (await client.get(f"/api/v1/advances/{advance_id}", headers=world.h("treasury"))).json()
        ids[data["kind"]] = data
    assert ids["site_clearance"]["id"] == site_clearance["advance_id"]
    return ids["contract"], ids["site_clearance"]


async def test_r9_misuse_marking_makes_a_current_advance_overdue(client, world):
    contract_advance, _ = await _advances(client, world)
    assert contract_advance["status"] == "current"  # full recovery due 31/12/2025
    url = f"/api/v1/advances/{contract_advance['id']}/misuse"
    future = await client.post(url, json={"marked_on": "2024-10-12", "document_number": "KB-01/TB"},
                               headers=world.h("treasury"))
    assert future.status_code == 422 and future.json()["code"] == "marked_on_in_future"
    marked = await client.post(url, json={"marked_on": "2024-10-01", "document_number": "KB-01/TB"},
                               headers=world.h("treasury"))
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "overdue" and marked.json()["overdue_vnd"] == 400_000_000
    listed = (await client.get(OVERDUE, params={"rule": "R9"}, headers=world.h("treasury"))).json()["items"]
    assert [i["advance_id"] for i in listed] == [contract_advance["id"]]
    again = await client.post(url, json={"marked_on": "2024-10-02", "document_number": "KB-02/TB"},
                              headers=world.h("treasury"))
    assert again.status_code == 409 and again.json()["code"] == "already_marked_misuse"
    owner = await client.post(url, json={"marked_on": "2024-10-01", "document_number": "X"}, headers=world.h("owner"))
    assert owner.status_code == 403 and owner.headers["content-type"] == PROBLEM


async def test_r10_money_held_for_disputing_owners_is_not_overdue(client, world):
    contract_advance, gpmb = await _advances(client, world)
    assert gpmb["status"] == "overdue" and gpmb["overdue_vnd"] == 300_000_000
    url = f"/api/v1/advances/{gpmb['id']}/held-for-disputes"
    too_much = await client.put(url, json={"amount_vnd": 300_000_001, "document_number": "BB-01"},
                                headers=world.h("treasury"))
    assert too_much.status_code == 422 and too_much.json()["allowed_max_vnd"] == 300_000_000
    held = await client.put(url, json={"amount_vnd": 120_000_000, "document_number": "BB-01"},
                            headers=world.h("treasury"))
    assert held.status_code == 200 and held.json()["overdue_vnd"] == 180_000_000
    not_gpmb = await client.put(f"/api/v1/advances/{contract_advance['id']}/held-for-disputes",
                                json={"amount_vnd": 1, "document_number": "BB-02"}, headers=world.h("treasury"))
    assert not_gpmb.status_code == 422 and not_gpmb.json()["code"] == "not_site_clearance"
    missing = await client.get("/api/v1/advances/999", headers=world.h("treasury"))
    assert missing.status_code == 404 and missing.json()["code"] == "advance_not_found"


async def test_r11_an_other_advance_extended_by_decision_is_not_overdue_until_the_new_date(client, world):
    """By hand: an `other` advance of 01/03/2024 under nd99 (6 months) is overdue from 02/09/2024; on 11/10/2024 an
    extension to 31/12/2024 makes it current again (81 days left, beyond the 30-day due-soon window)."""
    contract_advance, gpmb = await _advances(client, world)
    project_id = contract_advance["project_id"]
    response = await client.post(f"/api/v1/projects/{project_id}/disbursements", headers=world.h("treasury"),
                                 json=disbursement_body(200_000_000, "A-O", kind="advance", value_date="2024-03-01"))
    assert response.status_code == 201, response.text
    other = next(i for i in (await client.get(OVERDUE, params={"rule": "R11"}, headers=world.h("treasury"))).json()
                 ["items"])
    url = f"/api/v1/advances/{other['advance_id']}/extension"
    body = {"extended_until": "2024-12-31", "decision_number": "88/QĐ-UBND", "decided_on": "2024-10-10"}
    owner = await client.post(url, json=body, headers=world.h("owner"))
    assert owner.status_code == 403
    extended = await client.post(url, json=body, headers=world.h("treasury"))
    assert extended.status_code == 200, extended.text
    data = extended.json()
    assert (data["status"], data["overdue_date"], data["extension_decision_number"]) == \
        ("current", "2024-12-31", "88/QĐ-UBND")
    assert not (await client.get(OVERDUE, params={"rule": "R11"}, headers=world.h("treasury"))).json()["items"]
    shorter = await client.post(url, json={**body, "extended_until": "2024-12-30"}, headers=world.h("treasury"))
    assert shorter.status_code == 422 and shorter.json()["code"] == "extension_not_later"
    for advance in (contract_advance, gpmb):
        refused = await client.post(f"/api/v1/advances/{advance['id']}/extension", json=body,
                                    headers=world.h("treasury"))
        assert refused.status_code == 422 and refused.json()["code"] == "not_other_advance"
    feed = (await client.get("/api/v1/events", params={"types": "advance.extended"},
                             headers=world.h("treasury"))).json()
    assert [e["payload"]["extended_until"] for e in feed["items"]] == ["2024-12-31"]
