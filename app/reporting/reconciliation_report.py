"""The reconciliation report (R15a; báo cáo đối chiếu số liệu giải ngân) as .xlsx or CSV, Vietnamese headers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from app.reporting import cells
from app.treasury.reconciliation import Item, MatchStatus, Side

STATUS_LABELS = {
    MatchStatus.unmatched_report: "Chủ đầu tư báo cáo, Kho bạc chưa xác nhận",
    MatchStatus.unmatched_treasury: "Kho bạc đã chi, chủ đầu tư chưa báo cáo",
    MatchStatus.amount_differs: "Chênh lệch số tiền",
    MatchStatus.matched: "Khớp",
}
HEADERS = ("STT", "Mã dự án", "Tình trạng", "Số chứng từ CĐT", "Ngày CĐT", "Số tiền CĐT báo cáo (đồng)",
           "Số chứng từ KBNN", "Ngày KBNN", "Số tiền KBNN xác nhận (đồng)", "Chênh lệch (đồng)")


def _side(side: Side | None) -> list[Any]:
    return [side.document_number, side.value_date.strftime("%d/%m/%Y"), side.net_vnd] if side else ["", "", ""]


def _rows(items: list[Item]) -> Iterator[list[Any]]:
    for n, item in enumerate(items, start=1):
        yield [n, item.project_code, STATUS_LABELS[item.status], *_side(item.report), *_side(item.treasury),
               item.difference_vnd]


def _title(plan_year: int, figures: dict[str, int]) -> list[str]:
    return [f"ĐỐI CHIẾU SỐ LIỆU GIẢI NGÂN NĂM {plan_year}: giải ngân {figures['disbursed_vnd']:,} đồng, "
            f"trong đó Kho bạc xác nhận {figures['confirmed_vnd']:,} đồng, chưa xác nhận "
            f"{figures['unconfirmed_vnd']:,} đồng".replace(",", ".")]


def to_xlsx(plan_year: int, figures: dict[str, int], items: list[Item]) -> bytes:
    wb = Workbook()
    ws = cast(Worksheet, wb.active)  # a new Workbook has one sheet, active
    ws.title = "Doi chieu"
    cells.append(ws, _title(plan_year, figures))
    cells.append(ws, [])
    cells.append(ws, list(HEADERS))
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for row in _rows(items):
        cells.append(ws, row)
    for sheet_row in ws.iter_rows(min_row=4):
        for index in (5, 8, 9):
            sheet_row[index].number_format = "#,##0"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_csv(items: list[Item]) -> str:
    return cells.csv_text([HEADERS, *_rows(items)])
