"""R15a reconciliation: an owner's report is an estimate until the Treasury's entry naming its document supersedes
it; the money counts once; reconciliation lists what does not match (docs/rules.md, "Reconciliation")."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app.kernel.db import session_scope
from app.ledger.verify import check_all
from tests.api.test_ledger_regressions import B, M, _problem, _project
from tests.conftest import disbursement_body


async def _record(client, world, project, role, amount, doc, **extra):
    return await client.post(f"/api/v1/projects/{project['id']}/disbursements",
                             json=disbursement_body(amount, doc, **extra), headers=world.h(role))


async def _balance(client, world, project) -> dict:
    response = await client.get(f"/api/v1/projects/{project['id']}/balances", headers=world.h("viewer"))
    assert response.status_code == 200, response.text
    return response.json()


async def _summary(client, world, **params) -> dict:
    response = await client.get("/api/v1/reconciliation", params={"plan_year": 2024, **params},
                                headers=world.h("treasury"))
    assert response.status_code == 200, response.text
    return response.json()


async def _items(client, world, **params) -> list[dict]:
    response = await client.get("/api/v1/reconciliation/items", params={"plan_year": 2024, **params},
                                headers=world.h("treasury"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _verify() -> None:
    async with session_scope() as session:
        assert await check_all(session) == []


async def test_r15a_treasury_entry_supersedes_the_owner_report_so_money_counts_once(client, world):
    project = await _project(client, world)
    report = await _record(client, world, project, "owner", 3 * B, "GDN-01")
    assert report.status_code == 201, report.text
    assert report.json()["source"] == report.json()["origin"] == "owner"
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["confirmed_vnd"], summary["unconfirmed_vnd"]) == (3 * B, 0, 3 * B)
    assert summary["by_status"]["unmatched_report"]["count"] == 1

    paid = await _record(client, world, project, "treasury", 3 * B - 5 * M, "KB-9001",
                         owner_document_number="GDN-01", value_date="2024-06-12")
    assert paid.status_code == 201, paid.text
    assert paid.json()["owner_document_number"] == "GDN-01" and paid.json()["origin"] == "treasury"
    # Counted once: the report is superseded by a Treasury-made reversal, the Treasury's amount is what counts.
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["confirmed_vnd"], summary["unconfirmed_vnd"]) == \
        (3 * B - 5 * M, 3 * B - 5 * M, 0)
    [item] = await _items(client, world)
    assert item["status"] == "amount_differs" and item["difference_vnd"] == -5 * M
    assert (item["report"]["document_number"], item["treasury"]["document_number"]) == ("GDN-01", "KB-9001")
    rows = (await client.get(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("viewer"))).json()
    superseding = [r for r in rows["items"] if r["reverses_id"] == report.json()["id"]]
    assert len(superseding) == 1 and superseding[0]["source"] == "treasury" and superseding[0]["origin"] == "owner"
    [pool] = (await _balance(client, world, project))["pools"]
    assert pool["disbursed_vnd"] == 3 * B - 5 * M

    # The owner cannot report the paid document again, nor withdraw its superseded report.
    again = await _record(client, world, project, "owner", 3 * B, "GDN-01")
    _problem(again, 409, "recorded_by_treasury")
    late = await _record(client, world, project, "owner", 1 * B, "GDN-02")
    assert late.status_code == 201
    withdrawn = await client.post(f"/api/v1/disbursements/{report.json()['id']}/reversal", headers=world.h("owner"),
                                  json={"document_number": "RUT-01", "value_date": "2024-10-01", "note": "rút"})
    _problem(withdrawn, 409, "already_reversed")
    await _verify()


async def test_r15a_an_owner_cannot_report_what_the_treasury_recorded_nor_name_owner_documents(client, world):
    project = await _project(client, world)
    paid = await _record(client, world, project, "treasury", 2 * B, "KB-1", owner_document_number="GDN-7")
    assert paid.status_code == 201, paid.text
    # Nothing to estimate: the Treasury already recorded the owner's document GDN-7.
    late = await _record(client, world, project, "owner", 2 * B, "GDN-7")
    problem = _problem(late, 409, "recorded_by_treasury")
    assert problem["treasury_entry_id"] == paid.json()["id"]
    # Only the Treasury's entry names the owner's document it pays (R15a authority).
    forged = await _record(client, world, project, "owner", 1 * B, "GDN-8", owner_document_number="GDN-9")
    _problem(forged, 403, "fact_authority")
    forged = await _record(client, world, project, "admin", 1 * B, "GDN-8", owner_document_number="GDN-9")
    _problem(forged, 403, "fact_authority")
    # One Treasury entry per owner document.
    twice = await _record(client, world, project, "treasury", 1 * B, "KB-2", owner_document_number="GDN-7")
    _problem(twice, 409, "owner_document_confirmed")
    [item] = await _items(client, world)
    assert item["status"] == "unmatched_treasury" and item["report"] is None
    summary = await _summary(client, world)
    assert (summary["confirmed_vnd"], summary["unconfirmed_vnd"]) == (2 * B, 0)
    await _verify()


async def test_r15a_a_refused_confirmation_changes_nothing(client, world):
    project = await _project(client, world, plan=5 * B)
    report = await _record(client, world, project, "owner", 4 * B, "GDN-1")
    assert report.status_code == 201
    # The Treasury's amount would break R1 once the report is superseded: refused, the report still stands.
    too_much = await _record(client, world, project, "treasury", 6 * B, "KB-1", owner_document_number="GDN-1")
    _problem(too_much, 422, "plan_cap_exceeded")
    [item] = await _items(client, world)
    assert item["status"] == "unmatched_report"
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["unconfirmed_vnd"]) == (4 * B, 4 * B)
    # Within the cap, and in a batch: superseded, one row created for the caller.
    batch = await client.post("/api/v1/disbursements/batch", headers=world.h("treasury"), json={"rows": [
        {**disbursement_body(5 * B, "KB-2", owner_document_number="GDN-1"), "project_id": project["id"]}]})
    assert batch.status_code == 201, batch.text
    assert batch.json()["created"] == 1
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["confirmed_vnd"]) == (5 * B, 5 * B)
    await _verify()


async def test_r15a_reconciliation_report_as_xlsx_and_csv_neutralises_formulas(client, world):
    project = await _project(client, world)
    assert (await _record(client, world, project, "owner", 1 * B, "=HYPERLINK(\"x\")")).status_code == 201
    assert (await _record(client, world, project, "treasury", 2 * B, "KB-5")).status_code == 201
    csv_answer = await client.get("/api/v1/reports/reconciliation", params={"plan_year": 2024, "format": "csv"},
                                  headers=world.h("viewer"))
    assert csv_answer.status_code == 200 and csv_answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_answer.text)))
    assert rows[0][0] == "STT" and len(rows) == 3
    assert any(cell == "'=HYPERLINK(\"x\")" for row in rows for cell in row)
    xlsx = await client.get("/api/v1/reports/reconciliation", params={"plan_year": 2024},
                            headers=world.h("treasury"))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert "Kho bạc xác nhận 2.000.000.000" in sheet["A1"].value
    assert sheet.max_row == 5
    # Owners read their own projects' ledger, not the Treasury's reconciliation.
    _problem(await client.get("/api/v1/reconciliation", params={"plan_year": 2024}, headers=world.h("owner")),
             403, "forbidden")


async def test_r15_paying_a_dossier_confirms_the_owner_report_of_its_document(client, world):
    project = await _project(client, world)
    assert (await _record(client, world, project, "owner", 1 * B, "HS-1")).status_code == 201
    dossier = await client.post(f"/api/v1/projects/{project['id']}/dossiers", headers=world.h("owner"), json={
        "kind": "payment", "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province",
        "amount_vnd": 1 * B, "document_number": "HS-1", "submitted_on": "2024-10-01"})
    assert dossier.status_code == 201, dossier.text
    done = await client.post(f"/api/v1/dossiers/{dossier.json()['id']}/complete", json={"on": "2024-10-02"},
                             headers=world.h("treasury"))
    assert done.status_code == 200, done.text
    paid = await client.post(f"/api/v1/dossiers/{dossier.json()['id']}/pay", json={"on": "2024-10-03"},
                             headers=world.h("treasury", **{"If-Match": done.headers["ETag"]}))
    assert paid.status_code == 200, paid.text
    [item] = await _items(client, world, status="matched")
    assert item["report"]["document_number"] == "HS-1" and item["treasury"]["document_number"] == "KB-HS-1"
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["confirmed_vnd"]) == (1 * B, 1 * B)
    await _verify()


async def test_r15a_the_province_summary_says_how_much_is_confirmed_as_of_any_date(client, world):
    project = await _project(client, world)
    assert (await _record(client, world, project, "treasury", 3 * B, "KB-1", value_date="2024-05-10")).status_code \
        == 201
    assert (await _record(client, world, project, "owner", 1 * B, "GDN-1", value_date="2024-09-10")).status_code \
        == 201

    async def split(as_of: str) -> dict:
        answer = await client.get("/api/v1/summaries", params={"plan_year": 2024, "as_of": as_of},
                                  headers=world.h("viewer"))
        assert answer.status_code == 200, answer.text
        return answer.json()["province_confirmed"]

    assert await split("2024-10-11") == {"disbursed_vnd": 4 * B, "confirmed_vnd": 3 * B, "unconfirmed_vnd": 1 * B}
    assert await split("2024-06-30") == {"disbursed_vnd": 3 * B, "confirmed_vnd": 3 * B, "unconfirmed_vnd": 0}
    monthly = await client.get("/api/v1/reports/monthly", params={"plan_year": 2024, "as_of": "2024-10-11"},
                               headers=world.h("viewer"))
    assert monthly.status_code == 200, monthly.text
    total = monthly.json()["total"]
    assert (total["actual_to_date_vnd"], total["actual_to_date_confirmed_vnd"]) == (4 * B, 3 * B)
