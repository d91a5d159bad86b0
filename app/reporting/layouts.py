"""R20 report layouts as people file them: Vietnamese labels for every code, amounts in triệu đồng, dd/mm/yyyy
dates, number formats, column widths, a frozen header, print set-up (A4 landscape, one page wide, the header on
every page) — and the same table as CSV beside every workbook.

A report is a `Table`: title lines, typed columns and rows of values as the JSON gives them (đồng, ISO dates,
codes); the writer converts once, so the workbook, the CSV and a test reading either agree with the JSON.
Cells go through `cells.append` / `cells.csv_text` (formula-like text neutralised).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, cast

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from app.reporting import cells, labels

Kind = Literal["text", "amount", "pct", "date", "count"]
FORMATS = {"amount": "#,##0.00", "pct": "0.00", "date": "dd/mm/yyyy", "count": "#,##0"}
UNIT = "Đơn vị: triệu đồng"
NON_BUDGET = "Dự án đầu tư ngoài ngân sách: không có kế hoạch vốn và giải ngân vốn nhà nước"


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    kind: Kind = "text"
    width: int = 18
    words: dict[str, str] | None = None  # code → Vietnamese label


@dataclass(slots=True)
class Table:
    sheet: str
    titles: list[str]
    columns: list[Col]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None


def cell(col: Col, value: Any) -> Any:
    """A JSON value as the layout shows it: triệu đồng, a date, a Vietnamese word."""
    if value is None or value == "":
        return None
    if col.kind == "amount":
        return labels.million(int(value))
    if col.kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if col.words is not None:
        return labels.label(col.words, value)
    return value


def _shown(table: Table, row: list[Any]) -> list[Any]:
    return [cell(c, v) for c, v in zip(table.columns, row, strict=True)]


def xlsx(tables: list[Table]) -> bytes:
    wb = Workbook()
    wb.remove(cast(Worksheet, wb.active))
    for table in tables:
        ws = wb.create_sheet(cells.sheet_title(table.sheet))
        for title in table.titles:
            cells.append(ws, [title])
        ws.cell(row=1, column=1).font = Font(bold=True, size=12)
        header_row = len(table.titles) + 1
        cells.append(ws, [c.header for c in table.columns])
        for item in ws[header_row]:
            item.font = Font(bold=True)
            item.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for row in table.rows:
            cells.append(ws, _shown(table, row))
        if table.total is not None:
            cells.append(ws, _shown(table, table.total))
            for item in ws[ws.max_row]:
                item.font = Font(bold=True)
        for index, col in enumerate(table.columns, start=1):
            letter = ws.cell(row=header_row, column=index).column_letter
            ws.column_dimensions[letter].width = col.width
            if col.kind in FORMATS:
                for (item,) in ws.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
                    item.number_format = FORMATS[col.kind]
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        ws.print_title_rows = f"{header_row}:{header_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv(tables: list[Table]) -> str:
    """The same tables as CSV (amounts in triệu đồng with a '.' decimal point, dates dd/mm/yyyy)."""
    out: list[list[Any]] = []
    for table in tables:
        out += [[t] for t in table.titles] + [[c.header for c in table.columns]]
        for row in [*table.rows, *([table.total] if table.total is not None else [])]:
            out.append([labels.date_text(v) if isinstance(v, date) else v for v in _shown(table, row)])
        out.append([])
    return cells.csv_text(out)


def monthly(data: dict) -> list[Table]:
    """The monthly report (`reports.monthly`): one row per capital source, then the total."""
    keys = ["capital_source", "plan_vnd", "assigned_plan_vnd", "actual_to_last_month_vnd", "rate_to_last_month_pct",
            "rate_to_last_month_of_assigned_plan_pct", "actual_to_date_vnd", "actual_to_date_confirmed_vnd",
            "estimate_to_month_end_vnd", "estimate_rate_pct", "estimate_rate_of_assigned_plan_pct", "extended_plan_vnd",
            "extended_disbursed_vnd", "advance_outstanding_last_month_vnd"]
    columns = [Col("Nguồn vốn", width=32, words=labels.CAPITAL_SOURCES), Col("Kế hoạch vốn năm (tỉnh giao)", "amount"),
               Col("Trong đó: kế hoạch Thủ tướng giao", "amount"),
               Col("Giải ngân đến hết tháng trước", "amount"), Col("Tỷ lệ so với KH tỉnh giao (%)", "pct", 12),
               Col("Tỷ lệ so với KH Thủ tướng giao (%)", "pct", 12),
               Col("Giải ngân đến ngày báo cáo", "amount"), Col("Trong đó: Kho bạc đã xác nhận", "amount"),
               Col("Ước giải ngân đến hết tháng", "amount"), Col("Tỷ lệ ước so với KH tỉnh giao (%)", "pct", 12),
               Col("Tỷ lệ ước so với KH Thủ tướng giao (%)", "pct", 12),
               Col("Kế hoạch kéo dài", "amount"), Col("Giải ngân vốn kéo dài", "amount"),
               Col("Dư tạm ứng đến hết tháng trước", "amount")]
    titles = [f"BÁO CÁO TÌNH HÌNH GIẢI NGÂN VỐN ĐẦU TƯ CÔNG NĂM {data['plan_year']}",
              f"Số liệu đến ngày {labels.date_text(data['as_of'])}; thực hiện đến hết ngày "
              f"{labels.date_text(data['last_month_end'])}", UNIT]
    return [Table("Bao cao thang", titles, columns, [[r[k] for k in keys] for r in data["rows"]],
                  ["Tổng cộng", *[data["total"][k] for k in keys[1:]]])]


def _follow_up_columns() -> list[Col]:
    return [Col("Tiến độ thực hiện (%)", "pct", 12), Col("Ngày báo cáo tiến độ", "date", 12),
            *[Col(f"{what} ({when})", "date", 12) for what in ("Khởi công", "Hoàn thành", "Khánh thành")
              for when in ("kế hoạch", "thực tế")],
            Col("Lãnh đạo theo dõi", width=28)]


def _follow_up_cells(i: dict) -> list[Any]:
    dates = [i["milestones"][m][k] for m in ("start", "completion", "inauguration")
             for k in ("planned_on", "actual_on")]
    return [i["physical_pct"], i["progress_reported_on"], *dates, i["lead_official"]]


def _obstacle_cells(i: dict) -> list[Any]:
    return ["; ".join(o["title"] for o in i["obstacles"]),
            "; ".join(sorted({o["responsible_organisation"] for o in i["obstacles"] if o["responsible_organisation"]})),
            "; ".join(i["recommendations"])]


def watch_list(data: dict) -> list[Table]:
    """Watch-list progress (`reports.watch_list`): one sheet per list. A non-budget list (Appendix 1) has no capital
    columns; every list shows physical progress, the milestones, the lead official, the obstacles with the agency
    unblocking them (R21)."""
    money = [Col("Kế hoạch vốn (tỉnh giao)", "amount"), Col("Trong đó: kế hoạch Thủ tướng giao", "amount"),
             Col("Đã giải ngân", "amount"), Col("Tỷ lệ so với KH tỉnh giao (%)", "pct", 12),
             Col("Tỷ lệ so với KH Thủ tướng giao (%)", "pct", 12), Col("Dự báo đến hạn", "amount")]
    tail = [Col("Khó khăn, vướng mắc", width=40), Col("Cơ quan chủ trì tháo gỡ", width=32), Col("Kiến nghị", width=40)]
    tables = []
    for appendix in data["appendices"]:
        non_budget = appendix["project_funding"] == "non_budget"
        columns = [Col("Mã dự án", width=16), Col("Tên dự án", width=48), *([] if non_budget else money),
                   *_follow_up_columns(), *([] if non_budget else [Col("Cảnh báo", width=30)]), *tail]
        rows = [[i["code"], i["name"],
                 *([] if non_budget else [i["plan_vnd"], i["assigned_plan_vnd"], i["disbursed_vnd"], i["rate_pct"],
                                          i["rate_of_assigned_plan_pct"], i["forecast_vnd"]]),
                 *_follow_up_cells(i),
                 *([] if non_budget else [labels.flag_text([f["code"] for f in i["flags"]])]), *_obstacle_cells(i)]
                for i in appendix["items"]]
        total = None
        if not non_budget:
            items = appendix["items"]
            total = ["Tổng cộng", "", *[sum(i[k] for i in items) for k in ("plan_vnd", "assigned_plan_vnd",
                                                                             "disbursed_vnd")], None, None,
                     sum(i["forecast_vnd"] for i in items), *[None] * (len(columns) - 8)]
        frequency = appendix["report_frequency"]
        duty = ", ".join(x for x in (appendix["reporter"], labels.label(labels.FREQUENCIES, frequency) if frequency
                                     else None, f"về {appendix['report_to']}" if appendix["report_to"] else None) if x)
        basis = "".join(f"; {label}: {text}" for label, text in (("căn cứ", appendix["decision_ref"]),
                                                                  ("chế độ báo cáo", duty)) if text)
        titles = [appendix["title"], f"Số liệu đến ngày {labels.date_text(data['as_of'])}{basis}",
                  NON_BUDGET if non_budget else UNIT]
        tables.append(Table(appendix["watch_list"].upper(), titles, columns, rows, total))
    return tables


def advances(report: dict) -> list[Table]:
    """The quarterly advance report, form 08.a shape (`advance_report.build`)."""
    columns = [Col("STT", "count", 6), Col("Chủ đầu tư", width=36), Col("Mã dự án", width=16),
               Col("Tên dự án", width=44), Col("Dư tạm ứng", "amount"), Col("Tạm ứng quá hạn", "amount"),
               Col("Quá hạn theo hợp đồng (R9)", "amount"), Col("Quá hạn bồi thường, GPMB (R10)", "amount"),
               Col("Quá hạn khác (R11)", "amount"), Col("Sắp đến hạn", "amount"), Col("Nguyên nhân", width=40),
               Col("Giải pháp, biện pháp thu hồi", width=40)]
    rows = [[n, i["investor_name"], i["project_code"], i["project_name"], i["outstanding_vnd"], i["overdue_vnd"],
             i["overdue_by_rule_vnd"]["R9"], i["overdue_by_rule_vnd"]["R10"], i["overdue_by_rule_vnd"]["R11"],
             i["due_soon_vnd"], "; ".join(i["reasons"]), "; ".join(i["remedies"])]
            for n, i in enumerate(report["items"], start=1)]
    t = report["totals"]
    by_rule = [sum(i["overdue_by_rule_vnd"][r] for i in report["items"]) for r in ("R9", "R10", "R11")]
    titles = [f"BÁO CÁO TÌNH HÌNH TẠM ỨNG VỐN ĐẦU TƯ CÔNG QUÝ {report['quarter']}/{report['year']}",
              f"Số liệu đến ngày {labels.date_text(report['as_of'])}", UNIT]
    return [Table("Mau 08a", titles, columns, rows, [None, "Tổng cộng", "", "", t["outstanding_vnd"],
                                                      t["overdue_vnd"], *by_rule, t["due_soon_vnd"], "", ""])]
