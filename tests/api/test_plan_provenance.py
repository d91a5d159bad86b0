"""R1b plan provenance over HTTP: who assigned each allocation, and both rates wherever a rate is shown.

Figures by hand, in tỷ (B). Project A (local_balanced): initial 80, supplement 20 of which 20 added by the province
→ plan 100 = 80 of the Prime Minister's + 20 added; paid 60. Project B (land_use): supplement 10, all added; paid 5.
"""

from __future__ import annotations

from tests.api.test_reallocation_api import APPROVAL
from tests.api.test_reallocation_api import _draft as draft
from tests.api.test_reallocation_api import _pools as pools
from tests.api.test_reallocation_api import _step as step
from tests.conftest import allocate, make_project, pay

B = 1_000_000_000


async def _small_world(client, world) -> tuple[dict, dict]:
    a = await make_project(client, world, code="A-PTG", tmdt=200 * B)
    b = await make_project(client, world, code="B-GT", tmdt=200 * B)
    assert (await allocate(client, world, a["id"], 80 * B)).status_code == 201
    r = await allocate(client, world, a["id"], 20 * B, kind="supplement", decision="02/QĐ-UBND", added_vnd=20 * B)
    assert r.status_code == 201, r.text
    assert (r.json()["added_vnd"], r.json()["assigned_vnd"]) == (20 * B, 0)
    r = await allocate(client, world, b["id"], 10 * B, source="land_use", kind="supplement", added_vnd=10 * B)
    assert r.status_code == 201, r.text
    await pay(client, world, a["id"], 60 * B, "A-1", "2024-06-10")
    body = {"plan_year": 2024, "capital_source": "land_use", "budget_level": "province", "kind": "payment",
            "amount_vnd": 5 * B, "value_date": "2024-06-12", "document_number": "B-1"}
    assert (await client.post(f"/api/v1/projects/{b['id']}/disbursements", json=body,
                              headers=world.h("treasury"))).status_code == 201
    return a, b


async def test_r1b_both_rates_on_pools_indicators_summaries_and_reports(client, world):
    a, b = await _small_world(client, world)
    [pool] = (await client.get(f"/api/v1/projects/{a['id']}/balances", headers=world.h("viewer"))).json()["pools"]
    # A: 60 ÷ 100 = 60.00% of the province's plan; 60 ÷ 80 = 75.00% of the Prime Minister's
    assert (pool["plan_vnd"], pool["assigned_plan_vnd"], pool["added_plan_vnd"]) == (100 * B, 80 * B, 20 * B)
    assert (pool["rate_pct"], pool["rate_of_assigned_plan_pct"]) == (60.0, 75.0)
    [pool] = (await client.get(f"/api/v1/projects/{b['id']}/balances", headers=world.h("viewer"))).json()["pools"]
    # B holds only added capital: 5 ÷ 10 = 50% of the province's plan, and no Prime Minister's plan to rate against
    assert (pool["rate_pct"], pool["rate_of_assigned_plan_pct"], pool["assigned_plan_vnd"]) == (50.0, None, 0)
    ind = (await client.get(f"/api/v1/projects/{a['id']}/indicators", headers=world.h("viewer"))).json()
    assert (ind["rate_pct"], ind["rate_of_assigned_plan_pct"], ind["added_plan_vnd"]) == (60.0, 75.0, 20 * B)
    # Province: plan 110 = 80 + 30 added, disbursed 65 → 65 ÷ 110 = 59.0909… → 59.09%; 65 ÷ 80 = 81.25%
    summary = (await client.get("/api/v1/summaries", params={"plan_year": 2024, "group_by": "capital_source"},
                                headers=world.h("viewer"))).json()
    province = summary["province"]
    assert (province["plan_vnd"], province["assigned_plan_vnd"], province["added_plan_vnd"]) == (110 * B, 80 * B,
                                                                                                 30 * B)
    assert (province["rate_pct"], province["rate_of_assigned_plan_pct"]) == (59.09, 81.25)
    groups = {g["key"]: g for g in summary["groups"]}
    assert groups["land_use"]["rate_of_assigned_plan_pct"] is None and groups["local_balanced"]["rate_pct"] == 60.0
    rows = (await client.get("/api/v1/indicators", params={"plan_year": 2024}, headers=world.h("viewer"))).json()
    assert {r["code"]: r["rate_of_assigned_plan_pct"] for r in rows["items"]} == {"A-PTG": 75.0, "B-GT": None}
    # The monthly report of 11/10: both payments are before 30/09, so "to last month" = 65 over both plans
    total = (await client.get("/api/v1/reports/monthly", params={"plan_year": 2024},
                              headers=world.h("viewer"))).json()["total"]
    assert (total["plan_vnd"], total["assigned_plan_vnd"]) == (110 * B, 80 * B)
    assert (total["rate_to_last_month_pct"], total["rate_to_last_month_of_assigned_plan_pct"]) == (59.09, 81.25)
    secret = world.h("viewer")["Authorization"].removeprefix("Bearer ")
    signed = await client.post("/dashboard/sign-in", content=f"key={secret}&next=/dashboard/overview",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert signed.status_code == 303
    page = (await client.get("/dashboard/overview", params={"plan_year": 2024})).text
    # the dashboard shows both: 59,09 (the province's plan) and 81,25 (the Prime Minister's), Vietnamese decimals
    assert 'data-figure="rate_of_assigned_plan_pct" data-value="81.25"' in page and "81,25" in page
    assert 'data-figure="rate_pct" data-value="59.09"' in page


async def test_r1b_a_decrease_takes_each_part_from_what_the_pool_holds(client, world):
    a, _ = await _small_world(client, world)
    # The pool holds 80 of the Prime Minister's plan and 20 added; 40 unspent (R1 allows a 40 cut).
    refused = await allocate(client, world, a["id"], 30 * B, kind="adjustment_out", decision="03/QĐ-UBND",
                             added_vnd=25 * B)
    body = refused.json()
    assert refused.status_code == 422 and body["code"] == "provenance_plan_exceeded"
    # a 30 cut takes 0..20 of the added part (at most what is held; at least 30 − 80 < 0 → 0)
    assert (body["allowed_min_added_vnd"], body["allowed_max_added_vnd"]) == (0, 20 * B)
    assert (body["assigned_plan_vnd"], body["added_plan_vnd"]) == (80 * B, 20 * B)
    over = await allocate(client, world, a["id"], 10 * B, kind="supplement", decision="04/QĐ-UBND", added_vnd=11 * B)
    assert over.status_code == 422 and over.json()["code"] == "added_exceeds_amount"
    ok = await allocate(client, world, a["id"], 30 * B, kind="adjustment_out", decision="03/QĐ-UBND",
                        added_vnd=20 * B)
    assert ok.status_code == 201 and (ok.json()["amount_vnd"], ok.json()["added_vnd"]) == (-30 * B, -20 * B)
    [pool] = (await client.get(f"/api/v1/projects/{a['id']}/balances", headers=world.h("viewer"))).json()["pools"]
    # plan 70 = 70 of the Prime Minister's + 0 added; 60 ÷ 70 = 85.714… → 85.71% on both
    assert (pool["plan_vnd"], pool["added_plan_vnd"]) == (70 * B, 0)
    assert pool["rate_pct"] == pool["rate_of_assigned_plan_pct"] == 85.71


async def test_r1b_a_transfer_keeps_its_donors_provenance_added_first(client, world):
    d, r = await pools(client, world)  # donor: 100 of the Prime Minister's plan, 10 spent; recipient needs 30
    extra = await allocate(client, world, d["id"], 20 * B, kind="supplement", decision="02/QĐ-UBND", added_vnd=20 * B)
    assert extra.status_code == 201  # donor: 120 = 100 of the Prime Minister's + 20 added
    p, etag = await draft(client, world)
    [t] = p["transfers"]
    moved = t["amount_vnd"]
    resp = await step(client, world, p["id"], "submit", etag, "planner")
    resp = await step(client, world, p["id"], "approve", resp.headers["ETag"], "approver", APPROVAL)
    resp = await step(client, world, p["id"], "apply", resp.headers["ETag"], "planner")
    assert resp.status_code == 200, resp.text
    entries = {}
    for pid in (d["id"], r["id"]):
        for e in (await client.get(f"/api/v1/projects/{pid}/allocations", headers=world.h("viewer"))).json()["items"]:
            if e["kind"].startswith("adjustment"):
                entries[e["kind"]] = e
    # The donor gives the 20 added first, then the Prime Minister's plan: of the 30 moved (the recipient's need),
    # 20 are added and 10 the Prime Minister's.
    assert moved == 30 * B
    added = 20 * B
    assert (entries["adjustment_out"]["amount_vnd"], entries["adjustment_out"]["added_vnd"]) == (-moved, -added)
    assert (entries["adjustment_in"]["amount_vnd"], entries["adjustment_in"]["added_vnd"]) == (moved, added)
    # Zero-sum for each provenance: Σ added = 0 and Σ assigned = 0 over the proposal's entries.
    assert entries["adjustment_out"]["assigned_vnd"] + entries["adjustment_in"]["assigned_vnd"] == 0


async def test_r1b_an_envelope_carries_its_own_provenance(client, world):
    _, r = await pools(client, world)
    body = {"plan_year": 2024, "envelope": {"capital_source": "local_balanced", "budget_level": "province",
                                            "amount_vnd": 5 * B, "tranche": 3},
            "options": {"minimum_transfer_vnd": 1 * B}}
    resp = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner"))
    assert resp.status_code == 201, resp.text
    p = resp.json()
    assert p["moved_vnd"] == 5 * B  # the recipient needs 30 and can absorb the 5
    resp = await step(client, world, p["id"], "submit", resp.headers["ETag"], "planner")
    resp = await step(client, world, p["id"], "approve", resp.headers["ETag"], "approver", APPROVAL)
    resp = await step(client, world, p["id"], "apply", resp.headers["ETag"], "planner")
    assert resp.status_code == 200, resp.text
    [supplement] = [e for e in (await client.get(f"/api/v1/projects/{r['id']}/allocations",
                                                 headers=world.h("viewer"))).json()["items"] if e["tranche"] == 3]
    # default provenance of an envelope: added by the province (a tranche of its own capital)
    assert (supplement["kind"], supplement["amount_vnd"], supplement["added_vnd"]) == ("supplement", 5 * B, 5 * B)
