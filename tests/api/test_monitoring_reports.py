"""R20 reports: monthly (TT 37 shape) and watch-list progress, JSON and .xlsx, reproducible for a past as_of."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook

from tests.conftest import allocate, disbursement_body, make_person, make_project, programme_lists

B = 1_000_000_000


async def _setup(client, world, set_today=lambda day: None):
    """Every fact recorded on its own date (`set_today`), so a past report reads what was known then."""
    await programme_lists(client, world)
    lead = await make_person(client, world)
    p = await make_project(client, world, code="WL-1", watch_lists=["app2"], lead_person_id=lead["id"])
    set_today(date(2024, 1, 5))
    assert (await allocate(client, world, p["id"], 100 * B)).status_code == 201
    for doc, amount, day in (("P-1", 20, "2024-08-20"), ("P-2", 10, "2024-09-25"), ("P-3", 5, "2024-10-05")):
        set_today(date.fromisoformat(day))
        r = await client.post(
            f"/api/v1/projects/{p['id']}/disbursements",
            json=disbursement_body(amount * B, doc, value_date=day),
            headers=world.h("treasury"),
        )
        assert r.status_code == 201
    set_today(date(2024, 10, 11))
    r = await client.post(
        f"/api/v1/projects/{p['id']}/obstacles",
        headers=world.h("planner"),
        json={
            "category": "site_clearance",
            "title": "Vướng GPMB",
            "recommendation": "Đề nghị UBND huyện đẩy nhanh GPMB",
        },
    )
    assert r.status_code == 201
    return p


async def test_r20_monthly_report_splits_last_month_and_estimate(client, world, set_today):
    await _setup(client, world, set_today)
    r = await client.get("/api/v1/reports/monthly", params={"plan_year": 2024}, headers=world.h("viewer"))
    assert r.status_code == 200, r.text
    total = r.json()["total"]
    assert total["plan_vnd"] == 100 * B and total["actual_to_last_month_vnd"] == 30 * B
    assert total["actual_to_date_vnd"] == 35 * B and total["estimate_to_month_end_vnd"] >= 35 * B
    past = (
        await client.get(
            "/api/v1/reports/monthly", params={"plan_year": 2024, "as_of": "2024-09-10"}, headers=world.h("viewer")
        )
    ).json()["total"]
    assert past["actual_to_last_month_vnd"] == 20 * B and past["actual_to_date_vnd"] == 20 * B


async def test_r20_a_past_monthly_report_ignores_what_was_recorded_after_it(client, world, set_today):
    """R20: a past report reproduces exactly — a payment with a September value date recorded on 20/10 is not in the
    report as of 11/10, neither in "to the end of last month" nor "to date"."""
    p = await _setup(client, world)
    before = (await client.get("/api/v1/reports/monthly", params={"plan_year": 2024, "as_of": "2024-10-11"},
                               headers=world.h("viewer"))).json()["total"]
    set_today(date(2024, 10, 20))
    late = await client.post(f"/api/v1/projects/{p['id']}/disbursements", headers=world.h("treasury"),
                             json=disbursement_body(7 * B, "P-LATE", value_date="2024-09-20"))
    assert late.status_code == 201, late.text
    after = (await client.get("/api/v1/reports/monthly", params={"plan_year": 2024, "as_of": "2024-10-11"},
                              headers=world.h("viewer"))).json()["total"]
    assert after == before and after["actual_to_last_month_vnd"] == 30 * B and after["actual_to_date_vnd"] == 35 * B
    today = (await client.get("/api/v1/reports/monthly", params={"plan_year": 2024, "as_of": "2024-10-20"},
                              headers=world.h("viewer"))).json()["total"]
    assert today["actual_to_last_month_vnd"] == 37 * B


async def test_r20_reports_as_xlsx_open_with_openpyxl(client, world):
    await _setup(client, world)
    r = await client.get("/api/v1/reports/monthly", params={"format": "xlsx"}, headers=world.h("viewer"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active  # the layout itself: tests/api/test_report_layouts.py
    assert ws.cell(4, 1).value == "Nguồn vốn" and ws.cell(5, 2).value == 100_000  # triệu đồng
    r = await client.get("/api/v1/reports/watch-lists", params={"format": "xlsx"}, headers=world.h("viewer"))
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["APP1", "APP2", "APP3"]
    headers = [c.value for c in book["APP2"][4]]
    assert book["APP2"].cell(5, 1).value == "WL-1"
    assert "GPMB" in book["APP2"].cell(5, headers.index("Khó khăn, vướng mắc") + 1).value


async def test_r20_watch_list_report_has_flags_obstacles_recommendations(client, world):
    await _setup(client, world)
    data = (await client.get("/api/v1/reports/watch-lists", headers=world.h("viewer"))).json()
    [item] = next(a for a in data["appendices"] if a["watch_list"] == "app2")["items"]
    assert item["rate_pct"] == 35.0 and item["obstacles"][0]["title"] == "Vướng GPMB"
    assert item["recommendations"] == ["Đề nghị UBND huyện đẩy nhanh GPMB"]
    assert {f["code"] for f in item["flags"]} >= {"no_schedule"}
    bad = await client.get("/api/v1/reports/monthly", params={"format": "pdf"}, headers=world.h("viewer"))
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


async def test_xlsx_writes_formula_like_text_as_text(client, world):
    """An obstacle titled like a formula stays words in the watch-list workbook (formula injection)."""
    await programme_lists(client, world)
    p = await make_project(client, world, code="WL-2", watch_lists=["app2"])
    title = '=HYPERLINK("http://evil.example","Bấm vào đây")'
    r = await client.post(f"/api/v1/projects/{p['id']}/obstacles", headers=world.h("owner"),
                          json={"category": "procedures", "title": title})
    assert r.status_code == 201, r.text
    r = await client.get("/api/v1/reports/watch-lists", params={"format": "xlsx"}, headers=world.h("viewer"))
    sheet = load_workbook(io.BytesIO(r.content))["APP2"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(title in t for t in texts)
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
