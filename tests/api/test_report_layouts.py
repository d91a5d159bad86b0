"""R20 layouts: each report opened with openpyxl (and its CSV beside it) shows the JSON's figures in triệu đồng,
Vietnamese labels for codes, dd/mm/yyyy dates, number formats, a frozen header and print set-up."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from app.reporting.labels import CAPITAL_SOURCES, million
from tests.conftest import allocate, disbursement_body, make_person, make_project, programme_lists

B = 1_000_000_000
HEADER_ROW = 4  # three title lines: the report, its dates, the unit


async def _books(client, world):
    await programme_lists(client, world)
    lead = await make_person(client, world)
    p = await make_project(client, world, code="WL-1", watch_lists=["app2"], lead_person_id=lead["id"])
    assert (await allocate(client, world, p["id"], 100 * B + 123_456)).status_code == 201
    assert (await allocate(client, world, p["id"], 40 * B, source="central", level="central")).status_code == 201
    for doc, amount, day in (("P-1", 20 * B + 555_555, "2024-08-20"), ("P-2", 10 * B, "2024-09-25")):
        r = await client.post(f"/api/v1/projects/{p['id']}/disbursements", headers=world.h("treasury"),
                              json=disbursement_body(amount, doc, value_date=day))
        assert r.status_code == 201
    body = disbursement_body(2 * B, "A-1", kind="advance", advance_kind="other", value_date="2024-02-01")
    assert (await client.post(f"/api/v1/projects/{p['id']}/disbursements", json=body,
                              headers=world.h("treasury"))).status_code == 201


def _sheet(content: bytes, name: str | None = None):
    book = load_workbook(io.BytesIO(content))
    return book[name] if name else book.active


def _common_layout(ws, headers: list[str]) -> None:
    assert [c.value for c in ws[HEADER_ROW]][:len(headers)] == headers
    assert ws.cell(3, 1).value == "Đơn vị: triệu đồng"
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}" and ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABC")


async def test_r20_monthly_layout_in_trieu_dong_with_labels_and_csv_beside(client, world):
    await _books(client, world)
    data = (await client.get("/api/v1/reports/monthly", headers=world.h("viewer"))).json()
    ws = _sheet((await client.get("/api/v1/reports/monthly", params={"format": "xlsx"},
                                  headers=world.h("viewer"))).content)
    _common_layout(ws, ["Nguồn vốn", "Kế hoạch vốn năm (tỉnh giao)", "Trong đó: kế hoạch Thủ tướng giao",
                        "Giải ngân đến hết tháng trước", "Tỷ lệ so với KH tỉnh giao (%)",
                        "Tỷ lệ so với KH Thủ tướng giao (%)"])
    assert ws.cell(2, 1).value.startswith("Số liệu đến ngày 11/10/2024; thực hiện đến hết ngày 30/09/2024")
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert [r[0] for r in rows] == [CAPITAL_SOURCES[r["capital_source"]] for r in data["rows"]] + ["Tổng cộng"]
    total = rows[-1]
    assert Decimal(str(total[1])) == million(data["total"]["plan_vnd"]) == Decimal("140000.12")
    # R1b: every plan here is the Prime Minister's (no capital added): both rates are the same figure
    assert Decimal(str(total[2])) == million(data["total"]["assigned_plan_vnd"]) == Decimal("140000.12")
    assert Decimal(str(total[3])) == million(data["total"]["actual_to_last_month_vnd"])
    assert total[4] == data["total"]["rate_to_last_month_pct"] == total[5]
    assert ws.cell(HEADER_ROW + 1, 2).number_format == "#,##0.00"
    text = (await client.get("/api/v1/reports/monthly", params={"format": "csv"}, headers=world.h("viewer"))).text
    table = list(csv.reader(io.StringIO(text)))
    assert table[HEADER_ROW - 1][0] == "Nguồn vốn" and table[HEADER_ROW + len(data["rows"])][0] == "Tổng cộng"
    assert Decimal(table[HEADER_ROW + len(data["rows"])][1]) == million(data["total"]["plan_vnd"])


async def test_r20_watch_list_layout_labels_flags_and_totals(client, world):
    await _books(client, world)
    data = (await client.get("/api/v1/reports/watch-lists", headers=world.h("viewer"))).json()
    ws = _sheet((await client.get("/api/v1/reports/watch-lists", params={"format": "xlsx"},
                                  headers=world.h("viewer"))).content, "APP2")
    _common_layout(ws, ["Mã dự án", "Tên dự án", "Kế hoạch vốn (tỉnh giao)", "Trong đó: kế hoạch Thủ tướng giao",
                        "Đã giải ngân", "Tỷ lệ so với KH tỉnh giao (%)", "Tỷ lệ so với KH Thủ tướng giao (%)"])
    [item] = next(a for a in data["appendices"] if a["watch_list"] == "app2")["items"]
    row = [c.value for c in ws[HEADER_ROW + 1]]
    assert row[0] == "WL-1" and Decimal(str(row[2])) == million(item["plan_vnd"])
    flags = [c.value for c in ws[HEADER_ROW]].index("Cảnh báo")
    assert "Chưa đăng ký kế hoạch giải ngân" in row[flags] and "no_schedule" not in row[flags]  # words, not codes
    assert row[flags - 1] == "Phó Chủ tịch UBND tỉnh Hà Văn Mẫu"  # the lead official (R21), title and name
    assert [c.value for c in ws[HEADER_ROW + 2]][0] == "Tổng cộng"
    text = (await client.get("/api/v1/reports/watch-lists", params={"format": "csv"}, headers=world.h("viewer"))).text
    assert "WL-1" in text and "Chưa đăng ký kế hoạch giải ngân" in text


async def test_r20_advance_report_08a_layout_matches_the_json(client, world, set_today):
    set_today(date(2024, 9, 30))  # R20: the Q3 report counts what was known on 30/09
    await _books(client, world)
    set_today(date(2024, 10, 11))
    report = (await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3},
                               headers=world.h("treasury"))).json()
    ws = _sheet((await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3,
                                                                        "format": "xlsx"},
                                  headers=world.h("treasury"))).content)
    _common_layout(ws, ["STT", "Chủ đầu tư", "Mã dự án", "Tên dự án", "Dư tạm ứng", "Tạm ứng quá hạn"])
    assert ws.cell(2, 1).value == f"Số liệu đến ngày {date.fromisoformat(report['as_of']):%d/%m/%Y}"
    total = [c.value for c in ws[ws.max_row]]
    assert total[1] == "Tổng cộng" and Decimal(str(total[4])) == million(report["totals"]["outstanding_vnd"])
    assert Decimal(str(total[5])) == million(report["totals"]["overdue_vnd"]) == Decimal("2000.00")
    text = (await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3, "format": "csv"},
                             headers=world.h("treasury"))).text
    assert "Tổng cộng" in text and "2000.00" in text
