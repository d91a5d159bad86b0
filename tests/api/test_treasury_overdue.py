"""Overdue advances (R9–R12), the sweep (recorded once), recovery cases (R16) and the snapshot ETag."""

from __future__ import annotations

from datetime import date

from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"
URL = "/api/v1/treasury/overdue-advances"


async def _world(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 50_000_000_000)).status_code == 201
    body = {"number": "01/2024/HĐ", "contract_type": "construction", "contractor": "Công ty A",
            "value_vnd": 2_000_000_000, "signed_on": "2024-02-01", "full_recovery_date": "2024-05-31"}
    contract = (await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body,
                                  headers=world.h("owner"))).json()

    async def post(amount, doc, **extra):
        response = await client.post(f"/api/v1/projects/{project['id']}/disbursements",
                                     json=disbursement_body(amount, doc, **extra), headers=world.h("treasury"))
        assert response.status_code == 201, response.text
        return response.json()

    await post(400_000_000, "A-R9", kind="advance", contract_id=contract["id"], value_date="2024-03-01")
    await post(300_000_000, "A-R10", kind="advance", advance_kind="site_clearance", value_date="2024-06-05")
    await post(200_000_000, "A-R11", kind="advance", advance_kind="other", value_date="2024-03-01")
    await post(100_000_000, "A-SOON", kind="advance", advance_kind="site_clearance", value_date="2024-07-20")
    return project, contract, post


async def test_overdue_by_r9_r10_r11_with_buckets_and_filters(client, world):
    await _world(client, world)
    response = await client.get(URL, headers=world.h("treasury"))
    assert response.status_code == 200, response.text
    data = response.json()
    assert sorted(i["rule"] for i in data["items"]) == ["R10", "R11", "R9"]
    r9 = next(i for i in data["items"] if i["rule"] == "R9")
    assert r9["deadline"] == "2024-08-31" and r9["days_overdue"] == 41 and r9["bucket"] == "31-90"
    assert data["totals"]["31-90"]["overdue_vnd"] == 900_000_000 and data["total_overdue_vnd"] == 900_000_000
    only = (await client.get(URL, params={"rule": "R10"}, headers=world.h("treasury"))).json()
    assert [i["rule"] for i in only["items"]] == ["R10"]
    page = (await client.get(URL, params={"page_size": 2}, headers=world.h("treasury"))).json()
    assert len(page["items"]) == 2 and page["next_page_token"]
    rest = (await client.get(URL, params={"page_size": 2, "page_token": page["next_page_token"]},
                             headers=world.h("treasury"))).json()
    assert len(rest["items"]) == 1 and rest["next_page_token"] is None


async def test_overdue_list_errors_are_problem_json(client, world):
    for response, status in (
        (await client.get(URL), 401),
        (await client.get(URL, headers=world.h("owner")), 403),
        (await client.get(URL, params={"bucket": "7"}, headers=world.h("treasury")), 422),
        (await client.get(URL, params={"page_token": "zzz"}, headers=world.h("treasury")), 400),
    ):
        assert response.status_code == status and response.headers["content-type"].startswith(PROBLEM)


async def test_r12_due_soon_boundary_via_sweep(client, world, set_today):
    await _world(client, world)
    set_today(date(2024, 9, 20))  # R10 advance of 2024-06-05: deadline 2024-09-05 → overdue; 07-20 → not yet
    result = (await client.post("/api/v1/treasury/sweep", params={"as_of": "2024-09-21"},
                                headers=world.h("admin"))).json()
    assert result["recorded"].get("due_soon") == 1  # 2024-07-20 + 3 months = 2024-10-20: 30 days from 09-21


async def test_sweep_twice_records_each_transition_once(client, world):
    await _world(client, world)
    first = await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] == {"overdue": 3, "due_soon": 1} and first.json()["cases_opened"] == 3
    second = (await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))).json()
    assert second["recorded"] == {} and second["cases_opened"] == 0
    events = (await client.get("/api/v1/events", params={"types": ["advance.overdue"], "page_size": 100},
                               headers=world.h("treasury"))).json()["items"]
    assert len(events) == 3
    forbidden = await client.post("/api/v1/treasury/sweep", headers=world.h("treasury"))
    assert forbidden.status_code == 403 and forbidden.headers["content-type"].startswith(PROBLEM)


async def test_r6_guarantee_expired_transition(client, world):
    project, _, post = await _world(client, world)
    # R4 counts on the value at signing, so the advance above the R6 threshold needs a contract signed that large.
    body = {"number": "02/2024/HĐ", "contract_type": "construction", "contractor": "Công ty B",
            "value_vnd": 5_000_000_000, "signed_on": "2024-02-01", "full_recovery_date": "2025-05-31",
            "guarantee_vnd": 2_000_000_000, "guarantee_expires_on": "2024-10-01"}
    response = await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body, headers=world.h("owner"))
    assert response.status_code == 201, response.text
    await post(1_100_000_000, "A-R6", kind="advance", contract_id=response.json()["id"], value_date="2024-09-30")
    result = (await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))).json()
    assert result["recorded"].get("guarantee_expired") == 1


async def test_snapshot_304_when_unchanged_and_new_etag_after_a_recovery(client, world):
    project, contract, post = await _world(client, world)
    first = await client.get(URL, headers=world.h("treasury"))
    etag = first.headers["ETag"]
    again = await client.get(URL, headers=world.h("treasury", **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.content == b""
    await post(500_000_000, "P-REC", contract_id=contract["id"], advance_recovered_vnd=100_000_000)
    changed = await client.get(URL, headers=world.h("treasury", **{"If-None-Match": etag}))
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    r9 = next(i for i in changed.json()["items"] if i["rule"] == "R9")
    assert r9["outstanding_vnd"] == 300_000_000


async def test_r16_recovery_case_workflow_and_auto_close(client, world):
    project, contract, post = await _world(client, world)
    await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))
    cases = (await client.get("/api/v1/recovery-cases", headers=world.h("treasury"))).json()["items"]
    assert len(cases) == 3 and {c["state"] for c in cases} == {"open"}
    case = next(c for c in cases if c["contract_id"] == contract["id"])
    steps = f"/api/v1/recovery-cases/{case['id']}/steps"
    early = await client.post(steps, json={"kind": "commitment", "amount_vnd": 1, "committed_date": "2024-11-01"},
                              headers=world.h("treasury"))
    assert early.status_code == 409 and early.json()["code"] == "illegal_transition"
    assert early.headers["content-type"].startswith(PROBLEM)
    notice = await client.post(steps, json={"kind": "notice_sent", "document_number": "125/TB-KB",
                                            "document_date": "2024-10-11", "deadline": "2024-10-10"},
                               headers=world.h("treasury"))
    assert notice.status_code == 201, notice.text
    assert notice.json()["state"] == "notice_sent" and notice.json()["deadline_passed"] is True
    commit = await client.post(steps, json={"kind": "commitment", "amount_vnd": 400_000_000,
                                            "committed_date": "2024-11-30", "document_number": "88/CV"},
                               headers=world.h("treasury"))
    assert commit.json()["state"] == "committed" and commit.json()["deadline_passed"] is False
    owner = await client.post(steps, json={"kind": "escalation", "escalation": "account_debit"},
                              headers=world.h("owner"))
    assert owner.status_code == 403
    await post(1_000_000_000, "P-ALL", contract_id=contract["id"], advance_recovered_vnd=400_000_000)
    closed = (await client.get(f"/api/v1/recovery-cases/{case['id']}", headers=world.h("treasury"))).json()
    assert closed["state"] == "closed" and closed["outstanding_vnd"] == 0
    assert [s["kind"] for s in closed["steps"]] == ["notice_sent", "commitment", "recovery"]
    late = await client.post(steps, json={"kind": "escalation", "escalation": "guarantee_claim"},
                             headers=world.h("treasury"))
    assert late.status_code == 409 and late.json()["code"] == "illegal_transition"
    missing = await client.get("/api/v1/recovery-cases/999", headers=world.h("treasury"))
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)


async def _etag_and_304(client, world, params=None) -> str:
    """The current ETag, after checking that replaying it answers 304 with no body."""
    etag = (await client.get(URL, params=params, headers=world.h("treasury"))).headers["ETag"]
    again = await client.get(URL, params=params, headers=world.h("treasury", **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.content == b""
    return etag


async def _changed(client, world, etag, params=None) -> dict:
    changed = await client.get(URL, params=params, headers=world.h("treasury", **{"If-None-Match": etag}))
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] != etag
    return changed.json()


async def test_snapshot_etag_changes_after_a_contract_change(client, world):
    project, contract, post = await _world(client, world)
    etag = await _etag_and_304(client, world)
    patch = await client.patch(f"/api/v1/contracts/{contract['id']}", json={"full_recovery_date": "2024-12-31"},
                               headers=world.h("treasury", **{"If-Match": f'"contract-{contract["id"]}-v1"'}))
    assert patch.status_code == 200, patch.text
    data = await _changed(client, world, etag)
    assert "R9" not in {i["rule"] for i in data["items"]}  # the contract's new recovery date is not yet due


async def test_snapshot_etag_changes_after_a_rule_set_override(client, world):
    await _world(client, world)
    etag = await _etag_and_304(client, world)
    got = await client.get("/api/v1/rule-sets/nd99", headers=world.h("admin"))
    ok = await client.patch("/api/v1/rule-sets/nd99", json={"overrides": {"sla_payment_working_days": 5}},
                            headers=world.h("admin", **{"If-Match": got.headers["ETag"]}))
    assert ok.status_code == 200, ok.text
    await _changed(client, world, etag)


async def test_snapshot_etag_changes_with_the_business_date_and_filters(client, world, set_today):
    await _world(client, world)
    etag = await _etag_and_304(client, world)
    set_today(date(2024, 10, 12))  # a new business day: days overdue move although nobody wrote
    data = await _changed(client, world, etag)
    r9 = next(i for i in data["items"] if i["rule"] == "R9")
    assert r9["days_overdue"] == 42
    assert await _etag_and_304(client, world, {"as_of": "2024-10-11"}) == etag  # same date, same snapshot
    filtered = await _etag_and_304(client, world, {"as_of": "2024-10-11", "rule": "R9"})
    assert filtered != etag


async def test_snapshot_etag_unchanged_by_writes_outside_the_snapshot(client, world):
    project, contract, post = await _world(client, world)
    etag = await _etag_and_304(client, world)
    await post(1_000_000, "P-NO-ADV")  # a payment without a contract or recovery moves no advance
    assert await _etag_and_304(client, world) == etag


async def test_snapshot_etag_changes_after_a_sweep_that_records_and_not_after_one_that_does_not(client, world):
    await _world(client, world)
    etag = await _etag_and_304(client, world)
    assert (await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))).json()["cases_opened"] == 3
    await _changed(client, world, etag)  # opening a case bumps the advance's version
    etag = await _etag_and_304(client, world)
    assert (await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))).json()["recorded"] == {}
    assert await _etag_and_304(client, world) == etag


async def test_r9_an_nd254_override_does_not_move_a_2024_advance(client, world, set_today):
    """Regression (#11 review): overriding nd254's R11 threshold moved a 2024 advance's days overdue overnight.
    By hand: the `other` advance A-R11 of 01/03/2024 falls under nd99 (6 months) → deadline 01/09/2024; asked on
    2025-11-17 (an nd254 day) it is 442 days overdue, whatever nd254's threshold says."""
    await _world(client, world)
    set_today(date(2025, 11, 17))

    async def r11_days() -> tuple[int, str]:
        answer = await client.get(URL, params={"rule": "R11"}, headers=world.h("treasury"))
        assert answer.status_code == 200, answer.text
        [item] = answer.json()["items"]
        return item["days_overdue"], item["rule_set"]

    before = await r11_days()
    assert before == ((date(2025, 11, 17) - date(2024, 9, 1)).days, "nd99")
    got = await client.get("/api/v1/rule-sets/nd254", headers=world.h("admin"))
    ok = await client.patch("/api/v1/rule-sets/nd254", json={"overrides": {"overdue_other_months": 12}},
                            headers=world.h("admin", **{"If-Match": got.headers["ETag"]}))
    assert ok.status_code == 200, ok.text
    assert await r11_days() == before
