"""Adversarial review of R15a reconciliation (docs/rules.md, "R15a — Provenance and authority", "Reconciliation").

Each test is one ordinary API sequence that breaks a promise of the rule: the money counts once, the figures as of a
date, the errors point at the caller's row, only the Treasury names an owner's document.
"""

from __future__ import annotations

from tests.api.test_ledger_regressions import B, M, _problem, _project
from tests.api.test_reconciliation import _record, _summary, _verify
from tests.conftest import disbursement_body


async def _ok(client, world, project, role, amount, doc, **extra) -> dict:
    response = await _record(client, world, project, role, amount, doc, **extra)
    assert response.status_code == 201, response.text
    return response.json()


async def _batch(client, world, role, rows):
    return await client.post("/api/v1/disbursements/batch", headers=world.h(role), json={"rows": rows})


async def _pool(client, world, project, **params) -> dict:
    response = await client.get(f"/api/v1/projects/{project['id']}/balances", params=params,
                                headers=world.h("viewer"))
    assert response.status_code == 200, response.text
    [pool] = response.json()["pools"]
    return pool


async def _split(client, world, as_of: str) -> dict:
    answer = await client.get("/api/v1/summaries", params={"plan_year": 2024, "as_of": as_of},
                              headers=world.h("viewer"))
    assert answer.status_code == 200, answer.text
    return answer.json()["province_confirmed"]



ALL_STATUSES = ["unmatched_report", "unmatched_treasury", "amount_differs", "matched"]


async def _dossier_paid_by(client, world, project, role, document_number):
    dossier = await client.post(f"/api/v1/projects/{project['id']}/dossiers", headers=world.h("owner"), json={
        "kind": "payment", "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province",
        "amount_vnd": 1 * B, "document_number": document_number, "submitted_on": "2024-10-01"})
    assert dossier.status_code == 201, dossier.text
    done = await client.post(f"/api/v1/dossiers/{dossier.json()['id']}/complete", json={"on": "2024-10-02"},
                             headers=world.h(role))
    assert done.status_code == 200, done.text
    return await client.post(f"/api/v1/dossiers/{dossier.json()['id']}/pay", json={"on": "2024-10-03"},
                             headers=world.h(role, **{"If-Match": done.headers["ETag"]}))


# --- defects -------------------------------------------------------------------------------------------------

async def test_r15a_a_payment_dated_before_the_owner_report_never_leaves_a_negative_estimate(client, world):
    """The superseding reversal is dated like the Treasury's entry; when the Treasury paid before the date the owner
    reported, the figures between the two dates count the Treasury's money minus an estimate not yet made."""
    project = await _project(client, world)
    await _ok(client, world, project, "owner", 3 * B, "GDN-1", value_date="2024-06-20")
    await _ok(client, world, project, "treasury", 3 * B, "KB-1", value_date="2024-06-10",
              owner_document_number="GDN-1")
    await _verify()
    # As of 15 June the Treasury had paid 3 tỷ and no owner had reported anything.
    assert await _split(client, world, "2024-06-15") == {"disbursed_vnd": 3 * B, "confirmed_vnd": 3 * B,
                                                        "unconfirmed_vnd": 0}
    assert (await _pool(client, world, project, as_of="2024-06-15"))["disbursed_vnd"] == 3 * B


async def test_r15a_an_owner_document_numbered_like_a_superseding_reversal_cannot_block_the_treasury(client, world):
    """`DC-<report id>` is an ordinary document number to an owner; recording it first makes the Treasury's
    confirmation fail on a document the Treasury never sent."""
    project = await _project(client, world)
    report = await _ok(client, world, project, "owner", 3 * B, "GDN-1")
    # Fixed by reserving the numbers: nobody records DC-<number> but the service itself.
    _problem(await _record(client, world, project, "owner", 1 * M, f"DC-{report['id']}"), 422,
             "reserved_document_number")
    paid = await _record(client, world, project, "treasury", 3 * B, "KB-1", owner_document_number="GDN-1")
    assert paid.status_code == 201, paid.text
    await _verify()


async def test_r15a_a_refused_superseding_reversal_points_at_the_callers_owner_document(client, world):
    """The refusal of the generated reversal carries the reversal endpoint's pointer (`/disbursement_id`), a field
    the caller's body does not have; the caller's field is `owner_document_number`."""
    project = await _project(client, world)
    await _ok(client, world, project, "owner", 2 * B, "TU-1", kind="advance", value_date="2024-03-01")
    await _ok(client, world, project, "owner", 1 * B, "TT-1", advance_recovered_vnd=500 * M, value_date="2024-05-01")
    single = await _record(client, world, project, "treasury", 2 * B, "KB-TU", kind="advance",
                           owner_document_number="TU-1")
    problem = _problem(single, 422, "advance_already_recovered")
    assert problem["errors"][0]["pointer"] == "/owner_document_number", problem
    batch = await _batch(client, world, "treasury", [
        {**disbursement_body(1 * B, "KB-0"), "project_id": project["id"]},
        {**disbursement_body(2 * B, "KB-TU", kind="advance", owner_document_number="TU-1"),
         "project_id": project["id"]}])
    problem = _problem(batch, 422, "batch_rejected")
    assert [(e["index"], e["pointer"]) for e in problem["errors"]] == [(1, "/rows/1/owner_document_number")]


async def test_r15a_an_administrator_paying_a_dossier_does_not_confirm_the_owner_report(client, world):
    """FACT_AUTHORITY gives `ledger_entry.confirm` to the Treasury only (an administrator naming an owner document
    is refused on POST); paying a dossier names the dossier's number whoever pays it."""
    project = await _project(client, world)
    report = await _ok(client, world, project, "owner", 1 * B, "HS-1")
    paid = await _dossier_paid_by(client, world, project, "admin", "HS-1")
    if paid.status_code == 403:  # fixed: only the Treasury pays a dossier (`dossier.pay`)
        assert paid.json()["code"] == "forbidden"
        return
    assert paid.status_code == 200, paid.text
    rows = (await client.get(f"/api/v1/projects/{project['id']}/disbursements", headers=world.h("viewer"))).json()
    entry = next(r for r in rows["items"] if r["id"] == paid.json()["disbursement_id"])
    assert entry["owner_document_number"] is None, entry
    assert not [r for r in rows["items"] if r["reverses_id"] == report["id"]]


async def test_r15a_the_treasury_can_confirm_an_owner_advance_and_its_recovering_payment_in_one_batch(
        client, world):
    """The most common advance flow: the owner reports an advance, then a payment recovering part of it; the
    Treasury confirms both in one call. In either row order the advance's superseding reversal is decided while
    the owner's recovery (or the Treasury's, moved onto the same advance by FIFO) still counts, so the batch is
    refused, and the owner's advance can never be superseded: the advance counts twice."""
    project = await _project(client, world)
    await _ok(client, world, project, "owner", 2 * B, "TU-1", kind="advance", value_date="2024-03-01")
    await _ok(client, world, project, "owner", 1 * B, "TT-1", advance_recovered_vnd=500 * M, value_date="2024-05-01")
    batch = await _batch(client, world, "treasury", [
        {**disbursement_body(2 * B, "KB-TU", kind="advance", value_date="2024-03-02", owner_document_number="TU-1"),
         "project_id": project["id"]},
        {**disbursement_body(1 * B, "KB-TT", advance_recovered_vnd=500 * M, value_date="2024-05-02",
                             owner_document_number="TT-1"), "project_id": project["id"]}])
    assert batch.status_code == 201, batch.text
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["confirmed_vnd"]) == (2 * B + 500 * M, 2 * B + 500 * M)
    await _verify()


async def test_r15a_each_years_status_totals_add_up_to_its_confirmed_figure(client, world, set_today):
    """The Treasury pays a 2024 report from the 2025 plan: 2024's items count 3 tỷ confirmed in a year whose
    confirmed figure is 0, and 2025's confirmed 3 tỷ is in no item of 2025."""
    from datetime import date

    from tests.conftest import allocate

    set_today(date(2025, 2, 20))
    project = await _project(client, world)
    assert (await allocate(client, world, project["id"], 20 * B, year=2025)).status_code == 201
    await _ok(client, world, project, "owner", 3 * B, "GDN-1", value_date="2024-12-20")
    await _ok(client, world, project, "treasury", 3 * B, "KB-1", value_date="2025-02-10", year=2025,
              owner_document_number="GDN-1")
    await _verify()
    for year in (2024, 2025):
        summary = await _summary(client, world, plan_year=year)
        listed = sum(t["confirmed_vnd"] for t in summary["by_status"].values())
        assert listed == summary["confirmed_vnd"], (year, summary)


# --- held (kept as regressions) ------------------------------------------------------------------------------

async def test_r15a_batch_errors_name_the_callers_rows_when_reversals_are_generated(client, world):
    project = await _project(client, world, plan=10 * B)
    for n in range(3):
        await _ok(client, world, project, "owner", 1 * B, f"GDN-{n}")
    rows = [{**disbursement_body(1 * B, f"KB-{n}", owner_document_number=f"GDN-{n}"), "project_id": project["id"]}
            for n in range(3)]
    rows.append({**disbursement_body(1 * B, "KB-X", owner_document_number="GDN-0"), "project_id": project["id"]})
    rows.append({**disbursement_body(50 * B, "KB-Y"), "project_id": project["id"]})
    problem = _problem(await _batch(client, world, "treasury", rows), 422, "batch_rejected")
    assert [(e["index"], e["code"], e["pointer"]) for e in problem["errors"]] == [
        (3, "owner_document_confirmed", "/rows/3/owner_document_number"),
        (4, "plan_cap_exceeded", "/rows/4/amount_vnd")]
    accepted = await _batch(client, world, "treasury", rows[:3])
    assert accepted.status_code == 201 and accepted.json()["created"] == 3, accepted.text
    summary = await _summary(client, world)
    assert (summary["disbursed_vnd"], summary["confirmed_vnd"], summary["unconfirmed_vnd"]) == (3 * B, 3 * B, 0)
    await _verify()


async def test_r15a_a_replayed_confirmation_posts_nothing_more(client, world):
    project = await _project(client, world)
    await _ok(client, world, project, "owner", 3 * B, "GDN-1")
    body = disbursement_body(3 * B, "KB-1", owner_document_number="GDN-1")
    url = f"/api/v1/projects/{project['id']}/disbursements"
    first = await client.post(url, json=body, headers=world.h("treasury", **{"Idempotency-Key": "k1"}))
    again = await client.post(url, json=body, headers=world.h("treasury", **{"Idempotency-Key": "k1"}))
    assert (first.status_code, again.status_code, again.headers.get("Idempotency-Replayed")) == (201, 201, "true")
    assert again.json()["id"] == first.json()["id"]
    _problem(await client.post(url, json=body, headers=world.h("treasury")), 409, "owner_document_confirmed")
    rows = (await client.get(url, headers=world.h("viewer"))).json()["items"]
    assert len(rows) == 3  # report, its superseding reversal, the Treasury's entry
    await _verify()
