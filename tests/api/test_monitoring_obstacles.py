"""Obstacles (R18/R20 follow-up): owner-scoped writes, If-Match, history, overdue per working group."""

from __future__ import annotations

from app.kernel.db import session_scope
from app.models import WorkingGroup
from tests.conftest import make_project

PROBLEM = "application/problem+json"


async def _group(code: str) -> int:
    async with session_scope() as session:
        group = WorkingGroup(code=code, name=f"Tổ công tác {code}")
        session.add(group)
        await session.flush()
        return group.id


async def test_obstacle_lifecycle_keeps_history(client, world):
    p = await make_project(client, world)
    wg = await _group("TCT-1")
    body = {
        "category": "site_clearance",
        "title": "Vướng GPMB 12 hộ",
        "working_group_id": wg,
        "responsible_organisation_id": world.investor_id,
        "deadline": "2024-11-15",
    }
    r = await client.post(f"/api/v1/projects/{p['id']}/obstacles", json=body, headers=world.h("owner"))
    assert r.status_code == 201, r.text
    oid, etag = r.json()["id"], r.headers["ETag"]
    url = f"/api/v1/obstacles/{oid}"
    assert (await client.patch(url, json={"status": "in_progress"}, headers=world.h("owner"))).status_code == 428
    stale = await client.patch(url, json={"status": "in_progress"}, headers=world.h("owner", **{"If-Match": '"x"'}))
    assert stale.status_code == 412 and stale.headers["content-type"].startswith(PROBLEM)
    r = await client.patch(url, json={"status": "resolved"}, headers=world.h("owner", **{"If-Match": etag}))
    assert r.status_code == 200 and r.json()["resolved_on"] == "2024-10-11"
    full = (await client.get(url, headers=world.h("viewer"))).json()
    assert [list(h["changes"]) for h in full["history"]][1] == ["status"]
    assert full["history"][1]["changes"]["status"] == ["open", "resolved"]


async def test_obstacle_write_is_owner_scoped_and_validated(client, world):
    p = await make_project(client, world)
    body = {"category": "procedures", "title": "Chậm thẩm định"}
    r = await client.post(f"/api/v1/projects/{p['id']}/obstacles", json=body, headers=world.h("other_owner"))
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = await client.post(
        f"/api/v1/projects/{p['id']}/obstacles", json={**body, "category": "weather"}, headers=world.h("planner")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/category"
    r = await client.post("/api/v1/projects/999/obstacles", json=body, headers=world.h("planner"))
    assert r.status_code == 404


async def test_overdue_obstacles_listed_per_working_group(client, world):
    p = await make_project(client, world)
    g1, g2 = await _group("TCT-1"), await _group("TCT-2")
    url = f"/api/v1/projects/{p['id']}/obstacles"
    for title, group, deadline in (
        ("A", g1, "2024-09-30"),
        ("B", g1, "2024-10-01"),
        ("C", g2, "2024-12-31"),
        ("D", g2, "2024-08-01"),
        ("E", None, "2024-10-05"),
    ):
        r = await client.post(
            url,
            json={"category": "fill_earth_dump_sites", "title": title, "working_group_id": group, "deadline": deadline},
            headers=world.h("planner"),
        )
        assert r.status_code == 201
    data = (await client.get("/api/v1/obstacles/overdue", headers=world.h("viewer"))).json()
    by_group = {g["working_group_id"]: [o["title"] for o in g["obstacles"]] for g in data["groups"]}
    assert by_group == {g1: ["A", "B"], g2: ["D"], None: ["E"]}
    d = next(g for g in data["groups"] if g["working_group_id"] == g2)["obstacles"][0]
    assert d["days_overdue"] == 71
    listed = (
        await client.get(
            "/api/v1/obstacles", params={"overdue_on": "2024-10-11", "working_group_id": g1}, headers=world.h("viewer")
        )
    ).json()
    assert [o["title"] for o in listed["items"]] == ["A", "B"]
