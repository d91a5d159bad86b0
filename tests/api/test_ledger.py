"""Capital ledger over HTTP: caps R1, R2, R7, R14, idempotency, natural keys, batches, reversals, as_of."""

from __future__ import annotations

from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger.verify import check_all as verify
from app.models import AuditEntry, Disbursement
from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"


async def _setup(client, world, plan=10_000_000_000, tmdt=200_000_000_000):
    project = await make_project(client, world, tmdt=tmdt)
    response = await allocate(client, world, project["id"], plan)
    assert response.status_code == 201, response.text
    return project


async def _count(model) -> int:
    async with session_scope() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_r1_plan_cap_rejects_with_remaining_and_changes_nothing(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    ok = await client.post(url, json=disbursement_body(7_000_000_000, "KB-1"), headers=world.h("treasury"))
    assert ok.status_code == 201
    before = await _count(Disbursement)
    bad = await client.post(url, json=disbursement_body(3_000_000_001, "KB-2"), headers=world.h("treasury"))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    problem = bad.json()
    assert problem["code"] == "plan_cap_exceeded"
    assert problem["remaining_vnd"] == 3_000_000_000
    assert problem["errors"][0]["pointer"] == "/amount_vnd"
    assert await _count(Disbursement) == before
    exact = await client.post(url, json=disbursement_body(3_000_000_000, "KB-3"), headers=world.h("treasury"))
    assert exact.status_code == 201


async def test_rejected_write_leaves_only_its_audit_line(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    bad = await client.post(url, json=disbursement_body(99_000_000_000, "KB-X"), headers=world.h("treasury"))
    assert bad.status_code == 422
    async with session_scope() as session:
        line = await session.scalar(select(AuditEntry).where(AuditEntry.code == "plan_cap_exceeded"))
    assert line is not None and line.status_code == 422 and line.request_id == bad.headers["x-request-id"]


async def test_r2_lifetime_cap_on_allocation_and_disbursement(client, world):
    project = await make_project(client, world, tmdt=5_000_000_000)
    too_much = await allocate(client, world, project["id"], 5_000_000_001)
    assert too_much.status_code == 422 and too_much.json()["code"] == "tmdt_cap_exceeded"
    assert too_much.json()["remaining_vnd"] == 5_000_000_000
    assert (await allocate(client, world, project["id"], 5_000_000_000)).status_code == 201


async def test_r1_plan_cannot_drop_below_disbursed(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    await client.post(url, json=disbursement_body(6_000_000_000, "KB-1"), headers=world.h("treasury"))
    cut = await allocate(client, world, project["id"], 4_000_000_001, kind="adjustment_out", decision="9/QĐ",
                         decided="2024-09-01")
    assert cut.status_code == 422 and cut.json()["code"] == "plan_below_disbursed"
    assert cut.json()["remaining_vnd"] == 4_000_000_000


async def test_r7_recovery_cannot_exceed_outstanding_advance(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    adv = await client.post(url, json=disbursement_body(2_000_000_000, "A-1", kind="advance"), headers=world.h("owner"))
    assert adv.status_code == 201
    pay = disbursement_body(3_000_000_000, "P-1", advance_recovered_vnd=2_500_000_000)
    bad = await client.post(url, json=pay, headers=world.h("owner"))
    assert bad.status_code == 422 and bad.json()["code"] == "recovery_exceeds_outstanding"
    assert bad.json()["outstanding_vnd"] == 2_000_000_000
    pay["advance_recovered_vnd"] = 2_000_000_000
    good = await client.post(url, json=pay, headers=world.h("owner"))
    assert good.status_code == 201 and good.json()["net_vnd"] == 1_000_000_000


async def test_r14_window_advance_after_year_end_rejected(client, world, set_today):
    set_today(__import__("datetime").date(2025, 1, 20))
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    late_advance = await client.post(url, json=disbursement_body(1_000_000_000, "A-9", kind="advance",
                                                                 value_date="2025-01-10"), headers=world.h("treasury"))
    assert late_advance.status_code == 422
    assert late_advance.json()["code"] == "outside_disbursement_window"
    assert late_advance.json()["deadline"] == "2024-12-31"
    payment = await client.post(url, json=disbursement_body(1_000_000_000, "P-9", value_date="2025-01-10"),
                                headers=world.h("treasury"))
    assert payment.status_code == 201  # payments for plan year 2024 run until 31/01/2025


async def test_value_date_in_future_rejected(client, world):
    project = await _setup(client, world)
    response = await client.post(f"/api/v1/projects/{project['id']}/disbursements",
                                 json=disbursement_body(1_000_000, "F-1", value_date="2024-10-12"),
                                 headers=world.h("treasury"))
    assert response.status_code == 422 and response.json()["code"] == "value_date_in_future"


async def test_idempotent_replay_mismatch_and_natural_key(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    body = disbursement_body(1_000_000_000, "KB-77")
    headers = world.h("treasury", **{"Idempotency-Key": "retry-1"})
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post(url, json={**body, "amount_vnd": 2}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    duplicate = await client.post(url, json=body, headers=world.h("treasury", **{"Idempotency-Key": "retry-2"}))
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_document"
    assert await _count(Disbursement) == 1


async def test_batch_all_or_nothing_with_row_errors(client, world):
    project = await _setup(client, world)
    rows = [{**disbursement_body(1_000_000_000, f"B-{i}"), "project_id": project["id"]} for i in range(5)]
    rows[3]["amount_vnd"] = 9_000_000_000  # breaks R1 after rows 0–2
    rows[4]["document_number"] = "B-0"  # duplicate inside the batch
    bad = await client.post("/api/v1/disbursements/batch", json={"rows": rows}, headers=world.h("treasury"))
    assert bad.status_code == 422 and bad.json()["code"] == "batch_rejected"
    errors = {e["index"]: e for e in bad.json()["errors"]}
    assert errors[3]["code"] == "plan_cap_exceeded" and errors[3]["pointer"] == "/rows/3/amount_vnd"
    assert errors[3]["remaining_vnd"] == 7_000_000_000
    assert errors[4]["code"] == "duplicate_document"
    assert await _count(Disbursement) == 0
    good = await client.post("/api/v1/disbursements/batch", json={"rows": rows[:3]}, headers=world.h("treasury"))
    assert good.status_code == 201 and good.json()["created"] == 3


async def test_reversal_is_a_new_negating_entry(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    created = await client.post(url, json=disbursement_body(4_000_000_000, "KB-1"), headers=world.h("treasury"))
    original = created.json()
    reversal = await client.post(f"/api/v1/disbursements/{original['id']}/reversal", headers=world.h("treasury"),
                                 json={"document_number": "KB-1-R", "value_date": "2024-10-01", "note": "wrong pool"})
    assert reversal.status_code == 201
    assert reversal.json()["amount_vnd"] == -4_000_000_000 and reversal.json()["reverses_id"] == original["id"]
    twice = await client.post(f"/api/v1/disbursements/{original['id']}/reversal", headers=world.h("treasury"),
                              json={"document_number": "KB-1-R2", "value_date": "2024-10-01", "note": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == "already_reversed"
    balances = (await client.get(f"/api/v1/projects/{project['id']}/balances", headers=world.h("viewer"))).json()
    assert balances["pools"][0]["disbursed_vnd"] == 0
    async with session_scope() as session:
        assert await verify(session) == []


async def test_balances_as_of_reproduce_the_past(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    await client.post(url, json=disbursement_body(1_000_000_000, "KB-1", value_date="2024-03-01"),
                      headers=world.h("treasury"))
    await client.post(url, json=disbursement_body(2_000_000_000, "KB-2", value_date="2024-09-01"),
                      headers=world.h("treasury"))
    past = await client.get(f"/api/v1/projects/{project['id']}/balances", params={"as_of": "2024-06-30"},
                            headers=world.h("viewer"))
    assert past.json()["pools"][0]["disbursed_vnd"] == 1_000_000_000
    now = await client.get(f"/api/v1/projects/{project['id']}/balances", headers=world.h("viewer"))
    assert now.json()["pools"][0]["disbursed_vnd"] == 3_000_000_000


async def test_owner_scope_and_roles(client, world):
    project = await _setup(client, world)
    sub_project = await make_project(client, world, code="VP-SUB", investor_id=world.sub_investor_id)
    await allocate(client, world, sub_project["id"], 1_000_000_000)
    body = disbursement_body(1_000_000, "S-1")
    other = await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=body,
                              headers=world.h("other_owner"))
    assert other.status_code == 403 and other.headers["content-type"] == PROBLEM
    assert "remaining" not in other.text and project["name"] not in other.text
    own_sub_unit = await client.post(f"/api/v1/projects/{sub_project['id']}/disbursements", json=body,
                                     headers=world.h("owner"))
    assert own_sub_unit.status_code == 201
    viewer = await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=body, headers=world.h("viewer"))
    assert viewer.status_code == 403
    anonymous = await client.get("/api/v1/projects")
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM


async def test_project_patch_needs_matching_if_match(client, world):
    project = await make_project(client, world)
    url = f"/api/v1/projects/{project['id']}"
    read = await client.get(url, headers=world.h("viewer"))
    etag = read.headers["etag"]
    missing = await client.patch(url, json={"decision_ref": "A"}, headers=world.h("planner"))
    assert missing.status_code == 428
    ok = await client.patch(url, json={"decision_ref": "A"}, headers=world.h("planner", **{"If-Match": etag}))
    assert ok.status_code == 200 and ok.json()["decision_ref"] == "A"
    stale = await client.patch(url, json={"decision_ref": "B"}, headers=world.h("planner", **{"If-Match": etag}))
    assert stale.status_code == 412 and stale.json()["code"] == "etag_mismatch"


async def test_cursor_pagination_is_stable_and_rejects_foreign_tokens(client, world):
    for i in range(7):
        await make_project(client, world, code=f"VP-P-{i}")
    seen, token = [], None
    while True:
        params = {"page_size": 3, **({"page_token": token} if token else {})}
        page = (await client.get("/api/v1/projects", params=params, headers=world.h("viewer"))).json()
        seen += [p["code"] for p in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [f"VP-P-{i}" for i in range(7)]
    first = (await client.get("/api/v1/projects", params={"page_size": 3}, headers=world.h("viewer"))).json()
    foreign = await client.get("/api/v1/projects", params={"page_token": first["next_page_token"], "sector": "x"},
                               headers=world.h("viewer"))
    assert foreign.status_code == 400 and foreign.json()["code"] == "invalid_page_token"
    garbage = await client.get("/api/v1/projects", params={"page_token": "!!"}, headers=world.h("viewer"))
    assert garbage.status_code == 400


async def test_money_must_be_an_integer(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    for bad_amount in (1.5, "100", -5, 0, 10**16):
        response = await client.post(url, json=disbursement_body(bad_amount, "X"), headers=world.h("treasury"))
        assert response.status_code == 422, bad_amount
        assert response.json()["errors"][0]["pointer"] == "/amount_vnd"


async def test_oversized_body_is_413(client, world):
    response = await client.post("/api/v1/disbursements/batch", content=b"x" * (9 * 1024 * 1024),
                                 headers=world.h("treasury", **{"content-type": "application/json"}))
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"


async def test_audit_log_lists_accepted_and_rejected_writes_for_admins_only(client, world):
    project = await _setup(client, world)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    await client.post(url, json=disbursement_body(1_000_000, "AU-1"), headers=world.h("treasury"))
    await client.post(url, json=disbursement_body(99_000_000_000, "AU-2"), headers=world.h("treasury"))
    log = await client.get("/api/v1/audit-log", params={"page_size": 500}, headers=world.h("admin"))
    assert log.status_code == 200
    entries = log.json()["items"]
    assert any(e["action"] == "disbursement.create" and e["status_code"] == 201 for e in entries)
    assert any(e["code"] == "plan_cap_exceeded" and e["status_code"] == 422 for e in entries)
    assert (await client.get("/api/v1/audit-log", headers=world.h("planner"))).status_code == 403
