"""Organisations change (DOMAIN.md §5; docs/rules.md "Organisations change"), around the 2025-07-01 merger:
a project's investor is effective-dated, a successor sees and writes the projects it inherited, and a predecessor's
keys stop at its validity end."""

from __future__ import annotations

from datetime import date

from app.enums import Role
from app.kernel.db import session_scope
from app.registry import organisations
from tests.conftest import allocate, disbursement_body, make_project

MERGER = "2025-07-01"
B = 1_000_000_000


async def _merge(client, world, predecessor_id: int, successor_id: int) -> None:
    link = await client.post(f"/api/v1/organisations/{predecessor_id}/succession",
                             json={"successor_id": successor_id, "effective_on": MERGER,
                                   "decision_ref": "1211/NQ-UBTVQH15"}, headers=world.h("admin"))
    assert link.status_code == 201, link.text


async def _by_investor(client, world, as_of: str) -> dict[str, int]:
    """Summary grouped by investor as of a date: {investor id: plan of its projects}."""
    response = await client.get("/api/v1/summaries", params={"plan_year": 2025, "as_of": as_of,
                                                             "group_by": "investor"}, headers=world.h("viewer"))
    assert response.status_code == 200, response.text
    return {g["key"]: g["plan_vnd"] for g in response.json()["groups"]}


async def _key_for(organisation_id: int, role: Role = Role.owner) -> dict[str, str]:
    async with session_scope() as session:
        _, secret = await organisations.create_api_key(session, organisation_id=organisation_id, role=role,
                                                       name="predecessor key")
    return {"Authorization": f"Bearer {secret}"}


async def test_reassigning_to_the_successor_keeps_past_reports_under_the_investor_of_their_day(
        client, world, set_today):
    # A board ("other investor") is merged into the successor (world.investor_id) on 2025-07-01; its project carries
    # a 2025 plan of 3 tỷ, known since January.
    set_today(date(2025, 1, 10))
    project = await make_project(client, world, code="VP-MERGED", investor_id=world.other_investor_id)
    assert (await allocate(client, world, project["id"], 3 * B, year=2025, decided="2025-01-06")).status_code == 201
    set_today(date(2025, 7, 20))
    await _merge(client, world, world.other_investor_id, world.investor_id)
    change = await client.post(f"/api/v1/projects/{project['id']}/investors", headers=world.h("planner"), json={
        "investor_id": world.investor_id, "effective_from": MERGER, "decision_ref": "77/QĐ-UBND"})
    assert change.status_code == 201, change.text

    # Before the merger the project's 3 tỷ sit with the predecessor; from the merger, with the successor — in a
    # report as of a day the re-assignment was known (recorded 20/07). As of 15/07 it was not known yet (R20: a past
    # report reproduces what was known then).
    set_today(date(2025, 8, 5))
    assert await _by_investor(client, world, "2025-06-30") == {str(world.other_investor_id): 3 * B}
    assert await _by_investor(client, world, "2025-07-15") == {str(world.other_investor_id): 3 * B}
    assert await _by_investor(client, world, "2025-07-31") == {str(world.investor_id): 3 * B}
    history = (await client.get(f"/api/v1/projects/{project['id']}/investors", headers=world.h("viewer"))).json()
    assert [(h["investor_id"], h["effective_from"]) for h in history] == [
        (world.other_investor_id, None), (world.investor_id, MERGER)]
    assert (await client.get(f"/api/v1/projects/{project['id']}", headers=world.h("viewer"))).json()[
        "investor_id"] == world.investor_id


async def test_an_investor_change_is_appended_never_written_over(client, world, set_today):
    set_today(date(2025, 7, 20))
    project = await make_project(client, world, code="VP-APPEND", investor_id=world.other_investor_id)
    url = f"/api/v1/projects/{project['id']}/investors"
    first = await client.post(url, json={"investor_id": world.investor_id, "effective_from": MERGER},
                              headers=world.h("planner"))
    assert first.status_code == 201, first.text
    earlier = await client.post(url, json={"investor_id": world.other_investor_id, "effective_from": "2025-06-01"},
                                headers=world.h("planner"))
    assert earlier.status_code == 409 and earlier.json()["code"] == "investor_change_out_of_order"
    assert earlier.json()["earliest_allowed"] == "2025-07-02"
    future = await client.post(url, json={"investor_id": world.other_investor_id, "effective_from": "2025-08-01"},
                               headers=world.h("planner"))
    assert future.status_code == 422 and future.json()["code"] == "effective_date_in_future"
    owner = await client.post(url, json={"investor_id": world.other_investor_id, "effective_from": "2025-07-10"},
                              headers=world.h("owner"))
    assert owner.status_code == 403  # projects are registered by planners (POLICY "project.write")
    # A PATCH of investor_id is a change effective today, recorded in the history too.
    read = await client.get(f"/api/v1/projects/{project['id']}", headers=world.h("planner"))
    patched = await client.patch(f"/api/v1/projects/{project['id']}", json={"investor_id": world.sub_investor_id},
                                 headers=world.h("planner", **{"If-Match": read.headers["ETag"]}))
    assert patched.status_code == 200, patched.text
    history = (await client.get(url, headers=world.h("viewer"))).json()
    assert [(h["investor_id"], h["effective_from"]) for h in history] == [
        (world.other_investor_id, None), (world.investor_id, MERGER), (world.sub_investor_id, "2025-07-20")]


async def test_an_abolished_board_cannot_become_an_investor_after_its_end(client, world, set_today):
    set_today(date(2025, 7, 20))
    await _merge(client, world, world.other_investor_id, world.investor_id)  # valid_to = 2025-07-01
    project = await make_project(client, world, code="VP-LATE")
    response = await client.post(f"/api/v1/projects/{project['id']}/investors", headers=world.h("planner"),
                                 json={"investor_id": world.other_investor_id, "effective_from": "2025-07-05"})
    assert response.status_code == 422 and response.json()["code"] == "organisation_not_valid_on_date"
    assert response.json()["valid_to"] == MERGER


async def test_the_successor_sees_and_writes_inherited_projects_without_reassignment(client, world, set_today):
    set_today(date(2025, 7, 20))
    project = await make_project(client, world, code="VP-INHERIT", investor_id=world.other_investor_id)
    assert (await allocate(client, world, project["id"], B, year=2025, decided="2025-01-06")).status_code == 201
    listed = await client.get("/api/v1/projects", params={"investor_id": world.investor_id},
                              headers=world.h("viewer"))
    assert [p["code"] for p in listed.json()["items"]] == []  # before the merger: not the successor's
    await _merge(client, world, world.other_investor_id, world.investor_id)
    listed = await client.get("/api/v1/projects", params={"investor_id": world.investor_id},
                              headers=world.h("viewer"))
    assert [p["code"] for p in listed.json()["items"]] == ["VP-INHERIT"]
    write = await client.post(f"/api/v1/projects/{project['id']}/disbursements",
                              json=disbursement_body(100_000_000, "INH-1", year=2025, value_date="2025-07-18"),
                              headers=world.h("owner"))  # the successor's owner key
    assert write.status_code == 201, write.text


async def test_a_predecessors_keys_stop_at_its_validity_end(client, world, set_today):
    set_today(date(2025, 6, 20))
    project = await make_project(client, world, code="VP-KEYS", investor_id=world.other_investor_id)
    assert (await allocate(client, world, project["id"], B, year=2025, decided="2025-01-06")).status_code == 201
    old_key = await _key_for(world.other_investor_id)
    url = f"/api/v1/projects/{project['id']}/disbursements"
    body = disbursement_body(100_000_000, "OLD-1", year=2025, value_date="2025-06-20")
    assert (await client.post(url, json=body, headers=old_key)).status_code == 201
    await _merge(client, world, world.other_investor_id, world.investor_id)
    # Recorded ahead of the day: the predecessor's key still works on 30/06, its last day, and the successor does
    # not answer for the project yet.
    set_today(date(2025, 6, 30))
    assert (await client.get("/api/v1/projects", headers=old_key)).status_code == 200
    early = await client.post(url, json=disbursement_body(100_000_000, "NEW-0", year=2025, value_date="2025-06-30"),
                              headers=world.h("owner"))
    assert early.status_code == 403, early.text
    set_today(date(2025, 7, 1))
    for response in (await client.get("/api/v1/projects", headers=old_key),
                     await client.post(url, json=disbursement_body(100_000_000, "OLD-2", year=2025,
                                                                   value_date="2025-07-01"), headers=old_key)):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "organisation_ended"
    # The successor's key writes the inherited project.
    successor = await client.post(url, json=disbursement_body(100_000_000, "NEW-1", year=2025,
                                                              value_date="2025-07-01"), headers=world.h("owner"))
    assert successor.status_code == 201, successor.text
