"""`verify` sees every class of inconsistency: a consistent ledger built through the API, then one raw-SQL change.

Each injection keeps the database's own CHECK constraints satisfied (a balance row stays internally coherent)
but contradicts the ledger; where a CHECK holds the invariant itself, the injection must fail instead.
The SQL is portable (SQLite and PostgreSQL).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.kernel import feed
from app.kernel.db import session_scope
from app.ledger.verify import check_all
from tests.conftest import allocate, disbursement_body, make_project, pay

B = 1_000_000_000
M = 1_000_000


async def _findings() -> list:
    async with session_scope() as session:
        return await check_all(session)


async def _checks() -> set[str]:
    return {f.check for f in await _findings()}


async def _inject(sql: str, **params) -> None:
    async with session_scope() as session:
        await session.execute(text(sql), params)


async def _ledger(client, world) -> dict:
    """One project (plan 10 tỷ), a contract of 2 tỷ (advance 400 M, paid 1.2 tỷ recovering 300 M), an `other`
    advance, a plain payment, and the recovery cases the sweep opens. Consistent: verify finds nothing."""
    project = await make_project(client, world, tmdt=200 * B)
    assert (await allocate(client, world, project["id"], 10 * B)).status_code == 201
    body = {"number": "01/2024/HĐ", "contract_type": "construction", "contractor": "Công ty A", "value_vnd": 2 * B,
            "signed_on": "2024-02-01", "full_recovery_date": "2024-05-31"}
    response = await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body, headers=world.h("owner"))
    assert response.status_code == 201, response.text
    contract = response.json()
    url = f"/api/v1/projects/{project['id']}/disbursements"
    for row in (disbursement_body(400 * M, "A-1", kind="advance", contract_id=contract["id"], value_date="2024-03-01"),
                disbursement_body(200 * M, "A-2", kind="advance", advance_kind="other", value_date="2024-03-01"),
                disbursement_body(1_200 * M, "P-1", contract_id=contract["id"], advance_recovered_vnd=300 * M)):
        response = await client.post(url, json=row, headers=world.h("treasury"))
        assert response.status_code == 201, response.text
    await pay(client, world, project["id"], 500 * M, "P-2", "2024-07-01")
    sweep = await client.post("/api/v1/treasury/sweep", headers=world.h("admin"))
    assert sweep.status_code == 200 and sweep.json()["cases_opened"] == 2, sweep.text
    assert await _findings() == []
    return {"project": project, "contract": contract}


async def test_pool_balance_disbursed_drift_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE pool_balances SET disbursed_vnd = disbursed_vnd + 1")  # still ≤ plan
    assert "pool_balance" in await _checks()


async def test_pool_balance_late_disbursed_drift_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE pool_balances SET late_disbursed_vnd = late_disbursed_vnd + 1")
    findings = await _findings()
    assert any(f.check == "pool_balance" and "late_disbursed_vnd" in f.detail for f in findings), findings


async def test_project_balance_drift_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE project_balances SET disbursed_total_vnd = disbursed_total_vnd + 1")
    assert "project_balance" in await _checks()


async def test_contract_balance_drift_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE contract_balances SET paid_vnd = paid_vnd + 1")
    assert "contract_balance" in await _checks()


async def test_advance_recovered_drift_is_found(client, world):
    ledger = await _ledger(client, world)
    await _inject("UPDATE advances SET recovered_vnd = recovered_vnd + 1, outstanding_vnd = outstanding_vnd - 1 "
                  "WHERE contract_id = :cid", cid=ledger["contract"]["id"])  # 301 M of 400 M: CHECKs hold
    checks = await _checks()
    assert "advance" in checks and "r13_one_outstanding" in checks


async def test_r13_one_outstanding_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE project_balances SET advance_outstanding_vnd = advance_outstanding_vnd + 1")
    assert "r13_one_outstanding" in await _checks()


async def test_r1_plan_cap_is_held_by_the_database(client, world):
    await _ledger(client, world)
    with pytest.raises(IntegrityError):
        await _inject("UPDATE pool_balances SET disbursed_vnd = plan_vnd + 1")
    assert await _findings() == []


async def test_r2_plan_within_tmdt_is_found(client, world):
    ledger = await _ledger(client, world)
    await _inject("UPDATE projects SET total_investment_vnd = :tmdt WHERE id = :pid", tmdt=5 * B,
                  pid=ledger["project"]["id"])  # plan 10 tỷ, 2.3 tỷ disbursed
    assert await _checks() == {"r2_plan_within_tmdt"}


async def test_r3_contract_cap_is_found(client, world):
    ledger = await _ledger(client, world)
    await _inject("UPDATE contracts SET value_vnd = :value WHERE id = :cid", value=1_200 * M,
                  cid=ledger["contract"]["id"])  # 100 M outstanding + 1.2 tỷ paid
    assert "r3_contract_cap" in await _checks()


async def test_r8_completion_recovery_is_found(client, world):
    ledger = await _ledger(client, world)
    await _inject("UPDATE contracts SET value_vnd = :value WHERE id = :cid", value=1_500 * M,
                  cid=ledger["contract"]["id"])  # paid 1.2 tỷ = 80 % with 100 M outstanding, within the value
    assert await _checks() == {"r8_completion_recovery"}


async def test_r16_closed_case_with_outstanding_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE recovery_cases SET state = 'closed'")
    assert await _checks() == {"r16_case_state"}


async def _proposal(client, world) -> int:
    """A drafted R19 proposal (no plan entries yet): consistent."""
    donor = await make_project(client, world, code="D-DONOR", tmdt=500 * B)
    recipient = await make_project(client, world, code="R-RECIP", tmdt=500 * B, stage="completed")
    assert (await allocate(client, world, donor["id"], 100 * B)).status_code == 201
    assert (await allocate(client, world, recipient["id"], 50 * B)).status_code == 201
    await pay(client, world, donor["id"], 10 * B, "D-1", "2024-03-15")
    for i, (amount, day) in enumerate([(10, "2024-05-10"), (10, "2024-07-10"), (12, "2024-09-10"),
                                       (13, "2024-10-08")]):
        await pay(client, world, recipient["id"], amount * B, f"R-{i}", day)
    need = {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "amount_vnd": 30 * B,
            "justification": "Khối lượng hoàn thành chờ thanh toán", "spend_by": "2024-12-31"}
    response = await client.post(f"/api/v1/projects/{recipient['id']}/extra-needs", json=need,
                                 headers=world.h("owner"))
    assert response.status_code == 201, response.text
    body = {"plan_year": 2024, "pools": [{"capital_source": "local_balanced", "budget_level": "province"}],
            "options": {"minimum_transfer_vnd": 1 * B}}
    response = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner"))
    assert response.status_code == 201, response.text
    assert await _findings() == []
    return response.json()["id"]


async def test_r19_status_applied_without_entries_is_found(client, world):
    proposal_id = await _proposal(client, world)
    await _inject("UPDATE reallocation_proposals SET status = 'applied' WHERE id = :pid", pid=proposal_id)
    assert "r19_proposal_status" in await _checks()


async def test_r19_entry_of_a_draft_proposal_not_zero_sum_is_found(client, world):
    proposal_id = await _proposal(client, world)
    await _inject("UPDATE allocation_entries SET reallocation_proposal_id = :pid WHERE id = "
                  "(SELECT MIN(id) FROM allocation_entries)", pid=proposal_id)
    checks = await _checks()
    assert {"r19_proposal_status", "r19_zero_sum"} <= checks


async def test_feed_gap_is_found(client, world):
    await _ledger(client, world)
    async with session_scope() as session:
        assert await feed.publish_pending(session) > 1  # the publisher numbers the committed events 1..n
    assert await _findings() == []
    await _inject("UPDATE events SET position = position + 10 WHERE position = "
                  "(SELECT max_position FROM (SELECT MAX(position) AS max_position FROM events) AS m)")
    assert await _checks() == {"feed_contiguous"}


async def test_r4_advance_ceiling_on_the_value_at_signing_is_found(client, world):
    await _ledger(client, world)  # a 2 tỷ contract with 400 M advanced: within 30%
    await _inject("UPDATE contracts SET value_at_signing_vnd = 1000000000")  # 30% → 300 M < 400 M advanced
    assert "r4_advance_ceiling" in await _checks()


async def test_r15a_owner_report_counted_beside_the_treasury_entry_is_found(client, world):
    ledger = await _ledger(client, world)
    pid = ledger["project"]["id"]
    url = f"/api/v1/projects/{pid}/disbursements"
    assert (await client.post(url, json=disbursement_body(100 * M, "GDN-1"), headers=world.h("owner"))).status_code \
        == 201
    paid = await client.post(url, json=disbursement_body(100 * M, "KB-1", owner_document_number="GDN-1"),
                             headers=world.h("treasury"))
    assert paid.status_code == 201, paid.text
    assert await _findings() == []
    # Drop the superseding reversal (and keep the pool in step): the report counts again beside the Treasury's entry.
    await _inject("UPDATE pool_balances SET disbursed_vnd = disbursed_vnd + :m WHERE project_id = :p", m=100 * M, p=pid)
    await _inject("UPDATE project_balances SET disbursed_total_vnd = disbursed_total_vnd + :m WHERE project_id = :p",
                  m=100 * M, p=pid)
    await _inject("DELETE FROM disbursements WHERE document_number = 'DC-' || "
                  "(SELECT id FROM disbursements WHERE document_number = 'GDN-1')")
    assert "r15a_counted_twice" in await _checks()


async def test_r15a_reversal_origin_is_found_and_held(client, world):
    await _ledger(client, world)
    with pytest.raises(IntegrityError):  # an original's origin is its source: a CHECK holds it
        await _inject("UPDATE disbursements SET origin = 'owner' WHERE document_number = 'P-2'")
    p2 = await _id_of("P-2")
    reversal = await client.post(f"/api/v1/disbursements/{p2}/reversal", headers=world.h("treasury"),
                                 json={"document_number": "R-1", "value_date": "2024-10-01", "note": "sai"})
    assert reversal.status_code == 201, reversal.text
    assert await _findings() == []
    await _inject("UPDATE disbursements SET origin = 'owner' WHERE document_number = 'R-1'")
    assert "r15a_origin" in await _checks()


async def _id_of(document: str) -> int:
    async with session_scope() as session:
        return (await session.execute(text("SELECT id FROM disbursements WHERE document_number = :d"),
                                      {"d": document})).scalar_one()


async def _district_project(client, world, code: str) -> tuple[int, dict]:
    ids = []
    for org_code, kind in ((f"UBND-{code}", "district"), (f"BQL-{code}", "investor")):
        body = {"code": org_code, "name": org_code, "kind": kind, "parent_id": ids[0] if ids else world.province_id,
                "valid_from": "2000-01-01"}
        response = await client.post("/api/v1/organisations", json=body, headers=world.h("admin"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    project = await make_project(client, world, code=f"VP-{code}", investor_id=ids[1])
    assert (await allocate(client, world, project["id"], 10 * B, level="district")).status_code == 201
    return ids[0], project


async def test_r19_a_proposal_moving_capital_across_budget_holders_is_found(client, world):
    """R1/R19: −5 tỷ from district A's project and +5 tỷ to district B's sum to 0 (r19_zero_sum is satisfied) but
    move one council's budget to another's project: each holder's pool must net to 0 by itself."""
    district_a, project_a = await _district_project(client, world, "A")
    district_b, project_b = await _district_project(client, world, "B")
    for project, kind in ((project_a, "adjustment_out"), (project_b, "adjustment_in")):
        response = await allocate(client, world, project["id"], 5 * B, level="district", kind=kind,
                                  decision="09/QĐ-UBND", decided="2024-10-01")
        assert response.status_code == 201, response.text
    proposal_id = await _proposal(client, world)
    await _inject("UPDATE allocation_entries SET reallocation_proposal_id = :pid WHERE decision_number = '09/QĐ-UBND'",
                  pid=proposal_id)
    await _inject("UPDATE reallocation_proposals SET status = 'applied' WHERE id = :pid", pid=proposal_id)
    findings = [f for f in await _findings() if f.check == "r19_across_holders"]
    details = {f.detail for f in findings}
    assert {f"pool 2024/local_balanced/district/{district}: entries sum to {amount}, not 0"
            for district, amount in ((district_a, "-5,000,000,000"), (district_b, "5,000,000,000"))} <= details
    assert "r19_zero_sum" not in await _checks()


async def test_r1_a_pool_held_by_an_organisation_of_the_wrong_kind_is_found(client, world):
    _, project = await _district_project(client, world, "A")
    await _inject("UPDATE pool_balances SET budget_holder_id = :org WHERE project_id = :pid", org=world.investor_id,
                  pid=project["id"])
    assert "r1_budget_holder" in await _checks()


async def _joint_venture(client, world) -> dict:
    """A 2 tỷ joint venture (A and B, 1 tỷ each); A advanced 200 M and paid 500 M recovering 100 M. Consistent."""
    project = await make_project(client, world, code="VP-JV", tmdt=200 * B)
    assert (await allocate(client, world, project["id"], 10 * B)).status_code == 201
    body = {"number": "LD-1", "contract_type": "construction", "contractor": "Liên danh A-B", "value_vnd": 2 * B,
            "signed_on": "2024-02-01", "full_recovery_date": "2025-05-31",
            "members": [{"name": "A", "share_vnd": B}, {"name": "B", "share_vnd": B}]}
    response = await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body, headers=world.h("owner"))
    assert response.status_code == 201, response.text
    contract = response.json()
    member_a = contract["members"][0]["id"]
    url = f"/api/v1/projects/{project['id']}/disbursements"
    for row in (disbursement_body(200 * M, "JA-1", kind="advance", contract_id=contract["id"],
                                  contract_member_id=member_a),
                disbursement_body(500 * M, "JP-1", contract_id=contract["id"], contract_member_id=member_a,
                                  advance_recovered_vnd=100 * M)):
        response = await client.post(url, json=row, headers=world.h("treasury"))
        assert response.status_code == 201, response.text
    assert await _findings() == []
    return {"project": project, "contract": contract, "member_a": member_a}


async def test_r8_joint_venture_member_drift_and_breach_are_found(client, world):
    jv = await _joint_venture(client, world)
    await _inject("UPDATE contract_members SET paid_vnd = 900000000 WHERE id = :mid", mid=jv["member_a"])
    # A's paid now says 900 M of a 1 tỷ share (90 %) with 100 M outstanding: drifted from the ledger, and past R8.
    assert await _checks() == {"contract_member", "r8_member_recovery"}


async def test_r8_joint_venture_shares_and_unnamed_movements_are_found(client, world):
    jv = await _joint_venture(client, world)
    await _inject("UPDATE contract_members SET share_vnd = 500000000 WHERE id = :mid", mid=jv["member_a"])
    await _inject("UPDATE disbursements SET contract_member_id = NULL WHERE document_number = 'JP-1'")
    checks = await _checks()
    assert {"r8_member_shares", "r8_member_named"} <= checks


async def test_a_project_investor_written_over_its_history_is_found(client, world):
    project = await make_project(client, world)
    await _inject("UPDATE projects SET investor_id = :other WHERE id = :pid", other=world.other_investor_id,
                  pid=project["id"])
    assert await _checks() == {"project_investor"}


async def test_r8_an_equipment_supply_marked_complete_behind_the_ledger_is_found(client, world):
    project = await make_project(client, world, code="VP-TB", tmdt=200 * B)
    assert (await allocate(client, world, project["id"], 10 * B)).status_code == 201
    body = {"number": "TB-1", "contract_type": "equipment", "contractor": "Công ty TB", "value_vnd": 2 * B,
            "signed_on": "2024-02-01", "full_recovery_date": "2025-05-31"}
    contract = (await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body,
                                  headers=world.h("owner"))).json()
    advance = disbursement_body(200 * M, "TB-A1", kind="advance", contract_id=contract["id"])
    assert (await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=advance,
                              headers=world.h("treasury"))).status_code == 201
    assert await _findings() == []
    await _inject("UPDATE contract_balances SET supply_completions = 1 WHERE contract_id = :cid", cid=contract["id"])
    # No completing payment in the ledger (drift), and a complete supply with 200 M outstanding (R8).
    assert await _checks() == {"contract_balance", "r8_completion_recovery"}
