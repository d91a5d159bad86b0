"""R19 over HTTP: proposals drafted from the data, the workflow, and all-or-nothing application."""

from __future__ import annotations

from tests.conftest import allocate, make_project, pay

B = 1_000_000_000
PROBLEM = "application/problem+json"


async def _pools(client, world):
    """Donor D: 100 tỷ plan, 10 spent in March, stalled. Recipient R: completed, pace > plan, needs 30 tỷ."""
    d = await make_project(client, world, code="D-DONOR", tmdt=500 * B)
    r = await make_project(client, world, code="R-RECIP", tmdt=500 * B, stage="completed")
    assert (await allocate(client, world, d["id"], 100 * B)).status_code == 201
    assert (await allocate(client, world, r["id"], 50 * B)).status_code == 201
    await pay(client, world, d["id"], 10 * B, "D-1", "2024-03-15")
    for i, (amount, day) in enumerate([(10, "2024-05-10"), (10, "2024-07-10"), (12, "2024-09-10"), (13, "2024-10-08")]):
        await pay(client, world, r["id"], amount * B, f"R-{i}", day)
    need = {
        "plan_year": 2024,
        "capital_source": "local_balanced",
        "budget_level": "province",
        "amount_vnd": 30 * B,
        "justification": "Khối lượng hoàn thành chờ thanh toán",
        "spend_by": "2024-12-31",
    }
    assert (
        await client.post(f"/api/v1/projects/{r['id']}/extra-needs", json=need, headers=world.h("owner"))
    ).status_code == 201
    return d, r


async def _draft(client, world):
    body = {
        "plan_year": 2024,
        "pools": [{"capital_source": "local_balanced", "budget_level": "province"}],
        "options": {"minimum_transfer_vnd": 1 * B},
    }
    resp = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner"))
    assert resp.status_code == 201, resp.text
    return resp.json(), resp.headers["ETag"]


async def _step(client, world, pid, step, etag, role, body=None):
    return await client.post(
        f"/api/v1/reallocation-proposals/{pid}/{step}", json=body, headers=world.h(role, **{"If-Match": etag})
    )


APPROVAL = {"authority": "UBND tỉnh Vĩnh Phúc", "decision_number": "2500/QĐ-UBND", "decision_date": "2024-10-11"}


async def test_r19_draft_lists_candidates_transfers_and_greedy(client, world):
    d, r = await _pools(client, world)
    p, _ = await _draft(client, world)
    assert p["status"] == "draft" and p["transfer_count"] == 1
    [t] = p["transfers"]
    assert (t["donor_project_id"], t["recipient_project_id"]) == (d["id"], r["id"])
    assert 0 < t["amount_vnd"] <= 30 * B and t["amount_vnd"] % 1_000_000 == 0 and t["reason"]
    [donor] = p["analysis"]["donors"]
    [recipient] = p["analysis"]["recipients"]
    assert donor["surplus_vnd"] >= t["amount_vnd"] and donor["floor_vnd"] >= 10 * B
    assert recipient["capacity_vnd"] >= t["amount_vnd"] and recipient["priority"] == "completed"
    assert recipient["limited_by"] in ("registered_need", "tmdt_headroom", "pace_capacity")
    assert p["analysis"]["greedy"]["moved_vnd"] <= p["moved_vnd"]
    assert p["expected_rate_after"] >= p["expected_rate_before"]
    assert p["analysis"]["in_flight_source"]


async def test_r19_full_workflow_writes_paired_zero_sum_entries(client, world):
    d, r = await _pools(client, world)
    p, etag = await _draft(client, world)
    amount = p["transfers"][0]["amount_vnd"]
    resp = await _step(client, world, p["id"], "submit", etag, "planner")
    assert resp.status_code == 200 and resp.json()["status"] == "submitted"
    resp = await _step(client, world, p["id"], "approve", resp.headers["ETag"], "approver", APPROVAL)
    assert resp.status_code == 200 and resp.json()["decision_number"] == "2500/QĐ-UBND"
    resp = await _step(client, world, p["id"], "apply", resp.headers["ETag"], "planner")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "applied"
    out = (await client.get(f"/api/v1/projects/{d['id']}/allocations", headers=world.h("viewer"))).json()["items"]
    inn = (await client.get(f"/api/v1/projects/{r['id']}/allocations", headers=world.h("viewer"))).json()["items"]
    adj = [e for e in out + inn if e["kind"].startswith("adjustment")]
    assert sorted((e["kind"], e["amount_vnd"]) for e in adj) == [("adjustment_in", amount), ("adjustment_out", -amount)]
    assert all(e["decision_number"] == "2500/QĐ-UBND" for e in adj)
    feed = await client.get(
        "/api/v1/events", params={"after": 0, "types": "reallocation_proposal.applied"}, headers=world.h("viewer")
    )
    assert feed.status_code == 200


async def test_r19_approver_must_differ_from_drafter(client, world):
    await _pools(client, world)
    p, etag = await _draft(client, world)
    resp = await _step(client, world, p["id"], "submit", etag, "planner")
    # The admin key may draft and approve; drafting with it then approving with it is refused.
    body = {"plan_year": 2024, "options": {"minimum_transfer_vnd": 1 * B}}
    own = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("admin"))
    own_sub = await _step(client, world, own.json()["id"], "submit", own.headers["ETag"], "admin")
    refused = await _step(client, world, own.json()["id"], "approve", own_sub.headers["ETag"], "admin", APPROVAL)
    assert refused.status_code == 403 and refused.json()["code"] == "approver_is_drafter"
    assert refused.headers["content-type"].startswith(PROBLEM)
    ok = await _step(client, world, p["id"], "approve", resp.headers["ETag"], "approver2", APPROVAL)
    assert ok.status_code == 200
    viewer = await _step(client, world, p["id"], "apply", ok.headers["ETag"], "viewer")
    assert viewer.status_code == 403


async def test_r19_transitions_need_if_match_and_follow_the_order(client, world):
    await _pools(client, world)
    p, etag = await _draft(client, world)
    missing = await client.post(f"/api/v1/reallocation-proposals/{p['id']}/submit", headers=world.h("planner"))
    assert missing.status_code == 428 and missing.headers["content-type"].startswith(PROBLEM)
    stale = await _step(client, world, p["id"], "submit", '"proposal-1-v0"', "planner")
    assert stale.status_code == 412
    early = await _step(client, world, p["id"], "apply", etag, "planner")
    assert early.status_code == 409 and early.json()["code"] == "illegal_transition"
    rej = await _step(client, world, p["id"], "reject", etag, "approver", {"reason": "Chưa đủ căn cứ"})
    assert rej.status_code == 200 and rej.json()["status"] == "rejected"
    again = await _step(client, world, p["id"], "submit", rej.headers["ETag"], "planner")
    assert again.status_code == 409


async def test_r19_apply_after_conflicting_disbursement_fails_whole_and_changes_nothing(client, world):
    d, r = await _pools(client, world)
    p, etag = await _draft(client, world)
    sub = await _step(client, world, p["id"], "submit", etag, "planner")
    appr = await _step(client, world, p["id"], "approve", sub.headers["ETag"], "approver", APPROVAL)
    # The donor disburses after drafting: its plan can no longer give what the proposal takes.
    await pay(client, world, d["id"], 85 * B, "D-2", "2024-10-11")
    before = (await client.get("/api/v1/summaries", params={"group_by": "investor"}, headers=world.h("viewer"))).json()[
        "province"
    ]
    resp = await _step(client, world, p["id"], "apply", appr.headers["ETag"], "planner")
    assert resp.status_code == 409 and resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["code"] == "proposal_stale"
    assert body["problems"][0]["code"] == "donor_below_disbursed" and body["problems"][0]["short_vnd"] > 0
    after = (await client.get("/api/v1/summaries", params={"group_by": "investor"}, headers=world.h("viewer"))).json()[
        "province"
    ]
    assert after["plan_vnd"] == before["plan_vnd"] == 150 * B
    for pid in (d["id"], r["id"]):
        entries = (await client.get(f"/api/v1/projects/{pid}/allocations", headers=world.h("viewer"))).json()
        assert [e["kind"] for e in entries["items"]] == ["initial"]
    still = (await client.get(f"/api/v1/reallocation-proposals/{p['id']}", headers=world.h("viewer"))).json()
    assert still["status"] == "approved"


async def test_r19_envelope_mode_distributes_a_tranche_and_applies_supplements(client, world):
    """Envelope mode: new capital (đợt 3) to the projects able to absorb it; nothing is taken from the donor, and
    applying writes supplement entries (tranche 3) summing to what was distributed."""
    from app.kernel.db import session_scope
    from app.ledger.verify import check_all

    d, r = await _pools(client, world)
    body = {"plan_year": 2024, "options": {"minimum_transfer_vnd": 1 * B},
            "envelope": {"capital_source": "local_balanced", "budget_level": "province", "amount_vnd": 100 * B,
                         "tranche": 3}}
    both = await client.post("/api/v1/reallocation-proposals", json={**body, "pools": []},
                             headers=world.h("planner"))
    assert both.status_code == 422
    resp = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner"))
    assert resp.status_code == 201, resp.text
    p = resp.json()
    assert (p["mode"], p["envelope_vnd"], p["tranche"]) == ("envelope", 100 * B, 3)
    [t] = p["transfers"]
    assert t["donor_project_id"] is None and t["recipient_project_id"] == r["id"]
    [recipient] = p["analysis"]["recipients"]
    assert t["amount_vnd"] == recipient["capacity_vnd"] <= 30 * B  # the rest of 100 tỷ: nobody can absorb it
    assert p["moved_vnd"] == t["amount_vnd"] and p["analysis"]["donors"] == []
    resp = await _step(client, world, p["id"], "submit", resp.headers["ETag"], "planner")
    resp = await _step(client, world, p["id"], "approve", resp.headers["ETag"], "approver", APPROVAL)
    resp = await _step(client, world, p["id"], "apply", resp.headers["ETag"], "planner")
    assert resp.status_code == 200, resp.text
    entries = (await client.get(f"/api/v1/projects/{r['id']}/allocations", headers=world.h("viewer"))).json()["items"]
    [supplement] = [e for e in entries if e["kind"] == "supplement"]
    assert (supplement["amount_vnd"], supplement["tranche"]) == (p["moved_vnd"], 3)
    donor_entries = (await client.get(f"/api/v1/projects/{d['id']}/allocations", headers=world.h("viewer"))).json()
    assert [e["kind"] for e in donor_entries["items"]] == ["initial"]
    async with session_scope() as session:
        assert await check_all(session) == []
