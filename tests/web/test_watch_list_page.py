"""The dashboard's watch-list page (R21): each list as it stood on as_of, Appendix 1 without money, with physical
progress, milestones, the lead official and the agency unblocking each obstacle."""

from __future__ import annotations

import re

from tests.conftest import make_person, make_project, programme_lists
from tests.web.test_dashboard_access import _sign_in


async def test_r21_watch_list_page_shows_the_lists_of_the_day(client, world):
    lists = await programme_lists(client, world)
    lead = await make_person(client, world, "Hà Văn Mẫu")
    p = await make_project(client, world, code="NNS-1", funding="non_budget", lead_person_id=lead["id"])
    r = await client.post(f"/api/v1/watch-lists/{lists['app1']['id']}/changes", headers=world.h("planner"),
                          json={"project_id": p["id"], "action": "join", "effective_on": "2024-10-01"})
    assert r.status_code == 201, r.text
    assert (await client.post(f"/api/v1/projects/{p['id']}/progress", headers=world.h("owner"),
                              json={"reported_on": "2024-09-30", "physical_pct": 42.5})).status_code == 201
    assert (await client.post(f"/api/v1/projects/{p['id']}/obstacles", headers=world.h("planner"),
                              json={"category": "procedures", "title": "Chậm giao đất",
                                    "responsible_organisation_id": world.province_id})).status_code == 201
    assert (await _sign_in(client, world, "viewer")).status_code == 303
    page = await client.get("/dashboard/watch-lists")
    assert page.status_code == 200, page.text
    app1 = page.text.split('id="list-app1"')[1].split("</section>")[0]
    row = re.search(r'<tr data-project="\d+" data-progress="([^"]*)">(.*?)</tr>', app1, re.S)
    assert row is not None and row.group(1) == "42.5"
    assert "NNS-1" in row.group(2) and "Hà Văn Mẫu" in row.group(2) and "UBND tỉnh Vĩnh Phúc" in row.group(2)
    assert "Kế hoạch" not in app1  # a non-budget list has no capital columns
    before = await client.get("/dashboard/watch-lists", params={"as_of": "2024-09-30"})
    assert "NNS-1" not in before.text  # it joined on 01/10
