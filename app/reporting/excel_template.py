"""The disbursement workbook (Excel in): the columns, and the template an investor downloads and fills.

One layout, used both ways: `COLUMNS` names each column of sheet "Giải ngân" (header in Vietnamese, the field of
`DisbursementFields` it fills), so the template and the import (`excel_import`) cannot drift apart. The template
lists the investor's projects and their pools for the plan year (sheet "Dự án") with plan, disbursed and what is
left, offers the Vietnamese words of each code as a drop-down, and freezes the header.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import cast

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.owner_scope import subunit_ids
from app.ledger.balances import pool_figures
from app.models import Organisation, Project
from app.reporting import cells, labels

SHEET = "Giải ngân"
PROJECTS_SHEET = "Dự án"
AMOUNT_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy"
MAX_ROWS = 10_000  # as the JSON batch (`max_batch_rows`)


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    header: str
    width: int
    choices: dict[str, str] | None = None  # code → Vietnamese word, for a drop-down and for reading back
    required: bool = True


COLUMNS = (
    Column("project_code", "Mã dự án", 16),
    Column("plan_year", "Năm kế hoạch", 10),
    Column("capital_source", "Nguồn vốn", 30, labels.CAPITAL_SOURCES),
    Column("budget_level", "Cấp ngân sách", 14, labels.BUDGET_LEVELS),
    Column("kind", "Loại giải ngân", 18, labels.DISBURSEMENT_KINDS),
    Column("advance_kind", "Loại tạm ứng", 18, labels.ADVANCE_KINDS, required=False),
    Column("contract_number", "Số hợp đồng", 18, required=False),
    Column("amount_vnd", "Số tiền (đồng)", 18),
    Column("advance_recovered_vnd", "Thu hồi tạm ứng (đồng)", 18, required=False),
    Column("value_date", "Ngày giá trị (dd/mm/yyyy)", 14),
    Column("document_number", "Số chứng từ", 22),
    Column("note", "Ghi chú", 30, required=False),
)
LETTERS = {c.field: chr(ord("A") + i) for i, c in enumerate(COLUMNS)}
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


def header_row(ws: Worksheet) -> None:
    cells.append(ws, [c.header for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    ws.freeze_panes = "A2"
    for c in COLUMNS:
        ws.column_dimensions[LETTERS[c.field]].width = c.width


def _choices(wb: Workbook, ws: Worksheet) -> None:
    """Drop-downs from a hidden sheet of the allowed words (a list longer than 255 characters cannot be inline)."""
    lists = cast(Worksheet, wb.create_sheet("Danh mục"))
    for i, column in enumerate(c for c in COLUMNS if c.choices):
        letter = chr(ord("A") + i)
        for row, word in enumerate(column.choices.values(), start=1):  # type: ignore[union-attr]
            lists[f"{letter}{row}"] = word
        rule = DataValidation(type="list", formula1=f"'Danh mục'!${letter}$1:${letter}${len(column.choices)}",  # type: ignore[arg-type]
                              allow_blank=not column.required)
        ws.add_data_validation(rule)
        rule.add(f"{LETTERS[column.field]}2:{LETTERS[column.field]}{MAX_ROWS + 1}")
    lists.sheet_state = "hidden"


async def template(session: AsyncSession, investor_id: int, plan_year: int) -> bytes:
    """The workbook an investor fills: an empty sheet of disbursements and the list of its projects' pools."""
    investor = await session.get(Organisation, investor_id)
    scope = await subunit_ids(session, investor_id)
    projects = list(await session.scalars(select(Project).where(Project.investor_id.in_(scope))
                                          .order_by(Project.code)))
    figures = await pool_figures(session, plan_year=plan_year, project_ids=[p.id for p in projects]) if projects else {}
    wb = Workbook()
    ws = cast(Worksheet, wb.active)
    ws.title = SHEET
    header_row(ws)
    for c in COLUMNS:
        column = ws.column_dimensions[LETTERS[c.field]]
        if c.field.endswith("_vnd"):
            column.number_format = AMOUNT_FORMAT
        elif c.field == "value_date":
            column.number_format = DATE_FORMAT
    _choices(wb, ws)
    listing = cast(Worksheet, wb.create_sheet(PROJECTS_SHEET, 1))
    cells.append(listing, [f"Dự án và nguồn vốn năm {plan_year} của {investor.name if investor else investor_id}"])
    cells.append(listing, ["Mã dự án", "Tên dự án", "Nguồn vốn", "Cấp ngân sách", "Kế hoạch (đồng)",
                           "Đã giải ngân (đồng)", "Còn lại (đồng)"])
    codes = {p.id: p for p in projects}
    for key, fig in sorted(figures.items(), key=lambda kv: (codes[kv[0].project_id].code, kv[0].capital_source,
                                                            kv[0].budget_level)):
        p = codes[key.project_id]
        cells.append(listing, [p.code, p.name, labels.label(labels.CAPITAL_SOURCES, key.capital_source),
                               labels.label(labels.BUDGET_LEVELS, key.budget_level), fig.plan_vnd,
                               fig.disbursed_vnd, fig.plan_vnd - fig.disbursed_vnd])
    for row in listing.iter_rows(min_row=3, min_col=5, max_col=7):
        for cell in row:
            cell.number_format = AMOUNT_FORMAT
    for letter, width in zip("ABCDEFG", (16, 60, 30, 14, 20, 20, 20), strict=True):
        listing.column_dimensions[letter].width = width
    listing.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
