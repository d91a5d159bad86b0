"""Excel in (R20): the investor's template, a 10,000-row workbook in one request, errors by cell, all or nothing,
idempotent per file, and the same authorisation as the JSON batch."""

from __future__ import annotations

import io
import time
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.models import Disbursement
from app.reporting.excel_template import COLUMNS, SHEET
from tests.conftest import allocate, make_project

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [c.header for c in COLUMNS]


def workbook(rows: list[list]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def payment(code: str, amount: int, doc: str, day: date = date(2024, 6, 10)) -> list:
    return [code, 2024, "Cân đối ngân sách địa phương", "Tỉnh", "Thanh toán KLHT", None, None, amount, 0, day, doc,
            None]


async def recorded() -> int:
    async with session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(Disbursement)) or 0)


async def test_r20_template_lists_the_investors_projects_and_pools_in_vietnamese(client, world):
    project = await make_project(client, world, code="VP-GT-001")
    assert (await allocate(client, world, project["id"], 50_000_000_000)).status_code == 201
    await make_project(client, world, code="VP-DD-009", investor_id=world.other_investor_id)
    response = await client.get(f"/api/v1/organisations/{world.investor_id}/disbursement-workbook",
                                params={"plan_year": 2024}, headers=world.h("owner"))
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    wb = load_workbook(io.BytesIO(response.content))
    sheet = wb[SHEET]
    assert [c.value for c in sheet[1]] == HEADERS and sheet.freeze_panes == "A2"
    listing = [[c.value for c in row] for row in wb["Dự án"].iter_rows(min_row=3)]
    assert listing == [["VP-GT-001", "Dự án VP-GT-001", "Cân đối ngân sách địa phương", "Tỉnh", 50_000_000_000, 0,
                        50_000_000_000]]  # the other investor's project is not listed
    other = await client.get(f"/api/v1/organisations/{world.other_investor_id}/disbursement-workbook",
                             headers=world.h("owner"))
    assert other.status_code == 403  # owner scope, as for its writes


async def test_r20_ten_thousand_rows_in_one_request_once_per_file(client, world):
    codes = []
    for i in range(4):
        project = await make_project(client, world, code=f"VP-GT-{i:03d}", tmdt=900_000_000_000)
        assert (await allocate(client, world, project["id"], 300_000_000_000)).status_code == 201
        codes.append(project["code"])
    rows = [payment(codes[i % 4], 1_000_000 + i, f"KB-{i:05d}") for i in range(10_000)]
    body = workbook(rows)
    started = time.perf_counter()
    response = await client.post("/api/v1/disbursements/workbook", content=body,
                                 headers=world.h("treasury", **{"Content-Type": XLSX}))
    elapsed = time.perf_counter() - started
    print(f"\n10,000-row workbook ({len(body):,} bytes) imported in {elapsed:.2f} s")
    assert response.status_code == 201, response.text[:2000]
    assert response.json()["created"] == 10_000 and await recorded() == 10_000
    again = await client.post("/api/v1/disbursements/workbook", content=body,
                              headers=world.h("treasury", **{"Content-Type": XLSX}))
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == response.json() and await recorded() == 10_000  # the same file is recorded once
    async with session_scope() as session:
        sources = set((await session.scalars(select(Disbursement.source).distinct())).all())
    assert sources == {"treasury"}  # R15a: the source is the caller's role


async def test_r20_workbook_errors_point_at_cells_and_nothing_is_written(client, world):
    project = await make_project(client, world, code="VP-GT-001")
    assert (await allocate(client, world, project["id"], 1_000_000_000)).status_code == 201
    body = workbook([
        payment("VP-GT-001", 400_000_000, "KB-1"),  # row 2: fine on its own
        payment("VP-XX-404", 1_000_000, "KB-2"),  # row 3: no such project
        ["VP-GT-001", 2024, "Ngân sách xã hội", "Tỉnh", "Thanh toán KLHT", None, None, 5, 0, "31/13/2024", "KB-3",
         None],  # row 4: unknown capital source, impossible date
        ["VP-GT-001", 2024, "Cân đối ngân sách địa phương", "Tỉnh", "Thanh toán KLHT", None, None, -5, 0,
         date(2024, 6, 1), "KB-4", None],  # row 5: a negative amount
    ])
    response = await client.post("/api/v1/disbursements/workbook", content=body,
                                  headers=world.h("treasury", **{"Content-Type": XLSX}))
    assert response.status_code == 422 and response.json()["code"] == "workbook_rejected"
    cells = {(e["sheet"], e["cell"], e["code"]) for e in response.json()["errors"]}
    assert cells == {(SHEET, "A3", "project_not_found"), (SHEET, "C4", "invalid_choice"),
                     (SHEET, "J4", "invalid_date"), (SHEET, "H5", "invalid_number")}
    choice = next(e for e in response.json()["errors"] if e["code"] == "invalid_choice")
    assert "Cân đối ngân sách địa phương" in choice["allowed"] and choice["header"] == "Nguồn vốn"
    assert await recorded() == 0

    # Cells that read cleanly but break a rule of the pipeline: R1 plan cap, at the row and column it concerns.
    over = workbook([payment("VP-GT-001", 700_000_000, "KB-1"), payment("VP-GT-001", 700_000_000, "KB-2")])
    response = await client.post("/api/v1/disbursements/workbook", content=over,
                                 headers=world.h("treasury", **{"Content-Type": XLSX}))
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["row"], error["column"], error["code"]) == (3, "H", "plan_cap_exceeded")
    assert error["remaining_vnd"] == 300_000_000  # the number that would have been allowed
    assert await recorded() == 0  # all or nothing


async def test_r20_workbook_import_keeps_the_batch_authorisation(client, world):
    project = await make_project(client, world, code="VP-GT-001")
    assert (await allocate(client, world, project["id"], 1_000_000_000)).status_code == 201
    body = workbook([payment("VP-GT-001", 1_000_000, "KB-1")])
    for role, status in (("viewer", 403), ("planner", 403), ("other_owner", 403), ("owner", 201)):
        response = await client.post("/api/v1/disbursements/workbook", content=body,
                                     headers=world.h(role, **{"Content-Type": XLSX}))
        assert response.status_code == status, (role, response.text)
    async with session_scope() as session:
        assert (await session.scalars(select(Disbursement.source))).all() == ["owner"]  # R15a: an owner's report
    garbage = await client.post("/api/v1/disbursements/workbook", content=b"not a workbook",
                                headers=world.h("treasury", **{"Content-Type": XLSX}))
    assert garbage.status_code == 422 and garbage.json()["code"] == "workbook_unreadable"
