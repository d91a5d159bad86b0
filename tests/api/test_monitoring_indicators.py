"""R17/R18 over HTTP: schedules (revisions kept), extra needs, indicators with flags, list, summaries."""

from __future__ import annotations

from datetime import date

from tests.conftest import allocate, make_project, pay

B = 1_000_000_000  # 1 tỷ


async def _scenario(client, world):
    """Slow+stalled project A (10% spent, nothing since March) and a fast project B with an extra need."""
    a = await make_project(client, world, code="A-SLOW", tmdt=500 * B)
    b = await make_project(client, world, code="B-FAST", tmdt=500 * B, stage="completed")
    assert (await allocate(client, world, a["id"], 100 * B)).status_code == 201
    assert (await allocate(client, world, b["id"], 50 * B)).status_code == 201
    await pay(client, world, a["id"], 10 * B, "A-1", "2024-03-15")
    for i, (amount, day) in enumerate([(10, "2024-05-10"), (10, "2024-07-10"), (12, "2024-09-10"), (13, "2024-10-08")]):
        await pay(client, world, b["id"], amount * B, f"B-{i}", day)
    r = await client.post(
        f"/api/v1/projects/{b['id']}/extra-needs",
        headers=world.h("owner"),
        json={
            "plan_year": 2024,
            "capital_source": "local_balanced",
            "budget_level": "province",
            "amount_vnd": 30 * B,
            "justification": "Khối lượng hoàn thành chờ thanh toán",
            "spend_by": "2024-12-31",
        },
    )
    assert r.status_code == 201, r.text
    return a, b


async def test_r17_schedule_revisions_keep_the_first(client, world):
    p = await make_project(client, world)
    url = f"/api/v1/projects/{p['id']}/schedules"
    first = {"plan_year": 2024, "months": [{"month": 6, "amount_vnd": 5 * B}, {"month": 9, "amount_vnd": 5 * B}]}
    assert (await client.post(url, json=first, headers=world.h("owner"))).status_code == 201
    second = {"plan_year": 2024, "months": [{"month": 11, "amount_vnd": 10 * B}]}
    r = await client.post(url, json=second, headers=world.h("owner"))
    assert r.status_code == 201 and r.json()["revision"] == 2
    listed = (await client.get(url, params={"plan_year": 2024}, headers=world.h("viewer"))).json()["items"]
    assert [(s["revision"], s["is_current"], s["total_vnd"]) for s in listed] == [(1, False, 10 * B), (2, True, 10 * B)]
    assert listed[0]["months"] == first["months"]


async def test_r17_schedule_write_is_owner_scoped(client, world):
    p = await make_project(client, world)
    url = f"/api/v1/projects/{p['id']}/schedules"
    body = {"plan_year": 2024, "months": [{"month": 6, "amount_vnd": B}]}
    r = await client.post(url, json=body, headers=world.h("other_owner"))
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(url, json=body, headers=world.h("viewer"))
    assert r.status_code == 403
    bad = await client.post(
        url, json={"plan_year": 2024, "months": [{"month": 14, "amount_vnd": B}]}, headers=world.h("owner")
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"


async def test_r17_milestone_curve_defaults_to_95_pct_and_is_data(client, world):
    r = await client.get("/api/v1/milestone-curves/2024", headers=world.h("viewer"))
    assert r.json()["is_default"] is True and r.json()["points"][-1] == {"on_date": "2025-01-31", "target_pct": 95.0}
    body = {"points": [{"on_date": "2024-09-30", "target_pct": 50}, {"on_date": "2025-01-31", "target_pct": 95}]}
    assert (await client.put("/api/v1/milestone-curves/2024", json=body, headers=world.h("owner"))).status_code == 403
    r = await client.put("/api/v1/milestone-curves/2024", json=body, headers=world.h("planner"))
    assert r.status_code == 200
    r = await client.get("/api/v1/milestone-curves/2024", headers=world.h("viewer"))
    assert r.json()["is_default"] is False and len(r.json()["points"]) == 2


async def test_r18_flags_carry_reasons_and_numbers(client, world):
    a, b = await _scenario(client, world)
    r = await client.get(
        f"/api/v1/projects/{a['id']}/indicators", params={"plan_year": 2024}, headers=world.h("viewer")
    )
    assert r.status_code == 200, r.text
    ind = r.json()
    assert ind["plan_vnd"] == 100 * B and ind["disbursed_vnd"] == 10 * B and ind["rate_pct"] == 10.0
    assert ind["last_disbursement_on"] == "2024-03-15" and ind["days_since_last_disbursement"] == 210
    flags = {f["code"]: f for f in ind["flags"]}
    assert {"slow", "stalled", "at_risk", "no_schedule"} <= set(flags)
    assert flags["stalled"]["reason"] == "no_disbursement_since"
    assert flags["stalled"]["numbers"]["days_without_disbursement"] == 210
    assert flags["slow"]["reason"] == "behind_milestone" and flags["slow"]["numbers"]["margin_pp"] == 10
    assert flags["at_risk"]["numbers"]["at_risk_vnd"] == ind["at_risk_vnd"] > 0
    assert ind["forecast"]["low_vnd"] <= ind["forecast"]["forecast_vnd"] <= ind["forecast"]["high_vnd"]
    assert ind["overdue_advance_vnd"] in (0, None)

    fast = (await client.get(f"/api/v1/projects/{b['id']}/indicators", headers=world.h("viewer"))).json()
    codes = {f["code"] for f in fast["flags"]}
    assert "able_to_absorb" in codes and "stalled" not in codes
    assert 0 < fast["absorbable_extra_vnd"] <= 30 * B and fast["registered_extra_need_vnd"] == 30 * B


async def test_r18_a_supplement_decided_after_the_need_answers_it(client, world):
    """R18: the open need is the registered need less the supplements decided for the project since it was
    registered (a tranche answers the need it was given for); one decided before answers nothing."""
    _, b = await _scenario(client, world)  # B registered 30 tỷ on 11/10 (the test clock)
    earlier = await allocate(client, world, b["id"], 5 * B, kind="supplement", decided="2024-06-20")
    assert earlier.status_code == 201, earlier.text
    url = f"/api/v1/projects/{b['id']}/indicators"
    assert (await client.get(url, headers=world.h("viewer"))).json()["registered_extra_need_vnd"] == 30 * B
    given = await allocate(client, world, b["id"], 20 * B, kind="supplement", decided="2024-10-11", tranche=3,
                           decision="2378/QĐ-UBND")
    assert given.status_code == 201, given.text
    now = (await client.get(url, headers=world.h("viewer"))).json()
    assert now["registered_extra_need_vnd"] == 10 * B and 0 <= now["absorbable_extra_vnd"] <= 10 * B
    # capital moved in by a reallocation answers it too (a draft made after it must not give it again)
    moved = await allocate(client, world, b["id"], 4 * B, kind="adjustment_in", decided="2024-10-11",
                           decision="2400/QĐ-UBND")
    assert moved.status_code == 201, moved.text
    assert (await client.get(url, headers=world.h("viewer"))).json()["registered_extra_need_vnd"] == 6 * B
    # as known the day before, nothing had answered it (and the need was not yet registered)
    before = (await client.get(url, params={"as_of": "2024-10-10"}, headers=world.h("viewer"))).json()
    assert before["registered_extra_need_vnd"] == 0


async def test_r18_schedule_comparison_and_past_as_of(client, world):
    a, _ = await _scenario(client, world)
    body = {"plan_year": 2024, "months": [{"month": 3, "amount_vnd": 30 * B}, {"month": 12, "amount_vnd": 70 * B}]}
    assert (
        await client.post(f"/api/v1/projects/{a['id']}/schedules", json=body, headers=world.h("owner"))
    ).status_code == 201
    ind = (await client.get(f"/api/v1/projects/{a['id']}/indicators", headers=world.h("viewer"))).json()
    assert ind["scheduled_to_date_vnd"] == 30 * B and ind["vs_schedule_pp"] == -20.0
    slow = next(f for f in ind["flags"] if f["code"] == "slow")
    assert slow["reason"] == "behind_schedule_and_milestone"
    # As known on 2024-03-01: no disbursement yet, and the schedule was not registered then.
    past = (
        await client.get(
            f"/api/v1/projects/{a['id']}/indicators", params={"as_of": "2024-03-01"}, headers=world.h("viewer")
        )
    ).json()
    assert past["disbursed_vnd"] == 0 and past["scheduled_to_date_vnd"] is None


async def test_r18_indicator_list_filters_and_pages(client, world):
    a, b = await _scenario(client, world)
    r = await client.get("/api/v1/indicators", params={"plan_year": 2024, "page_size": 1}, headers=world.h("viewer"))
    page = r.json()
    assert r.status_code == 200 and len(page["items"]) == 1 and page["next_page_token"]
    r2 = await client.get(
        "/api/v1/indicators",
        params={"plan_year": 2024, "page_size": 1, "page_token": page["next_page_token"]},
        headers=world.h("viewer"),
    )
    assert [i["project_id"] for i in page["items"] + r2.json()["items"]] == [a["id"], b["id"]]
    stalled = await client.get("/api/v1/indicators", params={"flag": "stalled"}, headers=world.h("viewer"))
    assert [i["code"] for i in stalled.json()["items"]] == ["A-SLOW"]
    bad = await client.get("/api/v1/indicators", params={"page_token": "zzz"}, headers=world.h("viewer"))
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


async def test_r17_summaries_groups_sum_to_province_totals(client, world):
    await _scenario(client, world)
    for group_by in (
        "investor",
        "sector",
        "location",
        "capital_source",
        "budget_level",
        "working_group",
        "lead_official",
    ):
        r = await client.get(
            "/api/v1/summaries",
            params={"plan_year": 2024, "group_by": group_by, "sort": "-rate"},
            headers=world.h("viewer"),
        )
        assert r.status_code == 200, r.text
        data = r.json()
        for field in ("plan_vnd", "disbursed_vnd", "forecast_vnd", "at_risk_vnd"):
            assert sum(g[field] for g in data["groups"]) == data["province"][field], (group_by, field)
    province = data["province"]
    assert province["plan_vnd"] == 150 * B and province["disbursed_vnd"] == 55 * B
    assert province["flag_counts"]["stalled"] == 1
    bad = await client.get(
        "/api/v1/summaries", params={"group_by": "investor", "sort": "nope"}, headers=world.h("viewer")
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_sort"


async def test_schedule_and_need_retries_with_the_same_idempotency_key_record_once(client, world):
    p = await make_project(client, world)
    headers = world.h("owner", **{"Idempotency-Key": "schedule-1"})
    url = f"/api/v1/projects/{p['id']}/schedules"
    body = {"plan_year": 2024, "months": [{"month": 11, "amount_vnd": 4 * B}]}
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json() and first.json()["revision"] == 1
    listed = (await client.get(url, params={"plan_year": 2024}, headers=world.h("viewer"))).json()["items"]
    assert len(listed) == 1
    need = {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "amount_vnd": B,
            "justification": "Khối lượng hoàn thành chờ thanh toán", "spend_by": "2024-12-31"}
    need_url = f"/api/v1/projects/{p['id']}/extra-needs"
    need_headers = world.h("owner", **{"Idempotency-Key": "need-1"})
    assert (await client.post(need_url, json=need, headers=need_headers)).status_code == 201
    other = await client.post(need_url, json={**need, "amount_vnd": 2 * B}, headers=need_headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_r18_a_previous_year_that_disbursed_nothing_net_falls_back_to_the_national_shape(client, world):
    """R17/R18 regression, found by the simulator (seed 20241011; a 500 on every indicator read, first seen while
    drafting a proposal): 2023's only payment, in January 2024, was reversed that month, so 2023's shape is 0
    throughout and cannot be brought to 95%; the national curve stands in. The one test of this bug (its twins,
    tests/api/test_seasonal_shape_regression.py and an R17 copy, are gone)."""
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10_000_000_000, year=2023,
                           decided="2023-01-05")).status_code == 201
    assert (await allocate(client, world, project["id"], 10_000_000_000)).status_code == 201
    paid = await client.post(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("treasury"),
                             json={"plan_year": 2023, "capital_source": "local_balanced", "budget_level": "province",
                                   "kind": "payment", "amount_vnd": 1_000_000_000, "value_date": "2024-01-10",
                                   "document_number": "KB-23"})
    assert paid.status_code == 201, paid.text
    reversal = await client.post(f"/api/v1/disbursements/{paid.json()['id']}/reversal", headers=world.h("treasury"),
                                 json={"document_number": "KB-23-R", "value_date": "2024-01-15", "note": "sai"})
    assert reversal.status_code == 201, reversal.text
    await pay(client, world, project["id"], 1_000_000_000, "KB-24", "2024-06-10")
    answer = await client.get(f"/api/v1/projects/{project['id']}/indicators", headers=world.h("planner"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["milestone_target_pct"] > 0


async def test_r17_last_years_shape_is_measured_on_its_plan_at_the_deadline(client, world):
    """R17: 2023's shape is what it disbursed of the plan it had at its deadline (31/01/2024): 9 of 10 tỷ is 90%,
    even after the unspent 1 tỷ lapsed on 15/03/2024 (measured on the plan after the lapse it read 100%)."""
    from app.kernel.db import session_scope
    from app.monitoring.indicators import seasonal_curve

    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10 * B, year=2023, decided="2023-01-05")).status_code == 201
    for doc, amount, day in (("KB-1", 4, "2023-06-10"), ("KB-2", 5, "2024-01-20")):
        r = await client.post(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("treasury"),
                              json={"plan_year": 2023, "capital_source": "local_balanced", "budget_level": "province",
                                    "kind": "payment", "amount_vnd": amount * B, "value_date": day,
                                    "document_number": doc})
        assert r.status_code == 201, r.text
    lapse = await allocate(client, world, project["id"], B, year=2023, kind="lapse", decided="2024-03-15",
                           decision="513/QĐ-UBND")
    assert lapse.status_code == 201, lapse.text
    async with session_scope() as session:
        shape = await seasonal_curve(session, 2024)
    assert shape.final == 0.9


async def test_r17_last_years_shape_is_as_known_on_the_day(client, world, set_today):
    """R17/R20: a past report keeps the shape it was computed with — a 2023 payment recorded on 20/10/2024 does not
    change last year's shape as known on 11/10/2024 (it is in the shape known from 20/10)."""
    from app.kernel.db import session_scope
    from app.monitoring.indicators import seasonal_curve

    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10 * B, year=2023, decided="2023-01-05")).status_code == 201

    async def pay_2023(doc: str, amount: int, day: str) -> None:
        r = await client.post(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("treasury"),
                              json={"plan_year": 2023, "capital_source": "local_balanced", "budget_level": "province",
                                    "kind": "payment", "amount_vnd": amount * B, "value_date": day,
                                    "document_number": doc})
        assert r.status_code == 201, r.text

    set_today(date(2024, 1, 31))
    await pay_2023("KB-1", 8, "2024-01-20")
    set_today(date(2024, 10, 20))
    await pay_2023("KB-LATE", 1, "2023-12-15")  # back-dated, recorded on 20/10/2024
    async with session_scope() as session:
        then = await seasonal_curve(session, 2024, date(2024, 10, 11))
        now = await seasonal_curve(session, 2024, date(2024, 10, 20))
    assert (then.final, now.final) == (0.8, 0.9)
