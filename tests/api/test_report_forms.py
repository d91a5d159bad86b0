"""R20: the TT 37/2025 monthly forms 01a–01d and the quarterly advance summary 08.b (docs/report-forms.md), each
as JSON, .xlsx and CSV, with figures computed by hand in triệu đồng, both R1b rates, R1a (ứng trước) apart on
01c/01d, the extended capital (R14) on 01a/01b, Vietnamese headers, a frozen header and number formats."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from tests.conftest import allocate, disbursement_body, make_project

B = 1_000_000_000
HEADER_ROW = 4  # the form's title, its dates, the unit


async def _post(client, world, project_id, amount, doc, day, *, year=2024, on=lambda day: None, **extra):
    on(day)
    r = await client.post(f"/api/v1/projects/{project_id}/disbursements", headers=world.h("treasury"),
                          json=disbursement_body(amount, doc, value_date=day, year=year, **extra))
    assert r.status_code == 201, r.text


async def _monthly_world(client, world, on=lambda day: None) -> None:
    """FA-1: 2024 local plan 100 tỷ from the Prime Minister's plan + 20 tỷ the province added (R1b) + 10 tỷ advanced
    from 2025's plan (R1a), of which 2025's first 4 tỷ repay 4; disbursed 30 + 9 by 30/09, 3 more on 05/10.
    FB-1: 2024 land-use plan 50 tỷ, 5 tỷ disbursed in July; its 2023 local plan of 10 tỷ, 6 spent in 2023, 4
    extended into 2024 (R14), of which 1 tỷ disbursed in March and 2 on 03/10."""
    on("2023-01-05")  # every fact is recorded on its own date, so a past form reads what was known then
    a = (await make_project(client, world, code="FA-1"))["id"]
    b = (await make_project(client, world, code="FB-1"))["id"]
    for project, amount, extra in ((a, 100 * B, {}),
                                   (a, 20 * B, {"kind": "supplement", "decision": "02/QĐ-UBND", "decided": "2024-03-01",
                                                "added_vnd": 20 * B}),
                                   (a, 10 * B, {"kind": "next_year_advance", "decision": "950/QĐ-UBND",
                                                "decided": "2024-08-01"}),
                                   (a, 4 * B, {"year": 2025, "decision": "45/QĐ-UBND", "decided": "2024-09-20"}),
                                   (b, 50 * B, {"source": "land_use"}),
                                   (b, 10 * B, {"year": 2023, "decided": "2023-01-05"})):
        on(extra.get("decided", "2024-01-05"))
        r = await allocate(client, world, project, amount, **extra)
        assert r.status_code == 201, r.text
    await _post(client, world, b, 6 * B, "KB-23", "2023-06-10", year=2023, on=on)
    on("2023-12-20")
    r = await allocate(client, world, b, 4 * B, year=2023, kind="extension", decision="EXT-23", decided="2023-12-20",
                       extended_until="2024-12-31")
    assert r.status_code == 201, r.text
    await _post(client, world, b, 1 * B, "KB-EXT-1", "2024-03-10", year=2023, on=on)
    await _post(client, world, b, 2 * B, "KB-EXT-2", "2024-10-03", year=2023, on=on)
    await _post(client, world, b, 5 * B, "KB-LU", "2024-07-01", capital_source="land_use", on=on)
    for doc, amount, day in (("KB-1", 30 * B, "2024-08-20"), ("KB-2", 9 * B, "2024-09-25"),
                             ("KB-3", 3 * B, "2024-10-05")):
        await _post(client, world, a, amount, doc, day, on=on)
    on("2024-10-11")


def _recording_days(set_today):
    return lambda day: set_today(date.fromisoformat(day))


async def _form(client, world, form: str, fmt: str = "json", **params):
    r = await client.get(f"/api/v1/reports/monthly/forms/{form}", params={"format": fmt, **params},
                         headers=world.h("viewer"))
    assert r.status_code == 200, r.text
    return r


def _sheet(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def _m(value) -> Decimal:
    return Decimal(str(value))


def _by_header(ws, row: int) -> dict[str, object]:
    return {ws.cell(HEADER_ROW, c).value: ws.cell(row, c).value for c in range(1, ws.max_column + 1)}


def _layout(ws, form: str) -> None:
    assert ws.title == f"Mau {form}"
    assert ws.cell(1, 1).value.startswith(f"Biểu mẫu số {form} (Thông tư 37/2025/TT-BTC")
    assert ws.cell(2, 1).value == "Số liệu đến ngày 11/10/2024; lũy kế thực hiện đến hết ngày 30/09/2024"
    assert ws.cell(3, 1).value == "Đơn vị: triệu đồng"
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}" and ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.page_setup.orientation == "landscape"


async def test_r20_form_01a_per_capital_source_with_both_rates_and_extended_capital(client, world):
    await _monthly_world(client, world)
    data = (await _form(client, world, "01a")).json()
    assert (data["form"], data["plan_year"], data["last_month_end"]) == ("01a", 2024, "2024-09-30")
    assert [r["capital_source"] for r in data["rows"]] == ["land_use", "local_balanced"]
    land, local = data["rows"]
    assert (land["plan_vnd"], land["assigned_plan_vnd"], land["actual_to_last_month_vnd"]) == (50 * B, 50 * B, 5 * B)
    assert (land["rate_to_last_month_pct"], land["rate_to_last_month_of_assigned_plan_pct"]) == (10.0, 10.0)
    # R1b: 130 tỷ of the province's plan (100 + 20 added + 10 advanced), 110 of it not added by the province
    assert (local["plan_vnd"], local["assigned_plan_vnd"], local["added_plan_vnd"]) == (130 * B, 110 * B, 20 * B)
    assert local["actual_to_last_month_vnd"] == 39 * B  # the 3 tỷ of 05/10 are this month's
    assert (local["rate_to_last_month_pct"], local["rate_to_last_month_of_assigned_plan_pct"]) == (30.0, 35.45)
    # R14: 4 tỷ of 2023 extended; 1 disbursed by 30/09, 3 by the report date (the estimate)
    assert (local["extended_plan_vnd"], local["extended_to_last_month_vnd"], local["extended_estimate_vnd"],
            local["extended_estimate_rate_pct"]) == (4 * B, 1 * B, 3 * B, 75.0)
    total = data["total"]
    assert (total["plan_vnd"], total["assigned_plan_vnd"], total["actual_to_last_month_vnd"]) == (180 * B, 160 * B,
                                                                                                 44 * B)
    assert (total["rate_to_last_month_pct"], total["rate_to_last_month_of_assigned_plan_pct"]) == (24.44, 27.5)
    # the estimate is the monthly report's, never computed a second time
    monthly = (await client.get("/api/v1/reports/monthly", headers=world.h("viewer"))).json()
    assert [r["estimate_to_month_end_vnd"] for r in data["rows"]] == [
        r["estimate_to_month_end_vnd"] for r in monthly["rows"]]
    assert total["estimate_to_month_end_vnd"] >= 42 * B + 5 * B  # at least what is disbursed by 11/10

    ws = _sheet((await _form(client, world, "01a", "xlsx")).content)
    _layout(ws, "01a")
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers[:8] == ["STT", "Nguồn vốn", "Kế hoạch vốn năm (tỉnh giao)", "Trong đó: kế hoạch Thủ tướng giao",
                           "Trong đó: tỉnh giao tăng", "Lũy kế giải ngân đến hết tháng trước",
                           "Tỷ lệ so với KH tỉnh giao (%)", "Tỷ lệ so với KH Thủ tướng giao (%)"]
    assert "Kế hoạch các năm trước kéo dài" in headers and "Trong đó: ứng trước kế hoạch năm sau" not in headers
    row = _by_header(ws, HEADER_ROW + 2)
    assert row["Nguồn vốn"] == "Cân đối ngân sách địa phương" and row["STT"] == 2
    assert _m(row["Kế hoạch vốn năm (tỉnh giao)"]) == Decimal("130000.00")
    assert _m(row["Trong đó: kế hoạch Thủ tướng giao"]) == Decimal("110000.00")
    assert _m(row["Lũy kế giải ngân đến hết tháng trước"]) == Decimal("39000.00")
    assert row["Tỷ lệ so với KH Thủ tướng giao (%)"] == 35.45
    assert _m(row["Giải ngân vốn kéo dài đến hết tháng trước"]) == Decimal("1000.00")
    total_row = _by_header(ws, HEADER_ROW + 3)
    assert total_row["Nguồn vốn"] == "Tổng cộng" and _m(total_row["Kế hoạch vốn năm (tỉnh giao)"]) == Decimal("180000")
    assert ws.cell(HEADER_ROW + 1, 3).number_format == "#,##0.00"
    assert ws.cell(HEADER_ROW + 1, 7).number_format == "0.00"

    table = list(csv.reader(io.StringIO((await _form(client, world, "01a", "csv")).text)))
    assert table[HEADER_ROW - 1][:3] == ["STT", "Nguồn vốn", "Kế hoạch vốn năm (tỉnh giao)"]
    assert table[HEADER_ROW + 1][1:4] == ["Cân đối ngân sách địa phương", "130000.00", "110000.00"]
    assert table[HEADER_ROW + 2][1] == "Tổng cộng" and table[HEADER_ROW + 2][5] == "44000.00"


async def test_r20_form_01b_per_project_and_source(client, world):
    await _monthly_world(client, world)
    data = (await _form(client, world, "01b")).json()
    assert [(r["project_code"], r["capital_source"]) for r in data["rows"]] == [
        ("FA-1", "local_balanced"), ("FB-1", "land_use"), ("FB-1", "local_balanced")]
    extended_only = data["rows"][2]
    assert (extended_only["plan_vnd"], extended_only["extended_plan_vnd"], extended_only["extended_estimate_vnd"],
            extended_only["rate_to_last_month_of_assigned_plan_pct"]) == (0, 4 * B, 3 * B, None)
    assert data["total"]["estimate_to_month_end_vnd"] == sum(r["estimate_to_month_end_vnd"] for r in data["rows"])
    by_source = (await _form(client, world, "01a")).json()
    assert data["total"] == by_source["total"]  # the same figures, only grouped differently

    ws = _sheet((await _form(client, world, "01b", "xlsx")).content)
    _layout(ws, "01b")
    assert [c.value for c in ws[HEADER_ROW]][:4] == ["STT", "Mã dự án", "Tên dự án", "Nguồn vốn"]
    first = _by_header(ws, HEADER_ROW + 1)
    assert (first["Mã dự án"], first["Tên dự án"]) == ("FA-1", "Dự án FA-1")
    assert _m(first["Trong đó: tỉnh giao tăng"]) == Decimal("20000.00")
    assert _by_header(ws, HEADER_ROW + 4)["Tên dự án"] == "Tổng cộng"
    text = (await _form(client, world, "01b", "csv")).text
    assert "FB-1,Dự án FB-1,Tiền sử dụng đất,50000.00" in text


async def test_r20_forms_01c_01d_show_the_next_year_advance_apart(client, world, set_today):
    await _monthly_world(client, world, _recording_days(set_today))
    data = (await _form(client, world, "01c")).json()
    local = next(r for r in data["rows"] if r["capital_source"] == "local_balanced")
    # R1a: 10 tỷ advanced from 2025's plan; 2025's first 4 tỷ (decided 20/09) repaid 4; 6 left to repay
    assert (local["next_year_advance_vnd"], local["next_year_advance_repaid_vnd"],
            local["next_year_advance_unrepaid_vnd"], local["advance_repayment_vnd"]) == (10 * B, 4 * B, 6 * B, 0)
    ws = _sheet((await _form(client, world, "01c", "xlsx")).content)
    _layout(ws, "01c")
    headers = [c.value for c in ws[HEADER_ROW]]
    assert headers[5:9] == ["Trong đó: ứng trước kế hoạch năm sau", "Đã thu hồi từ kế hoạch năm sau",
                            "Còn phải thu hồi vốn ứng trước", "Thu hồi vốn ứng trước năm trước từ KH năm nay"]
    assert "Kế hoạch các năm trước kéo dài" not in headers
    row = _by_header(ws, HEADER_ROW + 2)
    assert _m(row["Còn phải thu hồi vốn ứng trước"]) == Decimal("6000.00")
    assert _m(row["Tỷ lệ so với KH tỉnh giao (%)"]) == Decimal("30.00")

    # 2025's form: its first 4 tỷ repaid 2024's advance, so its plan is 0 and the repayment shows apart
    [next_year] = (await _form(client, world, "01c", plan_year=2025)).json()["rows"]
    assert (next_year["plan_vnd"], next_year["advance_repayment_vnd"], next_year["next_year_advance_vnd"]) == (
        0, 4 * B, 0)

    # A month earlier (31/08) the 2025 plan was not decided yet: nothing repaid; the figures are as known then.
    earlier = (await _form(client, world, "01d", as_of="2024-08-31")).json()
    [fa] = [r for r in earlier["rows"] if r["project_code"] == "FA-1"]
    assert (fa["next_year_advance_vnd"], fa["next_year_advance_repaid_vnd"], fa["actual_to_last_month_vnd"]) == (
        10 * B, 0, 0)
    text = (await _form(client, world, "01d", "csv", as_of="2024-08-31")).text
    assert "Đã thu hồi từ kế hoạch năm sau" in text and "FA-1,Dự án FA-1,Cân đối ngân sách địa phương" in text
    ws = _sheet((await _form(client, world, "01d", "xlsx")).content)
    assert ws.title == "Mau 01d" and ws.freeze_panes == f"A{HEADER_ROW + 1}"


async def test_r20_unknown_form_code_is_422(client, world):
    r = await client.get("/api/v1/reports/monthly/forms/01e", headers=world.h("viewer"))
    assert r.status_code == 422
    r = await client.get("/api/v1/reports/advances", params={"year": 2024, "quarter": 3, "form": "08c"},
                         headers=world.h("treasury"))
    assert r.status_code == 422


async def test_r20_form_08b_per_investor_as_of_the_quarter_end(client, world, set_today):
    """08.b regroups the 08.a report (advances outstanding on 30/09 through books.advances_outstanding_on)."""
    set_today(date(2024, 9, 30))
    a = (await make_project(client, world, code="FA-1"))["id"]
    b = (await make_project(client, world, code="FB-1"))["id"]
    c = (await make_project(client, world, code="DD-1", investor_id=world.other_investor_id))["id"]
    for p in (a, b, c):
        assert (await allocate(client, world, p, 50 * B)).status_code == 201
    for p, amount, doc, day in ((a, 2 * B, "A-1", "2024-02-01"), (b, 1 * B, "A-2", "2024-09-10"),
                                (c, 3 * B, "A-3", "2024-01-15")):
        await _post(client, world, p, amount, doc, day, kind="advance", advance_kind="other")
    set_today(date(2024, 10, 11))
    await _post(client, world, c, 1 * B, "A-4", "2024-10-02", kind="advance", advance_kind="other")  # Q4: not here
    params = {"year": 2024, "quarter": 3}
    detail = (await client.get("/api/v1/reports/advances", params=params, headers=world.h("treasury"))).json()
    r = await client.get("/api/v1/reports/advances", params={**params, "form": "08b"}, headers=world.h("treasury"))
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["form"], data["as_of"]) == ("08b", "2024-09-30")
    assert [(i["investor_name"], i["projects"], i["outstanding_vnd"], i["overdue_vnd"]) for i in data["items"]] == [
        ("Ban QLDA dân dụng", 1, 3 * B, 3 * B), ("Ban QLDA giao thông", 2, 3 * B, 2 * B)]
    assert data["items"][1]["overdue_share_pct"] == 66.67 and data["overdue_share_pct"] == round(5 * 100 / 6, 2)
    assert data["totals"] == detail["totals"] and data["totals"]["outstanding_vnd"] == 6 * B

    ws = _sheet((await client.get("/api/v1/reports/advances", params={**params, "form": "08b", "format": "xlsx"},
                                  headers=world.h("treasury"))).content)
    assert ws.title == "Mau 08b" and ws.cell(1, 1).value.startswith("Biểu mẫu số 08.b")
    assert ws.cell(2, 1).value == "Số liệu đến ngày 30/09/2024" and ws.cell(3, 1).value == "Đơn vị: triệu đồng"
    assert [c.value for c in ws[HEADER_ROW]][:5] == ["STT", "Chủ đầu tư", "Số dự án có dư tạm ứng", "Dư tạm ứng",
                                                     "Tạm ứng quá hạn"]
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}" and ws.cell(HEADER_ROW + 1, 4).number_format == "#,##0.00"
    first, total = _by_header(ws, HEADER_ROW + 1), _by_header(ws, HEADER_ROW + 3)
    assert first["Chủ đầu tư"] == "Ban QLDA dân dụng" and _m(first["Quá hạn khác (R11)"]) == Decimal("3000.00")
    assert total["Chủ đầu tư"] == "Tổng cộng" and _m(total["Tạm ứng quá hạn"]) == Decimal("5000.00")
    assert total["Số dự án có dư tạm ứng"] == 3
    text = (await client.get("/api/v1/reports/advances", params={**params, "form": "08b", "format": "csv"},
                             headers=world.h("treasury"))).text
    assert "Ban QLDA giao thông,2,3000.00,2000.00" in text
