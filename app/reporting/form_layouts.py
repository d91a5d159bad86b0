"""R20: the TT 37/2025 forms 01a–01d and the advance summary 08.b as `layouts.Table`s (triệu đồng, Vietnamese
labels, dd/mm/yyyy, number formats, frozen header, print set-up: all from `layouts.xlsx` / `layouts.csv`).

The column split is our reading of the circular's Article 4 (docs/report-forms.md): the annex tables themselves
could not be read here, so each title line says so ("bố cục theo Điều 4").
"""

from __future__ import annotations

from typing import Any

from app.reporting import labels
from app.reporting.forms import DETAILED, WITH_NEXT_YEAR_ADVANCE, MonthlyForm
from app.reporting.layouts import UNIT, Col, Table

TITLES = {
    MonthlyForm.f01a: "TỔNG HỢP TÌNH HÌNH GIẢI NGÂN KẾ HOẠCH VỐN ĐẦU TƯ CÔNG NĂM {year} THEO NGUỒN VỐN",
    MonthlyForm.f01b: "CHI TIẾT TÌNH HÌNH GIẢI NGÂN KẾ HOẠCH VỐN ĐẦU TƯ CÔNG NĂM {year} THEO DỰ ÁN",
    MonthlyForm.f01c: "TỔNG HỢP TÌNH HÌNH GIẢI NGÂN KẾ HOẠCH VỐN NĂM {year} VÀ VỐN ỨNG TRƯỚC KẾ HOẠCH NĂM SAU",
    MonthlyForm.f01d: "CHI TIẾT TÌNH HÌNH GIẢI NGÂN KẾ HOẠCH VỐN NĂM {year} VÀ VỐN ỨNG TRƯỚC THEO DỰ ÁN",
}
PLAN = [("plan_vnd", Col("Kế hoạch vốn năm (tỉnh giao)", "amount")),
        ("assigned_plan_vnd", Col("Trong đó: kế hoạch Thủ tướng giao", "amount")),
        ("added_plan_vnd", Col("Trong đó: tỉnh giao tăng", "amount"))]
DISBURSED = [("actual_to_last_month_vnd", Col("Lũy kế giải ngân đến hết tháng trước", "amount")),
             ("rate_to_last_month_pct", Col("Tỷ lệ so với KH tỉnh giao (%)", "pct", 12)),
             ("rate_to_last_month_of_assigned_plan_pct", Col("Tỷ lệ so với KH Thủ tướng giao (%)", "pct", 12)),
             ("estimate_to_month_end_vnd", Col("Ước giải ngân đến hết tháng báo cáo", "amount")),
             ("estimate_rate_pct", Col("Tỷ lệ ước so với KH tỉnh giao (%)", "pct", 12)),
             ("estimate_rate_of_assigned_plan_pct", Col("Tỷ lệ ước so với KH Thủ tướng giao (%)", "pct", 12))]
EXTENDED = [("extended_plan_vnd", Col("Kế hoạch các năm trước kéo dài", "amount")),
            ("extended_to_last_month_vnd", Col("Giải ngân vốn kéo dài đến hết tháng trước", "amount")),
            ("extended_estimate_vnd", Col("Ước giải ngân vốn kéo dài đến hết tháng", "amount")),
            ("extended_estimate_rate_pct", Col("Tỷ lệ ước so với KH kéo dài (%)", "pct", 12))]
NEXT_YEAR = [("next_year_advance_vnd", Col("Trong đó: ứng trước kế hoạch năm sau", "amount")),
             ("next_year_advance_repaid_vnd", Col("Đã thu hồi từ kế hoạch năm sau", "amount")),
             ("next_year_advance_unrepaid_vnd", Col("Còn phải thu hồi vốn ứng trước", "amount")),
             ("advance_repayment_vnd", Col("Thu hồi vốn ứng trước năm trước từ KH năm nay", "amount"))]


def _columns(form: MonthlyForm) -> list[tuple[str, Col]]:
    head = [("capital_source", Col("Nguồn vốn", width=30, words=labels.CAPITAL_SOURCES))]
    if form in DETAILED:
        head = [("project_code", Col("Mã dự án", width=16)), ("project_name", Col("Tên dự án", width=44)), *head]
    money = [*PLAN, *(NEXT_YEAR if form in WITH_NEXT_YEAR_ADVANCE else []), *DISBURSED,
             *([] if form in WITH_NEXT_YEAR_ADVANCE else EXTENDED)]
    return [("n", Col("STT", "count", 6)), *head, *money]


def monthly_form(data: dict) -> list[Table]:
    """One of the forms 01a–01d (`forms.monthly_form`): a row per capital source, or per project and source."""
    form = MonthlyForm(data["form"])
    columns = _columns(form)
    rows = [[n if k == "n" else r[k] for k, _ in columns] for n, r in enumerate(data["rows"], start=1)]
    total: list[Any] = [data["total"].get(k) for k, _ in columns]
    total[0], total[1 if form not in DETAILED else 2] = None, "Tổng cộng"
    if form in DETAILED:
        total[3] = None
    titles = [f"Biểu mẫu số {form.value} (Thông tư 37/2025/TT-BTC, bố cục theo Điều 4) — "
              + TITLES[form].format(year=data["plan_year"]),
              f"Số liệu đến ngày {labels.date_text(data['as_of'])}; lũy kế thực hiện đến hết ngày "
              f"{labels.date_text(data['last_month_end'])}", UNIT]
    return [Table(f"Mau {form.value}", titles, [c for _, c in columns], rows, total)]


def advance_summary(report: dict) -> list[Table]:
    """Form 08.b (`forms.advance_summary`): the quarterly advance report per investor."""
    columns = [Col("STT", "count", 6), Col("Chủ đầu tư", width=40), Col("Số dự án có dư tạm ứng", "count", 12),
               Col("Dư tạm ứng", "amount"), Col("Tạm ứng quá hạn", "amount"),
               Col("Quá hạn theo hợp đồng (R9)", "amount"), Col("Quá hạn bồi thường, GPMB (R10)", "amount"),
               Col("Quá hạn khác (R11)", "amount"), Col("Tỷ lệ quá hạn/dư tạm ứng (%)", "pct", 12),
               Col("Sắp đến hạn", "amount"), Col("Nguyên nhân", width=40),
               Col("Giải pháp, biện pháp thu hồi", width=40)]
    rules = ("R9", "R10", "R11")
    rows = [[n, i["investor_name"], i["projects"], i["outstanding_vnd"], i["overdue_vnd"],
             *[i["overdue_by_rule_vnd"][r] for r in rules], i["overdue_share_pct"], i["due_soon_vnd"],
             "; ".join(i["reasons"]), "; ".join(i["remedies"])] for n, i in enumerate(report["items"], start=1)]
    t = report["totals"]
    total = [None, "Tổng cộng", sum(i["projects"] for i in report["items"]), t["outstanding_vnd"], t["overdue_vnd"],
             *[sum(i["overdue_by_rule_vnd"][r] for i in report["items"]) for r in rules], report["overdue_share_pct"],
             t["due_soon_vnd"], "", ""]
    titles = [f"Biểu mẫu số 08.b — TỔNG HỢP TÌNH HÌNH TẠM ỨNG VỐN ĐẦU TƯ CÔNG THEO CHỦ ĐẦU TƯ QUÝ "
              f"{report['quarter']}/{report['year']}", f"Số liệu đến ngày {labels.date_text(report['as_of'])}", UNIT]
    return [Table("Mau 08b", titles, columns, rows, total)]
