"""The demo's plan model through the API (DOMAIN.md §6): R1b provenance at 30/09/2024 and after the third tranche,
both rates shown, and R1c medium-term plans 2021–2025 consistent with the annual plans."""

from __future__ import annotations

from app.demo import province
from app.enums import Role
from app.kernel.db import session_scope
from app.registry import organisations

TY = 1_000_000_000


async def test_demo_splits_the_2024_plan_by_who_assigned_it_and_shows_both_rates(client):
    async with session_scope() as session:
        context = await province.load(session)
        _, secret = await organisations.create_api_key(session, organisation_id=context.organisations["STC"],
                                                       role=Role.viewer, name="test viewer")
    viewer = {"Authorization": f"Bearer {secret}"}
    sep30 = (await client.get("/api/v1/summaries", params={"plan_year": 2024, "as_of": "2024-09-30"},
                              headers=viewer)).json()["province"]
    # §6: plan ≈ 7,895 tỷ = ≈ 7,776 of the Prime Minister's + 118.8 added (exactly, in the demo)
    assert sep30["plan_vnd"] == 7_895 * TY and sep30["added_plan_vnd"] == 118_800_000_000
    assert sep30["assigned_plan_vnd"] == 7_776_200_000_000
    # one disbursed figure over two plans: d ÷ 7,895 and d ÷ 7,776.2
    d = sep30["disbursed_vnd"]
    assert sep30["rate_pct"] == round(d * 100 / (7_895 * TY), 2)
    assert sep30["rate_of_assigned_plan_pct"] == round(d * 100 / 7_776_200_000_000, 2)
    assert 50.0 <= sep30["rate_pct"] < sep30["rate_of_assigned_plan_pct"] <= 52.5
    # After the third tranche (08/10, ≈ 1,000 tỷ of the province's own capital) the Prime Minister's plan is unchanged
    now = (await client.get("/api/v1/summaries", params={"plan_year": 2024}, headers=viewer)).json()["province"]
    assert now["assigned_plan_vnd"] == 7_776_200_000_000
    assert now["added_plan_vnd"] == now["plan_vnd"] - 7_776_200_000_000 > 1_000 * TY
    # R1c: every 2024 project has its medium-term plan with headroom left for 2025
    pid = context.projects[0].id
    plan = (await client.get(f"/api/v1/projects/{pid}/medium-term-plans", headers=viewer)).json()
    [ceiling] = plan["ceilings"]
    assert ceiling["period"] == "2021-2025" and 0 < ceiling["headroom_vnd"] < ceiling["ceiling_vnd"]
