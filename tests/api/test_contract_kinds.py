"""R8 by the contract's kind (DOMAIN.md R8; docs/rules.md R8): joint-venture members each at 80% of their share,
equipment contracts recovered on completed supply, and the rule set's base of "giá trị giải ngân". Figures by hand
in the comments; the business date is 2024-10-11, so nd99 applies (base: gross payments)."""

from __future__ import annotations

from app.kernel.db import session_scope
from app.ledger.verify import check_all
from tests.conftest import allocate, disbursement_body, make_project

B = 1_000_000_000  # 1 tỷ


async def _project(client, world) -> dict:
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 50 * B)).status_code == 201
    return project


async def _contract(client, world, project, number, value, kind="construction", **fields) -> dict:
    body = {"number": number, "contract_type": kind, "contractor": "Liên danh A-B", "value_vnd": value,
            "signed_on": "2024-02-01", "full_recovery_date": "2025-06-30", **fields}
    response = await client.post(f"/api/v1/projects/{project['id']}/contracts", json=body, headers=world.h("owner"))
    assert response.status_code == 201, response.text
    return response.json()


async def _post(client, world, project, contract, amount, doc, kind="payment", **extra):
    body = disbursement_body(amount, doc, kind=kind, contract_id=contract["id"], **extra)
    return await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=body, headers=world.h("treasury"))


def _problem(response, code: str) -> dict:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code, response.text
    return response.json()


async def _read(client, world, contract) -> dict:
    return (await client.get(f"/api/v1/contracts/{contract['id']}", headers=world.h("viewer"))).json()


async def _verify_clean() -> None:
    async with session_scope() as session:
        findings = await check_all(session)
    assert findings == [], [str(f) for f in findings]


async def test_r8_a_joint_venture_member_reaching_80pct_of_its_share_recovers_its_own_advance(client, world):
    project = await _project(client, world)
    # A 20 tỷ joint venture: A and B each 10 tỷ. Guarantee 4 tỷ covers the 3 tỷ advanced (R6).
    contract = await _contract(client, world, project, "JV-1", 20 * B, guarantee_vnd=4 * B,
                               guarantee_expires_on="2025-06-30",
                               members=[{"name": "Công ty A", "share_vnd": 10 * B},
                                        {"name": "Công ty B", "share_vnd": 10 * B}])
    a, b = (m["id"] for m in contract["members"])
    assert (await _post(client, world, project, contract, 2 * B, "TU-A", kind="advance",
                        contract_member_id=a)).status_code == 201
    assert (await _post(client, world, project, contract, B, "TU-B", kind="advance",
                        contract_member_id=b)).status_code == 201
    _problem(await _post(client, world, project, contract, B, "TT-X"), "contract_member_required")

    # A is paid 8 tỷ gross: 8/10 = 80% of its share, while the contract is at 8/20 = 40%. A's whole outstanding
    # 2 tỷ must be recovered; 1 tỷ is refused with the minimum.
    short = _problem(await _post(client, world, project, contract, 8 * B, "TT-A1", advance_recovered_vnd=B,
                                 contract_member_id=a), "completion_recovery_required")
    assert short["minimum_recovery_vnd"] == 2 * B
    assert (await _post(client, world, project, contract, 8 * B, "TT-A1", advance_recovered_vnd=2 * B,
                        contract_member_id=a)).status_code == 201
    # B (paid nothing) keeps its 1 tỷ outstanding; a recovery from B cannot exceed B's own 1 tỷ (R7 per member).
    _problem(await _post(client, world, project, contract, 3 * B, "TT-B1", advance_recovered_vnd=2 * B,
                         contract_member_id=b), "recovery_exceeds_outstanding")
    got = await _read(client, world, contract)
    assert got["outstanding_vnd"] == B and got["paid_vnd"] == 8 * B
    assert [(m["name"], m["advanced_vnd"], m["outstanding_vnd"], m["paid_vnd"]) for m in got["members"]] == [
        ("Công ty A", 2 * B, 0, 8 * B), ("Công ty B", B, B, 0)]

    # An advance to A now would leave A outstanding at 80% of its share.
    _problem(await _post(client, world, project, contract, B, "TU-A2", kind="advance", contract_member_id=a),
             "advance_after_completion")
    # Only the contract's own members may be named.
    other = await _contract(client, world, project, "HĐ-2", 5 * B)
    _problem(await _post(client, world, project, other, B, "TT-O", contract_member_id=a),
             "contract_member_not_in_contract")
    await _verify_clean()


async def test_r8_joint_venture_shares_sum_to_the_value_and_move_only_with_it(client, world):
    project = await _project(client, world)
    bad = await client.post(f"/api/v1/projects/{project['id']}/contracts", headers=world.h("owner"), json={
        "number": "JV-BAD", "contract_type": "construction", "contractor": "LD", "value_vnd": 20 * B,
        "signed_on": "2024-02-01", "members": [{"name": "A", "share_vnd": 10 * B}, {"name": "B", "share_vnd": 9 * B}]})
    problem = _problem(bad, "jv_shares_must_sum_to_value")
    assert (problem["shares_total_vnd"], problem["value_vnd"]) == (19 * B, 20 * B)
    contract = await _contract(client, world, project, "JV-2", 20 * B,
                               members=[{"name": "A", "share_vnd": 10 * B}, {"name": "B", "share_vnd": 10 * B}])
    etag = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=world.h("owner"))).headers["ETag"]
    amended = await client.patch(f"/api/v1/contracts/{contract['id']}", json={"value_vnd": 22 * B},
                                 headers=world.h("owner", **{"If-Match": etag}))
    _problem(amended, "jv_shares_must_sum_to_value")  # the shares are restated with the amendment
    amended = await client.patch(f"/api/v1/contracts/{contract['id']}", headers=world.h("owner", **{"If-Match": etag}),
                                 json={"value_vnd": 22 * B, "members": [{"name": "A", "share_vnd": 12 * B},
                                                                        {"name": "B", "share_vnd": 10 * B}]})
    assert amended.status_code == 200, amended.text
    assert [m["share_vnd"] for m in amended.json()["members"]] == [12 * B, 10 * B]


async def test_r8_an_equipment_contract_is_recovered_on_completed_supply_not_at_80pct(client, world):
    project = await _project(client, world)
    equipment = await _contract(client, world, project, "TB-1", 10 * B, kind="equipment", guarantee_vnd=2 * B,
                                guarantee_expires_on="2025-06-30")
    works = await _contract(client, world, project, "XD-1", 10 * B)
    for contract, doc in ((equipment, "TU-E"), (works, "TU-W")):  # 1 tỷ each: 10%, no guarantee needed (R6)
        assert (await _post(client, world, project, contract, B, doc, kind="advance")).status_code == 201

    # 8.5 tỷ paid of 10 tỷ = 85% with 1 tỷ outstanding: accepted for equipment, refused for construction works.
    assert (await _post(client, world, project, equipment, 8_500_000_000, "TT-E1")).status_code == 201
    works_85 = _problem(await _post(client, world, project, works, 8_500_000_000, "TT-W1"),
                        "completion_recovery_required")
    assert works_85["minimum_recovery_vnd"] == B
    _problem(await _post(client, world, project, works, B, "TT-W2", completes_supply=True),
             "supply_completion_not_applicable")

    # The payment completing the supply must recover the whole 1 tỷ remainder (0.6 tỷ keeps R3: 9.5 + 1 − 0.6 = 9.9
    # tỷ ≤ 10 tỷ, and is refused by R8 alone).
    partial = _problem(await _post(client, world, project, equipment, B, "TT-E2", advance_recovered_vnd=600_000_000,
                                   completes_supply=True), "completion_recovery_required")
    assert partial["minimum_recovery_vnd"] == B
    completing = await _post(client, world, project, equipment, B, "TT-E2", advance_recovered_vnd=B,
                             completes_supply=True)
    assert completing.status_code == 201, completing.text
    assert completing.json()["completes_supply"] is True
    got = await _read(client, world, equipment)
    assert (got["supply_complete"], got["outstanding_vnd"], got["paid_vnd"]) == (True, 0, 9_500_000_000)
    refused = _problem(await _post(client, world, project, equipment, 100_000_000, "TU-E2", kind="advance"),
                       "advance_after_completion")
    assert refused["allowed_max_vnd"] == 0

    # A reversal is decided the same way: undoing the completing payment leaves the supply incomplete and the 1 tỷ
    # outstanding at 85% paid, which an equipment contract allows.
    reversal = await client.post(f"/api/v1/disbursements/{completing.json()['id']}/reversal",
                                 json={"document_number": "DC-E2", "value_date": "2024-06-11",
                                       "note": "completion recorded too early"}, headers=world.h("treasury"))
    assert reversal.status_code == 201, reversal.text
    got = await _read(client, world, equipment)
    assert (got["supply_complete"], got["outstanding_vnd"], got["paid_vnd"]) == (False, B, 8_500_000_000)
    await _verify_clean()


async def _override(client, world, overrides: dict) -> None:
    read = await client.get("/api/v1/rule-sets/nd99", headers=world.h("admin"))
    response = await client.patch("/api/v1/rule-sets/nd99", json={"overrides": overrides},
                                  headers=world.h("admin", **{"If-Match": read.headers["ETag"]}))
    assert response.status_code == 200, response.text


async def test_r8_the_rule_sets_base_of_value_disbursed_decides_the_outcome(client, world):
    project = await _project(client, world)
    contract = await _contract(client, world, project, "XD-2", 10 * B, guarantee_vnd=2 * B,
                               guarantee_expires_on="2025-06-30")
    assert (await _post(client, world, project, contract, 2 * B, "TU-1", kind="advance")).status_code == 201
    assert (await _post(client, world, project, contract, 5_500_000_000, "TT-1")).status_code == 201
    # Next: 1 tỷ paid without recovery. Gross payments 6.5 tỷ = 65% (< 80%); net disbursed = outstanding 2 tỷ +
    # payments 6.5 tỷ = 8.5 tỷ = 85% (≥ 80%). Under the net base the least recovery keeps it below 8 tỷ:
    # 8.5 tỷ − 7,999,999,999 = 500,000,001 đồng.
    await _override(client, world, {"completion_recovery_base": "net_disbursed"})
    net = _problem(await _post(client, world, project, contract, B, "TT-2"), "completion_recovery_required")
    assert net["minimum_recovery_vnd"] == 500_000_001
    await _override(client, world, {"completion_recovery_base": None})  # back to nd99's gross payments
    assert (await _post(client, world, project, contract, B, "TT-2")).status_code == 201
    unknown = await client.get("/api/v1/rule-sets/nd99", headers=world.h("admin"))
    bad = await client.patch("/api/v1/rule-sets/nd99", json={"overrides": {"completion_recovery_base": "net"}},
                             headers=world.h("admin", **{"If-Match": unknown.headers["ETag"]}))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_rule_set_override"
    await _verify_clean()


async def test_r15a_contract_type_and_joint_venture_shares_are_the_treasurys_once_advanced(client, world):
    # What R8 is measured by (the type, the shares) is a contract control (security.FACT_AUTHORITY): the owner's
    # record until the contract has advances, then the Treasury's.
    project = await _project(client, world)
    contract = await _contract(client, world, project, "JV-3", 20 * B,
                               members=[{"name": "A", "share_vnd": 10 * B}, {"name": "B", "share_vnd": 10 * B}])
    url = f"/api/v1/contracts/{contract['id']}"

    async def patch(role: str, body: dict):
        etag = (await client.get(url, headers=world.h(role))).headers["ETag"]
        return await client.patch(url, json=body, headers=world.h(role, **{"If-Match": etag}))

    assert (await patch("owner", {"contract_type": "epc"})).status_code == 200
    a = contract["members"][0]["id"]
    assert (await _post(client, world, project, contract, B, "TU-A", kind="advance",
                        contract_member_id=a)).status_code == 201
    shares = {"members": [{"name": "A", "share_vnd": 9 * B}, {"name": "B", "share_vnd": 11 * B}]}
    for body in ({"contract_type": "construction"}, shares):
        refused = await patch("owner", body)
        assert refused.status_code == 403 and refused.json()["code"] == "fact_authority", refused.text
    assert (await patch("treasury", shares)).status_code == 200
    renamed = await patch("treasury", {"members": [{"name": "A", "share_vnd": 9 * B},
                                                   {"name": "C", "share_vnd": 11 * B}]})
    assert renamed.status_code == 422 and renamed.json()["code"] == "jv_members_fixed"


async def test_r8_the_treasury_pays_a_joint_venture_dossier_to_a_named_member(client, world):
    """R8/R15: a joint-venture contract's dossier was unpayable (no member to name); the payment names the member paid,
    is refused without one with the pipeline's own code, and changes nothing then."""
    project = await _project(client, world)
    contract = await _contract(client, world, project, "JV-D", 20 * B,
                               members=[{"name": "A", "share_vnd": 10 * B}, {"name": "B", "share_vnd": 10 * B}])
    dossier = await client.post(f"/api/v1/projects/{project['id']}/dossiers", headers=world.h("owner"), json={
        "kind": "payment", "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province",
        "contract_id": contract["id"], "amount_vnd": 2 * B, "document_number": "HS-JV", "submitted_on": "2024-10-01"})
    assert dossier.status_code == 201, dossier.text
    url = f"/api/v1/dossiers/{dossier.json()['id']}"
    done = await client.post(f"{url}/complete", json={"on": "2024-10-02"}, headers=world.h("treasury"))
    assert done.status_code == 200, done.text
    etag = {"If-Match": done.headers["ETag"]}
    _problem(await client.post(f"{url}/pay", json={"on": "2024-10-03"}, headers=world.h("treasury", **etag)),
             "contract_member_required")
    b = contract["members"][1]["id"]
    paid = await client.post(f"{url}/pay", json={"on": "2024-10-03", "contract_member_id": b},
                             headers=world.h("treasury", **etag))
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    got = await _read(client, world, contract)
    assert [(m["name"], m["paid_vnd"]) for m in got["members"]] == [("A", 0), ("B", 2 * B)]
    await _verify_clean()
