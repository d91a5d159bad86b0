"""Stored indicators (indicator_snapshots): fresh after a write, rebuilt when the business date moves,
bounded on the request path, and summed consistently (groups = province totals)."""

from __future__ import annotations

from datetime import date

from app.kernel.config import get_settings
from app.monitoring import indicator_store
from tests.api.test_monitoring_indicators import B, _scenario
from tests.conftest import pay

GROUPS = ("investor", "sector", "location", "capital_source", "budget_level", "working_group", "lead_official")


async def _summary(client, world, **params):
    r = await client.get("/api/v1/summaries", params={"plan_year": 2024, **params}, headers=world.h("viewer"))
    assert r.status_code == 200, r.text
    return r.json()


async def _list(client, world, **params):
    r = await client.get("/api/v1/indicators", params={"plan_year": 2024, **params}, headers=world.h("viewer"))
    assert r.status_code == 200, r.text
    return r.json()


async def test_r17_a_write_is_reflected_in_the_next_summary(client, world):
    a, _ = await _scenario(client, world)
    before = await _summary(client, world, group_by="investor")
    assert before["computed_for"] == "2024-10-11" and before["stale"] is False
    assert before["province"]["disbursed_vnd"] == 55 * B
    await pay(client, world, a["id"], 5 * B, "A-2", "2024-10-10")
    after = await _summary(client, world, group_by="investor")
    assert after["province"]["disbursed_vnd"] == 60 * B and after["stale"] is False
    row = next(i for i in (await _list(client, world))["items"] if i["project_id"] == a["id"])
    assert row["disbursed_vnd"] == 15 * B and row["days_since_last_disbursement"] == 1
    assert "stalled" not in {f["code"] for f in row["flags"]}


async def test_r17_stored_rows_match_the_on_the_fly_indicators(client, world):
    a, b = await _scenario(client, world)
    listed = {i["project_id"]: i for i in (await _list(client, world))["items"]}
    for p in (a, b):
        live = (await client.get(f"/api/v1/projects/{p['id']}/indicators", headers=world.h("viewer"))).json()
        row = listed[p["id"]]
        for field in ("plan_vnd", "disbursed_vnd", "rate_pct", "at_risk_vnd", "days_since_last_disbursement"):
            assert row[field] == live[field], field
        assert row["forecast_vnd"] == live["forecast"]["forecast_vnd"]
        assert row["flags"] == live["flags"]


async def test_r17_a_new_business_date_recomputes_everything(client, world, set_today):
    a, _ = await _scenario(client, world)
    first = await _summary(client, world)
    assert first["computed_for"] == "2024-10-11"
    days = {i["project_id"]: i["days_since_last_disbursement"] for i in (await _list(client, world))["items"]}
    set_today(date(2024, 10, 21))
    moved = await _summary(client, world)
    assert moved["computed_for"] == "2024-10-21" and moved["stale"] is False and moved["as_of"] == "2024-10-21"
    later = {i["project_id"]: i["days_since_last_disbursement"] for i in (await _list(client, world))["items"]}
    assert later == {pid: d + 10 for pid, d in days.items()}


async def test_r17_too_many_changes_answer_stale_until_the_refresher_runs(client, world):
    a, _ = await _scenario(client, world)
    await _summary(client, world)
    settings = get_settings()
    limit = settings.indicator_sync_limit
    settings.indicator_sync_limit = 0
    try:
        await pay(client, world, a["id"], 5 * B, "A-2", "2024-10-10")
        stale = await _summary(client, world)
        assert stale["stale"] is True and stale["pending_projects"] == 1
        assert stale["province"]["disbursed_vnd"] == 55 * B  # the stored rows, said to be stale
        assert await indicator_store.refresh_once() >= 1  # the background refresher's round
        fresh = await _summary(client, world)
        assert fresh["stale"] is False and fresh["province"]["disbursed_vnd"] == 60 * B
    finally:
        settings.indicator_sync_limit = limit


async def test_r17_group_sums_equal_province_totals(client, world):
    a, b = await _scenario(client, world)
    for group_by in (*GROUPS, "watch_list"):
        data = await _summary(client, world, group_by=group_by)
        province = data["province"]
        for field in ("plan_vnd", "disbursed_vnd", "forecast_vnd", "at_risk_vnd", "absorbable_extra_vnd", "projects"):
            assert sum(g[field] for g in data["groups"]) == province[field], (group_by, field)
        for code, n in province["flag_counts"].items():
            assert sum(g["flag_counts"].get(code, 0) for g in data["groups"]) == n, (group_by, code)
    assert province["projects"] == 2 and province["flag_counts"]["stalled"] == 1
    past = await _summary(client, world, as_of="2024-10-10", group_by="investor")
    assert past["computed_for"] == "2024-10-10" and past["stale"] is False
    flagged = await _list(client, world, flag="able_to_absorb")
    assert [i["project_id"] for i in flagged["items"]] == [b["id"]] and flagged["computed_for"] == "2024-10-11"
