"""Excel in: a filled disbursement workbook (`excel_template.COLUMNS`) read into the posting pipeline's rows.

Reading answers every cell it cannot read at once (sheet, row, column, header, the rule's code and what is
allowed); rows that read cleanly become `DisbursementInput`s, which the caller posts as one batch through
`app.ledger.posting` — all or nothing. A rule the pipeline refuses comes back pointing at a row and a field
(`/rows/{i}/amount_vnd`); `cell_errors` turns that pointer into the workbook's own sheet, row and column.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.kernel.errors import DomainError
from app.ledger.fold import DisbursementInput
from app.models import Contract, Project
from app.reporting.excel_template import COLUMNS, LETTERS, MAX_ROWS, SHEET, Column

FIELD_OF_POINTER = {"project_id": "project_code", "contract_id": "contract_number"}  # pipeline field → column


class WorkbookRejected(DomainError):
    status = 422
    title = "Workbook rejected"


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(slots=True)
class Reading:
    rows: list[dict[str, Any]] = field(default_factory=list)  # the fields of each data row, by column
    sheet_rows: list[int] = field(default_factory=list)  # the workbook row of each
    errors: list[dict[str, Any]] = field(default_factory=list)


def cell_error(sheet_row: int, column: str, code: str, detail: str, **numbers: Any) -> dict[str, Any]:
    header = next(c.header for c in COLUMNS if c.field == column)
    cell = f"{LETTERS[column]}{sheet_row}"
    return {"pointer": f"'{SHEET}'!{cell}", "sheet": SHEET, "row": sheet_row, "column": LETTERS[column],
            "header": header, "cell": cell, "code": code, "detail": detail, **numbers}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _value(column: Column, raw: Any, sheet_row: int, errors: list[dict[str, Any]]) -> Any:
    text = _text(raw)
    if not text:
        if column.required:
            errors.append(cell_error(sheet_row, column.field, "required", f"'{column.header}' is required."))
        return None
    if column.choices:  # the Vietnamese word (or the code itself)
        by_word = {word.casefold(): code for code, word in column.choices.items()}
        code = by_word.get(text.casefold(), text if text in column.choices else None)
        if code is None:
            errors.append(cell_error(sheet_row, column.field, "invalid_choice", f"'{text}' is not one of the "
                                     "allowed values.", allowed=list(column.choices.values())))
        return code
    if column.field == "value_date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        try:
            return datetime.strptime(text, "%d/%m/%Y").date()
        except ValueError:
            errors.append(cell_error(sheet_row, column.field, "invalid_date", f"'{text}' is not a date "
                                     "(dd/mm/yyyy).", format="dd/mm/yyyy"))
            return None
    if column.field in ("plan_year", "amount_vnd", "advance_recovered_vnd"):
        number = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        if number is None and isinstance(raw, float) and raw.is_integer():
            number = int(raw)
        if number is None and isinstance(raw, str) and text.replace(".", "").replace(",", "").isdigit():
            number = int(text.replace(".", "").replace(",", ""))  # 1.234.567 as Vietnamese write it
        low, high = (2000, 2100) if column.field == "plan_year" else (
            (1 if column.field == "amount_vnd" else 0), 10**15)
        if number is None or not low <= number <= high:
            errors.append(cell_error(sheet_row, column.field, "invalid_number", f"'{text}' must be a whole number "
                                     f"from {low} to {high} (đồng for an amount).", minimum=low, maximum=high))
            return None
        return number
    limit = 1000 if column.field == "note" else 200
    if len(text) > limit:
        errors.append(cell_error(sheet_row, column.field, "too_long", f"At most {limit} characters.",
                                 max_length=limit))
        return None
    return text


def read(data: bytes) -> Reading:
    """Every data row of sheet "Giải ngân" (rows with no value at all are skipped), with cell-level errors."""
    reading = Reading()
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookRejected("workbook_unreadable", "The body is not an .xlsx workbook.") from exc
    if SHEET not in wb.sheetnames:
        raise WorkbookRejected("workbook_sheet_missing", f"The workbook has no sheet '{SHEET}' (use the template).",
                               sheets=wb.sheetnames)
    rows = wb[SHEET].iter_rows(values_only=True)
    header = [_text(v) for v in next(rows, ())][:len(COLUMNS)]
    if header != [c.header for c in COLUMNS]:
        raise WorkbookRejected("workbook_header_mismatch", "Row 1 of the sheet must carry the template's headers.",
                               expected=[c.header for c in COLUMNS], found=header)
    for sheet_row, values in enumerate(rows, start=2):
        values = tuple(values[:len(COLUMNS)]) + (None,) * (len(COLUMNS) - len(values))
        if all(_text(v) == "" for v in values):
            continue
        if len(reading.rows) >= MAX_ROWS:
            raise WorkbookRejected("workbook_too_many_rows", f"At most {MAX_ROWS} rows per workbook.",
                                   maximum=MAX_ROWS)
        reading.rows.append({c.field: _value(c, v, sheet_row, reading.errors) for c, v in zip(COLUMNS, values,
                                                                                              strict=True)})
        reading.sheet_rows.append(sheet_row)
    wb.close()
    if not reading.rows:
        raise WorkbookRejected("workbook_empty", f"Sheet '{SHEET}' has no rows to import.")
    return reading


async def to_inputs(session: AsyncSession, reading: Reading, source: EntrySource) -> list[DisbursementInput]:
    """The posting pipeline's rows: project codes and contract numbers resolved (unknown ones are cell errors)."""
    codes = {r["project_code"] for r in reading.rows if r["project_code"]}
    projects = dict((await session.execute(select(Project.code, Project.id).where(Project.code.in_(codes)))).all()) \
        if codes else {}
    wanted = {(projects[r["project_code"]], r["contract_number"]) for r in reading.rows
              if r["contract_number"] and r["project_code"] in projects}
    contracts = {(p, n): i for i, p, n in (await session.execute(select(Contract.id, Contract.project_id,
                 Contract.number).where(tuple_(Contract.project_id, Contract.number).in_(wanted)))).all()} \
        if wanted else {}
    inputs = []
    for r, sheet_row in zip(reading.rows, reading.sheet_rows, strict=True):
        project_id = projects.get(r["project_code"])
        if r["project_code"] and project_id is None:
            reading.errors.append(cell_error(sheet_row, "project_code", "project_not_found",
                                             f"No project has the code '{r['project_code']}'."))
        contract_id = contracts.get((project_id, r["contract_number"])) \
            if r["contract_number"] and project_id is not None else None
        if r["contract_number"] and project_id is not None and contract_id is None:
            reading.errors.append(cell_error(sheet_row, "contract_number", "contract_not_found",
                                             f"Project '{r['project_code']}' has no contract "
                                             f"'{r['contract_number']}'."))
        if reading.errors or project_id is None:
            continue  # nothing is posted from a workbook with unreadable cells
        kind = DisbursementKind(r["kind"])
        amount = r["amount_vnd"]
        inputs.append(DisbursementInput(
            project_id=project_id, plan_year=r["plan_year"], capital_source=CapitalSource(r["capital_source"]),
            budget_level=BudgetLevel(r["budget_level"]), kind=kind,
            advance_kind=AdvanceKind(r["advance_kind"]) if r["advance_kind"] else None, contract_id=contract_id,
            amount_vnd=amount, advance_recovered_vnd=amount if kind is DisbursementKind.clearance
            else r["advance_recovered_vnd"] or 0, value_date=r["value_date"], document_number=r["document_number"],
            note=r["note"], source=source))
    if reading.errors:
        raise rejected(reading.errors)
    return inputs


def rejected(errors: list[dict[str, Any]]) -> WorkbookRejected:
    errors = sorted(errors, key=lambda e: (e["row"], e["column"]))
    return WorkbookRejected("workbook_rejected", f"{len(errors)} cell(s) of the workbook were rejected; nothing "
                            "was recorded.", errors=errors)


def cell_errors(reading: Reading, refused: DomainError) -> WorkbookRejected:
    """The pipeline's per-row refusals (`/rows/{i}/{field}`) at the workbook's sheet, row and column."""
    out = []
    for e in refused.extensions.get("errors") or [{"pointer": refused.pointer or "/rows/0", "code": refused.code,
                                                   "detail": refused.detail}]:
        parts = (e.get("pointer") or "/rows/0").split("/")
        index = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        name = parts[3] if len(parts) > 3 else "amount_vnd"
        column = FIELD_OF_POINTER.get(name, name if name in LETTERS else "amount_vnd")
        numbers = {k: v for k, v in e.items() if k not in ("pointer", "code", "detail", "index")}
        out.append(cell_error(reading.sheet_rows[min(index, len(reading.sheet_rows) - 1)], column, e["code"],
                              e["detail"], **numbers))
    return rejected(out)
