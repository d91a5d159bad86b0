"""Cells for the .xlsx (and any CSV) writers: text that looks like a formula is written as text (OWASP CSV/formula
injection): a leading `=`, `+`, `-`, `@`, tab or carriage return gets an apostrophe, so a title such as
`=HYPERLINK(...)` typed into an obstacle stays words in the watch-list workbook. Numbers are written as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "\\/?*[]:"})  # characters Excel refuses in a sheet's name
SHEET_TITLE_MAX = 31


def sheet_title(text: str) -> str:
    """A name Excel accepts for a sheet, from any text (a watch-list code is typed by people): forbidden
    characters become `_`, at most 31 characters, no leading or trailing apostrophe, never empty."""
    title = text.translate(SHEET_FORBIDDEN)[:SHEET_TITLE_MAX].strip("'").strip()
    return title or "Sheet"


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def append(ws: Worksheet, row: Iterable[Any]) -> None:
    """`ws.append` with every text cell neutralised; the only way the report writers add a row."""
    ws.append([neutralise(value) for value in row])


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """CSV (RFC 4180) with every text cell neutralised; the only way the report writers write CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue()
