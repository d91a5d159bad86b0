"""Contracts and the contract checks in the disbursement write path (R3–R8)."""

from __future__ import annotations

from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"


async def _setup(client, world, value=10_000_000_000, **fields):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 50_000_000_000)).status_code == 201
    body = {"number": "01/2024/HĐ", "contract_type": "construction", "contractor": "Công ty A", "value_vnd": value,
            "signed_on": "2024-02-01", "full_recovery_date": "2024-06-30", **fields}
    response = await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body, headers=world.h("owner"))
    assert response.status_code == 201, response.text
    return project, response.json()


async def _pay(client, world, project, contract, amount, doc, kind="payment", **extra):
    body = disbursement_body(amount, doc, kind=kind, contract_id=contract["id"], **extra)
    return await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=body,
                             headers=world.h("treasury"))


def _problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


async def test_create_read_patch_contract_with_etag(client, world):
    project, contract = await _setup(client, world)
    got = await client.get(f"/api/v1/contracts/{contract['id']}", headers=world.h("viewer"))
    assert got.status_code == 200 and got.json()["outstanding_vnd"] == 0
    etag = got.headers["ETag"]
    _problem(await client.patch(f"/api/v1/contracts/{contract['id']}", json={"contractor": "B"},
                                headers=world.h("owner")), 428, "if_match_required")
    _problem(await client.patch(f"/api/v1/contracts/{contract['id']}", json={"contractor": "B"},
                                headers=world.h("owner", **{"If-Match": '"x"'})), 412, "etag_mismatch")
    ok = await client.patch(f"/api/v1/contracts/{contract['id']}", json={"contractor": "B"},
                            headers=world.h("owner", **{"If-Match": etag}))
    assert ok.status_code == 200 and ok.json()["contractor"] == "B" and ok.headers["ETag"] != etag
    listed = await client.get(f"/api/v1/projects/{project['id']}/contracts", headers=world.h("viewer"))
    assert [c["id"] for c in listed.json()["items"]] == [contract["id"]]


async def test_contract_write_scope_and_duplicates(client, world):
    project, _ = await _setup(client, world)
    body = {"number": "01/2024/HĐ", "contract_type": "construction", "contractor": "A", "value_vnd": 1,
            "signed_on": "2024-02-01"}
    _problem(await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body,
                               headers=world.h("other_owner")), 403, "forbidden")
    # R15a: a contract's number and contractor are the owner's record; the Treasury reaches the operation (for its
    # controls) but may not register the owner's contract.
    _problem(await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body,
                               headers=world.h("treasury")), 403, "fact_authority")
    _problem(await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body,
                               headers=world.h("owner")), 409, "duplicate_contract")
    _problem(await client.get("/api/v1/contracts/999", headers=world.h("viewer")), 404, "contract_not_found")
    bad = {**body, "number": "x", "approved_advance_rate_pct": 40}
    _problem(await client.post(f"/api/v1/projects/{project['id']}/contracts", json=bad,
                               headers=world.h("owner")), 403, "fact_authority")  # R4: not the owner's to record


async def test_r4_advance_ceiling_and_r3_contract_cap(client, world):
    project, contract = await _setup(client, world, value=1_000_000_000)
    response = await _pay(client, world, project, contract, 300_000_001, "A1", kind="advance")
    _problem(response, 422, "advance_ceiling_exceeded")
    assert response.json()["allowed_max_vnd"] == 300_000_000
    assert (await _pay(client, world, project, contract, 300_000_000, "A1", kind="advance")).status_code == 201
    response = await _pay(client, world, project, contract, 800_000_000, "P1", advance_recovered_vnd=300_000_000)
    assert response.status_code == 201, response.text
    _problem(await _pay(client, world, project, contract, 200_000_001, "P2"), 422, "contract_cap_exceeded")


async def test_r4_an_amendment_keeps_the_ceiling_on_the_value_at_signing(client, world):
    """Regression (#11 review): R4 used today's value, so an amendment raised the 30% ceiling. By hand: signed at
    1 tỷ agreeing 20% → 200 M; amended to 2 tỷ → still 200 M (R3 now allows payments up to 2 tỷ)."""
    project, contract = await _setup(client, world, value=1_000_000_000, agreed_advance_rate_pct=20)
    assert (contract["value_at_signing_vnd"], contract["agreed_advance_rate_pct"]) == (1_000_000_000, 20)
    url, etag = f"/api/v1/contracts/{contract['id']}", {"If-Match": f'"contract-{contract["id"]}-v1"'}
    amended = await client.patch(url, json={"value_vnd": 2_000_000_000}, headers=world.h("treasury", **etag))
    assert amended.status_code == 200, amended.text
    assert (amended.json()["value_vnd"], amended.json()["value_at_signing_vnd"]) == (2_000_000_000, 1_000_000_000)
    response = await _pay(client, world, project, contract, 200_000_001, "A1", kind="advance")
    _problem(response, 422, "advance_ceiling_exceeded")
    assert response.json()["allowed_max_vnd"] == 200_000_000
    assert (await _pay(client, world, project, contract, 200_000_000, "A1", kind="advance")).status_code == 201
    # Once it has advances, the agreed level is the Treasury's control (R15a), and it cannot go below them.
    etag = {"If-Match": f'"contract-{contract["id"]}-v2"'}
    _problem(await client.patch(url, json={"agreed_advance_rate_pct": 30}, headers=world.h("owner", **etag)),
             403, "fact_authority")
    lower = await client.patch(url, json={"agreed_advance_rate_pct": 19}, headers=world.h("treasury", **etag))
    _problem(lower, 422, "agreed_rate_below_advanced")
    assert lower.json()["minimum_pct"] == 20


async def test_r4_higher_rate_with_decision(client, world):
    """R4: a rate above the ceiling is recorded with its decision by a planner or approver, never the owner."""
    project, contract = await _setup(client, world, value=1_000_000_000)
    url, etag = f"/api/v1/contracts/{contract['id']}", {"If-Match": f'"contract-{contract["id"]}-v1"'}
    rate = {"approved_advance_rate_pct": 50, "approving_decision": "12/QĐ-UBND 2024-01-20"}
    _problem(await client.patch(url, json=rate, headers=world.h("owner", **etag)), 403, "fact_authority")
    _problem(await client.patch(url, json={"approved_advance_rate_pct": 50}, headers=world.h("planner", **etag)),
             422, "approving_decision_required")
    assert (await client.patch(url, json=rate, headers=world.h("approver", **etag))).status_code == 200
    assert (await _pay(client, world, project, contract, 500_000_000, "A1", kind="advance")).status_code == 201


async def test_r5_floor_is_a_warning_not_a_rejection(client, world):
    project, contract = await _setup(client, world, value=5_000_000_000, guarantee_vnd=5_000_000_000,
                                     guarantee_expires_on="2025-12-31")
    response = await _pay(client, world, project, contract, 500_000_000, "A1", kind="advance")
    assert response.status_code == 201
    [warning] = response.json()["warnings"]
    assert warning["rule"] == "R5" and warning["floor_vnd"] == 1_000_000_000


async def test_r6_guarantee_required_above_threshold(client, world):
    project, contract = await _setup(client, world, value=10_000_000_000)
    response = await _pay(client, world, project, contract, 2_000_000_000, "A1", kind="advance")
    _problem(response, 422, "guarantee_required")
    assert response.json()["required_guarantee_vnd"] == 2_000_000_000


async def test_r7_recovery_not_above_outstanding(client, world):
    project, contract = await _setup(client, world, value=1_000_000_000)
    assert (await _pay(client, world, project, contract, 100_000_000, "A1", kind="advance")).status_code == 201
    _problem(await _pay(client, world, project, contract, 300_000_000, "P1", advance_recovered_vnd=150_000_000),
             422, "recovery_exceeds_outstanding")


async def test_r8_payment_reaching_80pct_must_recover_all(client, world):
    project, contract = await _setup(client, world, value=1_000_000_000)
    assert (await _pay(client, world, project, contract, 200_000_000, "A1", kind="advance")).status_code == 201
    response = await _pay(client, world, project, contract, 800_000_000, "P1", advance_recovered_vnd=100_000_000)
    _problem(response, 422, "completion_recovery_required")
    assert response.json()["minimum_recovery_vnd"] == 200_000_000
    ok = await _pay(client, world, project, contract, 800_000_000, "P1", advance_recovered_vnd=200_000_000)
    assert ok.status_code == 201
    got = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=world.h("viewer"))).json()
    assert (got["advanced_vnd"], got["recovered_vnd"], got["outstanding_vnd"], got["paid_vnd"]) == (
        200_000_000, 200_000_000, 0, 800_000_000)


async def test_contract_of_another_project_is_rejected(client, world):
    project, contract = await _setup(client, world)
    other = await make_project(client, world, code="VP-GT-002")
    assert (await allocate(client, world, other["id"], 1_000_000_000)).status_code == 201
    body = disbursement_body(100, "X1", contract_id=contract["id"])
    response = await client.post(f"/api/v1/projects/{other['id']}/disbursements", json=body,
                                 headers=world.h("treasury"))
    _problem(response, 422, "contract_not_in_project")
