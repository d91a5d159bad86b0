"""Payment dossiers and the Treasury SLA (R15), rule sets as data, the quarterly advance report (R20)."""

from __future__ import annotations

from datetime import date

from app.enums import BudgetLevel, CapitalSource
from app.kernel.db import session_scope
from app.ledger.balances import PoolKey
from app.treasury.dossiers import in_flight_by_pool
from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"


def _problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code


async def _dossier(client, world, project, doc="HS-1", kind="payment", amount=1_000_000_000):
    body = {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "kind": kind,
            "amount_vnd": amount, "document_number": doc, "submitted_on": "2024-10-01"}
    response = await client.post(f"/api/v1/projects/{project['id']}/dossiers", json=body,
                                 headers=world.h("owner", **{"Idempotency-Key": f"k-{doc}"}))
    assert response.status_code == 201, response.text
    return response.json()


async def test_r15_dossier_lifecycle_sla_and_pending_without_reason(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10_000_000_000)).status_code == 201
    d1 = await _dossier(client, world, project)
    d2 = await _dossier(client, world, project, "HS-2", kind="advance", amount=500_000_000)
    url = "/api/v1/dossiers"
    done = await client.post(f"{url}/{d1['id']}/complete", json={"on": "2024-10-03"}, headers=world.h("treasury"))
    assert done.status_code == 200, done.text
    assert done.json()["sla_due"] == "2024-10-08"  # nd99: 3 working days from Thursday 03/10/2024
    assert done.json()["pending_without_reason"] is True  # today is 2024-10-11
    late = (await client.get(url, params={"pending_without_reason": True}, headers=world.h("viewer"))).json()
    # R15: d2 was received on 01/10 and neither accepted nor returned within 3 working days: late as well.
    assert [d["id"] for d in late["items"]] == [d1["id"], d2["id"]]
    reason = await client.post(f"{url}/{d1['id']}/delay-reason", json={"reason": "Chờ bổ sung chứng từ"},
                               headers=world.h("treasury"))
    assert reason.json()["pending_without_reason"] is False
    _problem(await client.post(f"{url}/{d2['id']}/pay", json={}, headers=world.h("treasury")),
             409, "illegal_transition")
    _problem(await client.post(f"{url}/{d2['id']}/return", json={}, headers=world.h("treasury")),
             422, "return_reason_required")
    returned = await client.post(f"{url}/{d2['id']}/return", json={"reason": "Thiếu bảo lãnh tạm ứng"},
                                 headers=world.h("treasury"))
    assert returned.json()["status"] == "returned"
    _problem(await client.post(f"{url}/{d1['id']}/pay", json={}, headers=world.h("owner")), 403, "forbidden")
    async with session_scope() as session:
        flight = await in_flight_by_pool(session, 2024)
    key = PoolKey(project["id"], 2024, CapitalSource.local_balanced, BudgetLevel.province, world.province_id)
    assert flight == {key: 1_000_000_000}
    paid = await client.post(f"{url}/{d1['id']}/pay", json={}, headers=world.h("treasury"))
    assert paid.json()["status"] == "paid"
    # R15/R15a: paying posted the Treasury's disbursement, linked to the dossier.
    ledger = (await client.get(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("viewer"))).json()
    [entry] = ledger["items"]
    assert entry["id"] == paid.json()["disbursement_id"] and entry["source"] == "treasury"
    assert entry["amount_vnd"] == 1_000_000_000 and entry["document_number"] == "KB-HS-1"
    _problem(await client.post(f"/api/v1/projects/{project['id']}/dossiers", json={
        "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "kind": "payment",
        "amount_vnd": 1, "document_number": "HS-1"}, headers=world.h("owner")), 409, "duplicate_dossier")
    _problem(await client.get(f"{url}/999", headers=world.h("viewer")), 404, "dossier_not_found")


async def test_rule_sets_read_and_override_with_if_match_admin_only(client, world):
    _problem(await client.get("/api/v1/rule-sets", headers=world.h("treasury")), 403, "forbidden")
    listed = (await client.get("/api/v1/rule-sets", headers=world.h("admin"))).json()
    assert [r["code"] for r in listed] == ["nd99", "nd254"]
    got = await client.get("/api/v1/rule-sets/nd99", headers=world.h("admin"))
    _problem(await client.patch("/api/v1/rule-sets/nd99", json={"overrides": {"due_soon_days": 45}},
                                headers=world.h("admin")), 428, "if_match_required")
    _problem(await client.patch("/api/v1/rule-sets/nd99", json={"overrides": {"nope": 1}},
                                headers=world.h("admin", **{"If-Match": got.headers["ETag"]})),
             422, "invalid_rule_set_override")
    ok = await client.patch("/api/v1/rule-sets/nd99", json={"overrides": {"sla_payment_working_days": 5}},
                            headers=world.h("admin", **{"If-Match": got.headers["ETag"]}))
    assert ok.status_code == 200 and ok.json()["values"]["sla_payment_working_days"] == 5
    _problem(await client.patch("/api/v1/rule-sets/nd99", json={"overrides": {"due_soon_days": 1}},
                                headers=world.h("admin", **{"If-Match": got.headers["ETag"]})), 412, "etag_mismatch")
    _problem(await client.get("/api/v1/rule-sets/nd1", headers=world.h("admin")), 404, "rule_set_not_found")
    # The override and an administrator's day off both feed the SLA (R15).
    assert (await client.put("/api/v1/calendar-days/2024-10-07", json={"kind": "day_off", "description": "test"},
                             headers=world.h("admin"))).status_code == 200
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10_000_000_000)).status_code == 201
    d = await _dossier(client, world, project)
    done = await client.post(f"/api/v1/dossiers/{d['id']}/complete", json={"on": "2024-10-03"},
                             headers=world.h("treasury"))
    assert done.json()["sla_due"] == "2024-10-11"  # 5 working days, 07/10 off


async def test_r20_quarterly_advance_report_json_and_xlsx(client, world, set_today):
    set_today(date(2024, 9, 30))  # R20: the Q3 report counts the rows known on 30/09
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10_000_000_000)).status_code == 201
    body = disbursement_body(200_000_000, "A-1", kind="advance", advance_kind="other", value_date="2024-02-01")
    assert (await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=body,
                              headers=world.h("treasury"))).status_code == 201
    set_today(date(2024, 10, 11))
    report = (await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3},
                               headers=world.h("treasury"))).json()
    assert report["as_of"] == str(date(2024, 9, 30))
    [row] = report["items"]
    assert row["outstanding_vnd"] == row["overdue_vnd"] == row["overdue_by_rule_vnd"]["R11"] == 200_000_000
    xlsx = await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3, "format": "xlsx"},
                            headers=world.h("treasury"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    _problem(await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 5},
                              headers=world.h("treasury")), 422, "validation_failed")


async def test_r15_a_dossier_asks_no_more_than_its_pool_can_receive_and_cannot_block_a_proposal(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 2_000_000_000)).status_code == 201
    body = {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "kind": "payment",
            "amount_vnd": 10**15, "document_number": "HS-HUGE"}
    huge = await client.post(f"/api/v1/projects/{project['id']}/dossiers", json=body, headers=world.h("owner"))
    _problem(huge, 422, "dossier_exceeds_receivable")
    assert huge.json()["allowed_max_vnd"] == 2_000_000_000
    filed = await _dossier(client, world, project, "HS-OK", amount=2_000_000_000)
    async with session_scope() as session:
        assert await in_flight_by_pool(session, 2024) == {}  # filed, not accepted: not in flight
    await client.post(f"/api/v1/dossiers/{filed['id']}/complete", json={"on": "2024-10-02"},
                      headers=world.h("treasury"))
    async with session_scope() as session:
        key = PoolKey(project["id"], 2024, CapitalSource.local_balanced, BudgetLevel.province, world.province_id)
        assert await in_flight_by_pool(session, 2024) == {key: 2_000_000_000}


async def test_r15_paying_a_dossier_the_rules_refuse_changes_nothing(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 2_000_000_000)).status_code == 201
    d = await _dossier(client, world, project, "HS-1", amount=2_000_000_000)
    await client.post(f"/api/v1/dossiers/{d['id']}/complete", json={"on": "2024-10-02"}, headers=world.h("treasury"))
    spent = await client.post(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("treasury"),
                              json=disbursement_body(1_500_000_000, "KB-OTHER", value_date="2024-10-05"))
    assert spent.status_code == 201
    refused = await client.post(f"/api/v1/dossiers/{d['id']}/pay", json={}, headers=world.h("treasury"))
    _problem(refused, 422, "plan_cap_exceeded")
    still = (await client.get(f"/api/v1/dossiers/{d['id']}", headers=world.h("viewer"))).json()
    assert still["status"] == "complete" and still["disbursement_id"] is None
