"""R1 and R19 budget holders over HTTP: a pool is (project, plan year, capital source, budget holder) — the province
or one named district or commune government — and capital never crosses holders."""

from __future__ import annotations

from app.kernel.db import session_scope
from app.ledger.verify import check_all
from tests.conftest import allocate, disbursement_body, make_project

B = 1_000_000_000
PROBLEM = "application/problem+json"
APPROVAL = {"authority": "UBND tỉnh Vĩnh Phúc", "decision_number": "2600/QĐ-UBND", "decision_date": "2024-10-11"}


async def _district(client, world, code: str) -> tuple[int, int]:
    """A district government under the province and its project board: (government id, board id)."""
    ids = []
    for org_code, kind, parent in ((f"UBND-{code}", "district", world.province_id), (f"BQL-{code}", "investor", None)):
        body = {"code": org_code, "name": f"{org_code} (test)", "kind": kind, "parent_id": parent or ids[0],
                "valid_from": "2000-01-01"}
        response = await client.post("/api/v1/organisations", json=body, headers=world.h("admin"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids[0], ids[1]


def _problem(response, status: int, code: str, pointer: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code, body
    if pointer is not None:
        assert body["errors"][0]["pointer"] == pointer, body
    return body


async def _disburse(client, world, project_id: int, amount: int, doc: str, **pool):
    body = disbursement_body(amount, doc, budget_level="district", **pool)
    return await client.post(f"/api/v1/projects/{project_id}/disbursements", json=body, headers=world.h("treasury"))


async def test_r1_the_holder_defaults_from_the_investor_and_must_be_of_the_levels_kind(client, world):
    """Omitted: a district-level pool is held by the district above the project's board, a province-level pool by
    the province's people's committee. Named: it must be an organisation of the level's kind."""
    district_a, board_a = await _district(client, world, "A")
    project = await make_project(client, world, code="VP-HUYEN-A", investor_id=board_a)
    district = await allocate(client, world, project["id"], 10 * B, level="district")
    assert district.status_code == 201, district.text
    assert district.json()["budget_holder_id"] == district_a
    province = await allocate(client, world, project["id"], 4 * B, decision="02/QĐ-UBND")
    assert province.status_code == 201 and province.json()["budget_holder_id"] == world.province_id
    # The province's own board has no district above it: a district-level pool must name its holder.
    provincial = await make_project(client, world, code="VP-TINH-1")
    body = _problem(await allocate(client, world, provincial["id"], 1 * B, level="district"), 422,
                    "budget_holder_required", "/budget_holder_id")
    assert body["allowed_kind"] == "district"
    body = _problem(await allocate(client, world, project["id"], 1 * B, level="district", decision="03/QĐ-UBND",
                                   budget_holder_id=world.province_id), 422, "budget_holder_wrong_kind",
                    "/budget_holder_id")
    assert (body["allowed_kind"], body["kind"]) == ("district", "people_committee")
    _problem(await allocate(client, world, project["id"], 1 * B, level="province", decision="04/QĐ-UBND",
                            budget_holder_id=district_a), 422, "budget_holder_wrong_kind", "/budget_holder_id")
    _problem(await allocate(client, world, project["id"], 1 * B, level="district", decision="05/QĐ-UBND",
                            budget_holder_id=987_654), 422, "reference_not_found", "/budget_holder_id")
    # In a batch, the refused row is named; nothing is recorded.
    rows = [{**disbursement_body(1 * B, "BATCH-1", budget_level="district", budget_holder_id=world.province_id),
             "project_id": project["id"]}]
    body = _problem(await client.post("/api/v1/disbursements/batch", json={"rows": rows}, headers=world.h("treasury")),
                    422, "batch_rejected")
    assert [(e["code"], e["pointer"]) for e in body["errors"]] == [("budget_holder_wrong_kind",
                                                                    "/rows/0/budget_holder_id")]


async def test_r1_the_plan_cap_is_per_holder(client, world):
    """A project of district A co-funded by district B has two district-level pools. By hand: A's plan 10 tỷ, B's
    5 tỷ. 12 tỷ from A is refused (remaining 10 tỷ — B's 5 tỷ are not A's); 8 tỷ from A pass, then 3 tỷ from A is
    refused (remaining 10 − 8 = 2 tỷ) while 5 tỷ from B pass (remaining 5 tỷ)."""
    district_a, board_a = await _district(client, world, "A")
    district_b, _ = await _district(client, world, "B")
    project = await make_project(client, world, code="VP-HUYEN-AB", investor_id=board_a)
    assert (await allocate(client, world, project["id"], 10 * B, level="district")).status_code == 201
    assert (await allocate(client, world, project["id"], 5 * B, level="district",
                           budget_holder_id=district_b)).status_code == 201
    body = _problem(await _disburse(client, world, project["id"], 12 * B, "A-1"), 422, "plan_cap_exceeded")
    assert body["remaining_vnd"] == 10 * B
    paid = await _disburse(client, world, project["id"], 8 * B, "A-2")
    assert paid.status_code == 201 and paid.json()["budget_holder_id"] == district_a
    body = _problem(await _disburse(client, world, project["id"], 3 * B, "A-3"), 422, "plan_cap_exceeded")
    assert body["remaining_vnd"] == 2 * B
    paid = await _disburse(client, world, project["id"], 5 * B, "B-1", budget_holder_id=district_b)
    assert paid.status_code == 201 and paid.json()["budget_holder_id"] == district_b
    pools = (await client.get(f"/api/v1/projects/{project['id']}/balances", params={"plan_year": 2024},
                              headers=world.h("viewer"))).json()["pools"]
    assert sorted((p["budget_holder_id"], p["plan_vnd"], p["disbursed_vnd"]) for p in pools) == sorted(
        [(district_a, 10 * B, 8 * B), (district_b, 5 * B, 5 * B)])
    summary = await client.get("/api/v1/summaries", params={"plan_year": 2024, "group_by": "budget_holder"},
                               headers=world.h("viewer"))
    assert summary.status_code == 200, summary.text
    groups = {g["key"]: (g["label"], g["plan_vnd"], g["disbursed_vnd"]) for g in summary.json()["groups"]}
    assert groups == {str(district_a): ("UBND-A (test)", 10 * B, 8 * B),
                      str(district_b): ("UBND-B (test)", 5 * B, 5 * B)}
    async with session_scope() as session:
        assert await check_all(session) == []


async def _donor_and_recipient(client, world, donor_board: int, recipient_board: int, tag: str) -> tuple[dict, dict]:
    """Donor: 100 tỷ district plan, 10 spent in March, stalled. Recipient: completed, pace beyond its 50 tỷ plan,
    needs 30 tỷ more — in its own district's pool (holder by default)."""
    d = await make_project(client, world, code=f"D-{tag}", tmdt=500 * B, investor_id=donor_board)
    r = await make_project(client, world, code=f"R-{tag}", tmdt=500 * B, stage="completed", investor_id=recipient_board)
    assert (await allocate(client, world, d["id"], 100 * B, level="district")).status_code == 201
    assert (await allocate(client, world, r["id"], 50 * B, level="district")).status_code == 201
    assert (await _disburse(client, world, d["id"], 10 * B, f"D-{tag}-1", value_date="2024-03-15")).status_code == 201
    for i, (amount, day) in enumerate([(10, "2024-05-10"), (10, "2024-07-10"), (12, "2024-09-10"), (13, "2024-10-08")]):
        assert (await _disburse(client, world, r["id"], amount * B, f"R-{tag}-{i}", value_date=day)).status_code == 201
    need = {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "district", "amount_vnd": 30 * B,
            "justification": "Khối lượng hoàn thành chờ thanh toán", "spend_by": "2024-12-31"}
    response = await client.post(f"/api/v1/projects/{r['id']}/extra-needs", json=need, headers=world.h("admin"))
    assert response.status_code == 201, response.text
    return d, r


async def _draft(client, world) -> dict:
    body = {"plan_year": 2024, "pools": [{"capital_source": "local_balanced", "budget_level": "district"}],
            "options": {"minimum_transfer_vnd": 1 * B}}
    response = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner"))
    assert response.status_code == 201, response.text
    return response.json() | {"etag": response.headers["ETag"]}


async def test_r19_one_districts_budget_never_funds_another_districts_project(client, world):
    """District A's stalled project has surplus; district B's completed project needs 30 tỷ and could spend it.
    Same source, level and year — but another council's budget: the proposal moves nothing. Once district A has a
    recipient of its own, A's surplus goes to it, inside A's pool, and applying keeps every pool's entries zero-sum."""
    district_a, board_a = await _district(client, world, "A")
    _, board_b = await _district(client, world, "B")
    donor, recipient_b = await _donor_and_recipient(client, world, board_a, board_b, "AB")
    p = await _draft(client, world)
    assert p["transfer_count"] == 0 and p["moved_vnd"] == 0
    assert [r["project_id"] for r in p["analysis"]["recipients"]] == [recipient_b["id"]]
    assert p["analysis"]["recipients"][0]["capacity_vnd"] > 0  # able to absorb: only the holder stops it
    assert [d["pool"]["budget_holder_id"] for d in p["analysis"]["donors"]] == [district_a]
    _, recipient_a = await _donor_and_recipient(client, world, board_a, board_a, "AA")
    p = await _draft(client, world)
    assert p["transfer_count"] >= 1
    assert {t["recipient_project_id"] for t in p["transfers"]} == {recipient_a["id"]}
    assert {t["budget_holder_id"] for t in p["transfers"]} == {district_a}
    moved = p["moved_vnd"]
    etag = p["etag"]
    steps = (("submit", "planner", None), ("approve", "approver", APPROVAL), ("apply", "planner", None))
    for step, role, body in steps:
        response = await client.post(f"/api/v1/reallocation-proposals/{p['id']}/{step}", json=body,
                                     headers=world.h(role, **{"If-Match": etag}))
        assert response.status_code == 200, response.text
        etag = response.headers["ETag"]
    entries = (await client.get(f"/api/v1/projects/{recipient_a['id']}/allocations",
                                headers=world.h("viewer"))).json()["items"]
    [received] = [e for e in entries if e["kind"] == "adjustment_in"]
    assert (received["amount_vnd"], received["budget_holder_id"]) == (moved, district_a)
    async with session_scope() as session:
        assert await check_all(session) == []
    # The dashboard names whose budget moved: district A's, on the proposal and on the recipient's plan.
    key = world.h("viewer")["Authorization"].removeprefix("Bearer ")
    signed = await client.post("/dashboard/sign-in", content=f"key={key}&next=/dashboard/overview",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert signed.status_code == 303
    for page in (f"/dashboard/proposals/{p['id']}", f"/dashboard/projects/{recipient_a['id']}"):
        response = await client.get(page)
        assert response.status_code == 200 and "UBND-A (test)" in response.text, page


async def test_r19_an_envelope_names_one_holder(client, world):
    """Envelope mode: a district-level envelope without its holder is refused (nothing to infer it from); district
    A's envelope reaches A's project only, never B's."""
    district_a, board_a = await _district(client, world, "A")
    _, board_b = await _district(client, world, "B")
    await _donor_and_recipient(client, world, board_a, board_b, "AB")
    _, recipient_a = await _donor_and_recipient(client, world, board_a, board_a, "AA")
    envelope = {"capital_source": "local_balanced", "budget_level": "district", "amount_vnd": 100 * B}
    body = {"plan_year": 2024, "options": {"minimum_transfer_vnd": 1 * B}, "envelope": envelope}
    _problem(await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner")), 422,
             "budget_holder_required", "/envelope/budget_holder_id")
    body["envelope"] = {**envelope, "budget_holder_id": district_a}
    response = await client.post("/api/v1/reallocation-proposals", json=body, headers=world.h("planner"))
    assert response.status_code == 201, response.text
    p = response.json()
    assert [(t["recipient_project_id"], t["budget_holder_id"]) for t in p["transfers"]] == [
        (recipient_a["id"], district_a)]


async def test_r1_the_organisation_tree_is_read_once_and_forgotten_when_an_organisation_is_added(client, world):
    """R1 resolves every posting's holder against the organisation tree: it is remembered per worker (not re-read
    per posting) and forgotten when an organisation is written, so a district added a moment ago holds pools."""
    from sqlalchemy import event

    from app.kernel.db import get_engine

    project = await make_project(client, world, code="VP-CACHE-1")
    assert (await allocate(client, world, project["id"], 10 * B)).status_code == 201
    tree_reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if " ".join(statement.split()) == ("SELECT organisations.id, organisations.kind, organisations.parent_id "
                                           "FROM organisations"):  # the whole tree (holders._tree)
            tree_reads.append(statement)

    event.listen(get_engine().sync_engine, "before_cursor_execute", count)
    try:
        for n in range(3):
            paid = await client.post(f"/api/v1/projects/{project['id']}/disbursements",
                                     json=disbursement_body(B, f"KB-C{n}"), headers=world.h("treasury"))
            assert paid.status_code == 201, paid.text
        assert tree_reads == []  # remembered from the allocation's posting
        district, _ = await _district(client, world, "C")  # an ORM write of organisations forgets the tree
        held = await allocate(client, world, project["id"], 2 * B, level="district", decision="09/QĐ-UBND",
                              budget_holder_id=district)
        assert held.status_code == 201, held.text
        assert held.json()["budget_holder_id"] == district
        assert len(tree_reads) == 1
    finally:
        event.remove(get_engine().sync_engine, "before_cursor_execute", count)
