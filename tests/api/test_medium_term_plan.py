"""R1c medium-term plans over HTTP: the ceiling of a project's annual plans per period and source, on every
allocation and on reallocation recipients. Figures by hand, in tỷ (B)."""

from __future__ import annotations

from tests.api.test_reallocation_api import _draft as draft
from tests.api.test_reallocation_api import _pools as pools
from tests.conftest import MEDIUM_TERM_CEILING, allocate, make_project, plan_medium_term

B = 1_000_000_000


async def test_r1c_an_allocation_beyond_the_ceiling_is_refused_with_the_headroom(client, world):
    project = await make_project(client, world, tmdt=500 * B)
    pid = project["id"]
    missing = await allocate(client, world, pid, 60 * B, year=2023, decided="2023-01-05", medium_term=False)
    assert missing.status_code == 422 and missing.json()["code"] == "medium_term_plan_missing"
    assert (missing.json()["period"], missing.json()["capital_source"]) == ("2021-2025", "local_balanced")
    assert (await plan_medium_term(client, world, pid, 150 * B, decision="31/NQ-HĐND")).status_code == 201
    assert (await allocate(client, world, pid, 60 * B, year=2023, decided="2023-01-05", medium_term=False)
            ).status_code == 201
    assert (await allocate(client, world, pid, 70 * B, medium_term=False)).status_code == 201
    # ceiling 150, annual plans 60 (2023) + 70 (2024) = 130 → headroom 20: a 25 supplement breaks it
    over = await allocate(client, world, pid, 25 * B, kind="supplement", decision="02/QĐ-UBND", medium_term=False)
    body = over.json()
    assert over.status_code == 422 and body["code"] == "medium_term_ceiling_exceeded"
    assert (body["remaining_vnd"], body["ceiling_vnd"], body["annual_plans_vnd"]) == (20 * B, 150 * B, 130 * B)
    assert body["errors"][0]["pointer"] == "/amount_vnd" and over.headers["content-type"].startswith(
        "application/problem+json")
    # exactly the headroom fits; another period (2026–2030) has no plan yet
    assert (await allocate(client, world, pid, 20 * B, kind="supplement", decision="02/QĐ-UBND", medium_term=False)
            ).status_code == 201
    later = await allocate(client, world, pid, 1 * B, year=2026, medium_term=False)
    assert later.status_code == 422 and later.json()["period"] == "2026-2030"
    plan = (await client.get(f"/api/v1/projects/{pid}/medium-term-plans", headers=world.h("viewer"))).json()
    [ceiling] = plan["ceilings"]
    assert (ceiling["period"], ceiling["ceiling_vnd"], ceiling["annual_plans_vnd"], ceiling["headroom_vnd"]) == (
        "2021-2025", 150 * B, 150 * B, 0)
    assert [e["decision_number"] for e in plan["entries"]] == ["31/NQ-HĐND"]


async def test_r1c_adjusting_the_ceiling_is_a_decision_and_never_goes_below_the_annual_plans(client, world):
    pid = (await make_project(client, world, tmdt=500 * B))["id"]
    assert (await plan_medium_term(client, world, pid, 100 * B, decision="31/NQ-HĐND")).status_code == 201
    assert (await allocate(client, world, pid, 90 * B, medium_term=False)).status_code == 201
    # annual 90 of a ceiling of 100: it may go down by 10 at most
    cut = await plan_medium_term(client, world, pid, 11 * B, kind="adjustment_out", decision="45/NQ-HĐND",
                                 decided="2024-07-10")
    assert cut.status_code == 422 and cut.json()["code"] == "medium_term_below_annual_plans"
    assert cut.json()["remaining_vnd"] == 10 * B
    again = await plan_medium_term(client, world, pid, 5 * B, decision="46/NQ-HĐND")
    assert again.status_code == 422 and again.json()["code"] == "medium_term_plan_exists"
    up = await plan_medium_term(client, world, pid, 15 * B, kind="adjustment_in", decision="45/NQ-HĐND",
                                decided="2024-07-10")
    assert up.status_code == 201 and (up.json()["amount_vnd"], up.json()["kind"]) == (15 * B, "adjustment_in")
    duplicate = await plan_medium_term(client, world, pid, 15 * B, kind="adjustment_in", decision="45/NQ-HĐND",
                                       decided="2024-07-10")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_medium_term_entry"
    # a lapse of the annual plan frees its share of the ceiling: 115 − (90 − 20) = 45 of headroom
    assert (await allocate(client, world, pid, 20 * B, kind="lapse", decision="09/QĐ-UBND")).status_code == 201
    [ceiling] = (await client.get(f"/api/v1/projects/{pid}/medium-term-plans",
                                  headers=world.h("viewer"))).json()["ceilings"]
    assert (ceiling["ceiling_vnd"], ceiling["annual_plans_vnd"], ceiling["headroom_vnd"]) == (115 * B, 70 * B, 45 * B)
    owner = await client.post(f"/api/v1/projects/{pid}/medium-term-plans", headers=world.h("owner"), json={
        "period": "2021-2025", "capital_source": "local_balanced", "kind": "adjustment_in", "amount_vnd": 1 * B,
        "decision_number": "x", "decision_date": "2024-07-10", "authority": "x"})
    assert owner.status_code == 403  # planners own plans, never the project owner
    # a period is five plan years from 2021: 2022–2026 is no period
    odd = await client.post(f"/api/v1/projects/{pid}/medium-term-plans", headers=world.h("planner"), json={
        "period": "2022-2026", "capital_source": "local_balanced", "kind": "initial", "amount_vnd": 1 * B,
        "decision_number": "x", "decision_date": "2024-07-10", "authority": "x"})
    assert odd.status_code == 422 and odd.json()["errors"][0]["pointer"] == "/period"


async def test_r1c_a_reallocation_recipient_without_headroom_is_not_chosen(client, world):
    d, r = await pools(client, world)  # the recipient needs 30 and can spend them; its plan is 50
    # Its medium-term ceiling brought down to its annual plans: 50 of 50 → no headroom.
    cut = await plan_medium_term(client, world, r["id"], MEDIUM_TERM_CEILING - 50 * B, kind="adjustment_out",
                                 decision="45/NQ-HĐND", decided="2024-07-10")
    assert cut.status_code == 201, cut.text
    p, _ = await draft(client, world)
    assert p["transfer_count"] == 0 and p["moved_vnd"] == 0
    [recipient] = p["analysis"]["recipients"]
    assert (recipient["capacity_vnd"], recipient["limited_by"], recipient["excluded"]) == (
        0, "medium_term_headroom", "no_capacity")
    # 7 of headroom recorded: the optimiser gives exactly 7, not the 30 it needs
    assert (await plan_medium_term(client, world, r["id"], 7 * B, kind="adjustment_in", decision="46/NQ-HĐND",
                                   decided="2024-08-10")).status_code == 201
    p, _ = await draft(client, world)
    [t] = p["transfers"]
    assert (t["donor_project_id"], t["recipient_project_id"], t["amount_vnd"]) == (d["id"], r["id"], 7 * B)
    assert p["analysis"]["recipients"][0]["limited_by"] == "medium_term_headroom"
