"""R21 the action programme's follow-up as data: watch-lists with effective-dated members, lead officials and
working groups as people, physical progress and milestones point in time, non-budget projects without money."""

from __future__ import annotations

from datetime import date

from tests.conftest import allocate, disbursement_body, make_person, make_project, programme_lists

B = 1_000_000_000
PROBLEM = "application/problem+json"


async def _change(client, world, watch_list: dict, project_id: int, action: str, on: str, role: str = "planner"):
    return await client.post(f"/api/v1/watch-lists/{watch_list['id']}/changes", headers=world.h(role),
                             json={"project_id": project_id, "action": action, "effective_on": on,
                                   "decision_ref": "01/QĐ-UBND"})


async def _members(client, world, watch_list: dict, as_of: str) -> list[dict]:
    r = await client.get(f"/api/v1/watch-lists/{watch_list['id']}/members", params={"as_of": as_of},
                         headers=world.h("viewer"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_r21_membership_is_point_in_time(client, world):
    lists = await programme_lists(client, world)
    p = await make_project(client, world, code="WL-1")
    # joins on 01/03, leaves on 01/08, joins again on 15/09: three changes, nothing edited
    for action, on in (("join", "2024-03-01"), ("leave", "2024-08-01"), ("join", "2024-09-15")):
        assert (await _change(client, world, lists["app2"], p["id"], action, on)).status_code == 201
    assert await _members(client, world, lists["app2"], "2024-02-29") == []
    [may] = await _members(client, world, lists["app2"], "2024-05-01")
    assert may["project_id"] == p["id"] and may["member_since"] == "2024-03-01"
    assert await _members(client, world, lists["app2"], "2024-08-01") == []  # left that day (to is exclusive)
    [now] = await _members(client, world, lists["app2"], "2024-10-11")
    assert now["member_since"] == "2024-09-15"
    read = (await client.get(f"/api/v1/projects/{p['id']}", headers=world.h("viewer"))).json()
    assert read["watch_lists"] == ["app2"]  # the project's answer keeps its list codes (today)
    history = (await client.get(f"/api/v1/watch-lists/{lists['app2']['id']}/changes",
                                headers=world.h("viewer"))).json()["items"]
    assert [(h["action"], h["effective_on"]) for h in history] == [
        ("join", "2024-03-01"), ("leave", "2024-08-01"), ("join", "2024-09-15")]
    counts = (await client.get("/api/v1/watch-lists", params={"as_of": "2024-08-10"},
                               headers=world.h("viewer"))).json()["items"]
    assert {w["code"]: w["members_now"] for w in counts} == {"app1": 0, "app2": 0, "app3": 0}
    # the report reads the lists as they stood
    for day, expected in (("2024-05-01", ["WL-1"]), ("2024-08-10", [])):
        report = (await client.get("/api/v1/reports/watch-lists", params={"as_of": day},
                                   headers=world.h("viewer"))).json()
        app2 = next(a for a in report["appendices"] if a["watch_list"] == "app2")
        assert [i["code"] for i in app2["items"]] == expected, day


async def test_r21_membership_history_only_moves_forward_and_must_change_something(client, world):
    lists = await programme_lists(client, world)
    p = await make_project(client, world, code="WL-1")
    assert (await _change(client, world, lists["app3"], p["id"], "join", "2024-06-01")).status_code == 201
    earlier = await _change(client, world, lists["app3"], p["id"], "leave", "2024-05-31")
    assert earlier.status_code == 422 and earlier.headers["content-type"] == PROBLEM
    assert earlier.json()["code"] == "change_before_latest" and earlier.json()["earliest"] == "2024-06-01"
    again = await _change(client, world, lists["app3"], p["id"], "join", "2024-07-01")
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    absent = await _change(client, world, lists["app2"], p["id"], "leave", "2024-07-01")
    assert absent.status_code == 409 and absent.json()["code"] == "not_a_member"
    owner = await _change(client, world, lists["app3"], p["id"], "leave", "2024-07-01", role="owner")
    assert owner.status_code == 403  # planners keep the lists
    unknown = await client.post(f"/api/v1/watch-lists/{lists['app2']['id']}/changes", headers=world.h("planner"),
                                json={"project_id": 987654, "action": "join", "effective_on": "2024-07-01"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "reference_not_found"
    taken = await client.post("/api/v1/watch-lists", json={"code": "app2", "name": "x"}, headers=world.h("planner"))
    assert taken.status_code == 409 and taken.json()["code"] == "watch_list_code_taken"


async def test_r21_a_list_takes_only_projects_of_its_kind(client, world):
    lists = await programme_lists(client, world)
    public = await make_project(client, world, code="PUB-1")
    private = await make_project(client, world, code="NNS-1", funding="non_budget")
    wrong = await _change(client, world, lists["app1"], public["id"], "join", "2024-10-01")
    assert wrong.status_code == 422 and wrong.json()["code"] == "watch_list_funding_mismatch"
    assert wrong.json()["allowed"] == ["non_budget"] and wrong.json()["errors"][0]["pointer"] == "/project_id"
    assert (await _change(client, world, lists["app2"], private["id"], "join", "2024-10-01")).status_code == 422
    assert (await _change(client, world, lists["app1"], private["id"], "join", "2024-10-01")).status_code == 201


async def test_r21_a_non_budget_project_refuses_money_but_reports_progress_and_obstacles(client, world):
    lists = await programme_lists(client, world)
    p = await make_project(client, world, code="NNS-1", funding="non_budget", watch_lists=["app1"])
    assert p["funding"] == "non_budget" and p["watch_lists"] == ["app1"]
    plan = await allocate(client, world, p["id"], 10 * B)
    assert plan.status_code == 422 and plan.headers["content-type"] == PROBLEM
    body = plan.json()
    assert body["code"] == "non_budget_project" and body["allowed_funding"] == ["public"]
    assert body["errors"][0]["pointer"] == "/project_id"
    money = await client.post(f"/api/v1/projects/{p['id']}/disbursements", headers=world.h("treasury"),
                              json=disbursement_body(B, "P-1"))
    assert money.status_code == 422 and money.json()["code"] == "non_budget_project"
    batch = await client.post("/api/v1/disbursements/batch", headers=world.h("treasury"),
                              json={"rows": [{**disbursement_body(B, "P-2"), "project_id": p["id"]}]})
    assert batch.status_code == 422 and batch.json()["errors"][0]["code"] == "non_budget_project"
    balances = (await client.get(f"/api/v1/projects/{p['id']}/balances", headers=world.h("viewer"))).json()
    assert balances["pools"] == []  # nothing was written
    # … but it has progress, milestones and obstacles with the agency that unblocks them
    assert (await client.post(f"/api/v1/projects/{p['id']}/progress", headers=world.h("owner"),
                              json={"reported_on": "2024-09-30", "physical_pct": 42.5})).status_code == 201
    assert (await client.post(f"/api/v1/projects/{p['id']}/milestones", headers=world.h("owner"),
                              json={"milestone": "completion", "planned_on": "2025-12-31",
                                    "reported_on": "2024-09-30"})).status_code == 201
    r = await client.post(f"/api/v1/projects/{p['id']}/obstacles", headers=world.h("planner"),
                          json={"category": "site_clearance", "title": "Chưa bàn giao mặt bằng",
                                "responsible_organisation_id": world.province_id,
                                "recommendation": "Đề nghị UBND huyện bàn giao mặt bằng"})
    assert r.status_code == 201, r.text
    report = (await client.get("/api/v1/reports/watch-lists", headers=world.h("viewer"))).json()
    [item] = next(a for a in report["appendices"] if a["watch_list"] == "app1")["items"]
    assert item["plan_vnd"] is None and item["rate_pct"] is None and item["flags"] == []
    assert item["physical_pct"] == 42.5 and item["milestones"]["completion"]["planned_on"] == "2025-12-31"
    assert item["obstacles"][0]["responsible_organisation"] == "UBND tỉnh Vĩnh Phúc"
    csv_text = (await client.get("/api/v1/reports/watch-lists", params={"format": "csv"},
                                 headers=world.h("viewer"))).text
    app1 = csv_text.split("Phụ lục 2")[0]
    assert "Kế hoạch vốn" not in app1 and "Cơ quan chủ trì tháo gỡ" in app1 and "UBND tỉnh Vĩnh Phúc" in app1
    assert lists["app1"]["project_funding"] == "non_budget"


async def test_r21_progress_and_milestones_are_point_in_time(client, world):
    p = await make_project(client, world)
    url = f"/api/v1/projects/{p['id']}"
    for day, pct in (("2024-06-30", 40.0), ("2024-09-30", 55.5)):
        r = await client.post(f"{url}/progress", headers=world.h("owner"), json={"reported_on": day,
                                                                                 "physical_pct": pct})
        assert r.status_code == 201, r.text
    for body in ({"milestone": "start", "planned_on": "2024-03-01", "actual_on": "2024-03-15",
                  "reported_on": "2024-03-31"},
                 {"milestone": "completion", "planned_on": "2025-06-30", "reported_on": "2024-03-31"},
                 {"milestone": "inauguration", "planned_on": "2025-09-02", "reported_on": "2024-03-31"},
                 {"milestone": "completion", "planned_on": "2025-08-31", "reported_on": "2024-09-30"}):  # a slip
        assert (await client.post(f"{url}/milestones", headers=world.h("planner"), json=body)).status_code == 201
    july = (await client.get(f"{url}/progress", params={"as_of": "2024-07-15"}, headers=world.h("viewer"))).json()
    assert july["physical_pct"] == 40.0 and july["progress_reported_on"] == "2024-06-30"
    milestones = {m["milestone"]: m for m in july["milestones"]}
    assert milestones["completion"]["planned_on"] == "2025-06-30"  # the slip was not known yet
    assert milestones["start"]["actual_on"] == "2024-03-15"
    now = (await client.get(f"{url}/progress", headers=world.h("viewer"))).json()
    assert now["physical_pct"] == 55.5 and len(now["progress_reports"]) == 2
    assert {m["milestone"]: m["planned_on"] for m in now["milestones"]}["completion"] == "2025-08-31"
    before = (await client.get(f"{url}/progress", params={"as_of": "2024-03-30"}, headers=world.h("viewer"))).json()
    assert before["physical_pct"] is None and before["milestones"] == []
    future = await client.post(f"{url}/progress", headers=world.h("owner"),
                               json={"reported_on": "2024-10-12", "physical_pct": 60})
    assert future.status_code == 422 and future.json()["code"] == "reported_on_in_future"
    too_much = await client.post(f"{url}/progress", headers=world.h("owner"),
                                 json={"reported_on": "2024-10-01", "physical_pct": 100.5})
    assert too_much.status_code == 422 and too_much.json()["code"] == "validation_failed"
    unknown_yet = await client.post(f"{url}/milestones", headers=world.h("owner"),
                                    json={"milestone": "completion", "actual_on": "2024-10-05",
                                          "reported_on": "2024-10-01"})
    assert unknown_yet.status_code == 422 and unknown_yet.json()["code"] == "actual_after_report"
    other = await client.post(f"{url}/progress", headers=world.h("other_owner"),
                              json={"reported_on": "2024-10-01", "physical_pct": 60})
    assert other.status_code == 403  # an owner reports for its own projects only


async def test_r21_rankings_by_lead_official_use_the_person_of_the_day(client, world, set_today):
    set_today(date(2024, 7, 1))  # recorded on 01/07, so a report of 31/07 knows it
    first = await make_person(client, world, "Hà Văn Mẫu")
    second = await make_person(client, world, "Lạc Thị Thử")
    p = await make_project(client, world, lead_person_id=first["id"])  # led by the first person from 01/07
    assert p["lead_official"] == "Phó Chủ tịch UBND tỉnh Hà Văn Mẫu" and p["lead_person_id"] == first["id"]
    q = await make_project(client, world, code="VP-GT-002")
    url = f"/api/v1/projects/{q['id']}/leads"
    for person, on in ((first, "2024-01-02"), (second, "2024-08-01")):  # the second decided ahead, from 01/08
        r = await client.post(url, headers=world.h("planner"), json={"person_id": person["id"], "effective_on": on})
        assert r.status_code == 201, r.text
    late = await client.post(url, headers=world.h("planner"), json={"person_id": first["id"],
                                                                    "effective_on": "2024-07-01"})
    assert late.status_code == 422 and late.json()["code"] == "change_before_latest"
    for pid in (p["id"], q["id"]):
        assert (await allocate(client, world, pid, 10 * B)).status_code == 201
    set_today(date(2024, 10, 11))
    leads = (await client.get(url, params={"as_of": "2024-07-31"}, headers=world.h("viewer"))).json()
    assert leads["lead"]["full_name"] == "Hà Văn Mẫu" and len(leads["items"]) == 2

    async def groups(as_of: str) -> dict:
        r = await client.get("/api/v1/summaries", params={"group_by": "lead_official", "as_of": as_of},
                             headers=world.h("viewer"))
        assert r.status_code == 200, r.text
        return {g["label"]: (g["key"], g["projects"], g["plan_vnd"]) for g in r.json()["groups"]}

    # 31/07: both led by the first person (2 projects, 10 + 10 tỷ); the key is the person, not a text
    assert await groups("2024-07-31") == {"Phó Chủ tịch UBND tỉnh Hà Văn Mẫu": (str(first["id"]), 2, 20 * B)}
    # today (stored indicators): q has passed to the second person on 01/08
    assert await groups("2024-10-11") == {"Phó Chủ tịch UBND tỉnh Hà Văn Mẫu": (str(first["id"]), 1, 10 * B),
                                          "Phó Chủ tịch UBND tỉnh Lạc Thị Thử": (str(second["id"]), 1, 10 * B)}


async def test_r21_working_groups_are_people_with_roles_over_time(client, world):
    from app.kernel.db import session_scope
    from app.models import WorkingGroup

    async with session_scope() as session:
        group = WorkingGroup(code="TCT-1", name="Tổ công tác số 1")
        session.add(group)
        await session.flush()
        gid = group.id
    leader = await make_person(client, world, "Hà Văn Mẫu")
    member = await make_person(client, world, "Lò Thị Thử", title="Phó Giám đốc Sở")
    url = f"/api/v1/working-groups/{gid}/members"
    for body in ({"person_id": leader["id"], "action": "join", "role": "leader", "effective_on": "2024-01-02"},
                 {"person_id": member["id"], "action": "join", "effective_on": "2024-03-01"},
                 {"person_id": member["id"], "action": "leave", "effective_on": "2024-09-01"}):
        r = await client.post(url, headers=world.h("planner"), json=body)
        assert r.status_code == 201, r.text
    june = (await client.get(url, params={"as_of": "2024-06-30"}, headers=world.h("viewer"))).json()["items"]
    assert [(m["person"]["full_name"], m["role"]) for m in june] == [("Hà Văn Mẫu", "leader"),
                                                                     ("Lò Thị Thử", "member")]
    now = (await client.get(url, headers=world.h("viewer"))).json()["items"]
    assert [m["person"]["full_name"] for m in now] == ["Hà Văn Mẫu"]
    listed = (await client.get("/api/v1/working-groups", headers=world.h("viewer"))).json()["items"]
    assert listed[0]["leader_name"] == "Phó Chủ tịch UBND tỉnh Hà Văn Mẫu"
    viewer = await client.post(url, headers=world.h("viewer"), json={"person_id": member["id"], "action": "join",
                                                                      "effective_on": "2024-10-01"})
    assert viewer.status_code == 403


async def test_a_list_code_excel_refuses_in_a_sheet_name_still_gives_a_workbook(client, world):
    # regression (live Schemathesis, CI): a code with "/" made openpyxl raise and the xlsx report answer 500
    made = await client.post("/api/v1/watch-lists", json={"code": "qd/12", "name": "Danh mục"},
                             headers=world.h("planner"))
    assert made.status_code == 201, made.text
    r = await client.get("/api/v1/reports/watch-lists", params={"format": "xlsx"}, headers=world.h("viewer"))
    assert r.status_code == 200, r.text
    from io import BytesIO

    from openpyxl import load_workbook
    assert "QD_12" in load_workbook(BytesIO(r.content)).sheetnames
