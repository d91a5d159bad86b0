"""Authority over facts, as a matrix generated from `app.kernel.security.FACT_AUTHORITY` (R15a, R4).

For every fact × whose fact it is × every role: the caller's answer is what the table says — allowed (2xx, or a
rule refusal that is not 403), refused by role (`forbidden`, from POLICY) or refused by the fact's owner
(`fact_authority`). Nothing here lists roles by hand: change the table and the expectations follow.
"""

from __future__ import annotations

import itertools

import pytest

from app.enums import Role
from app.kernel.security import FACT_AUTHORITY, POLICY
from tests.conftest import allocate, disbursement_body, make_project

CALLERS = [role.value for role in Role]


def _expected(role: Role, action: str, fact: str, whose: str) -> str:
    if role not in POLICY[action]:
        return "forbidden"
    return "allowed" if role in FACT_AUTHORITY[(fact, whose)] else "fact_authority"


def _outcome(response) -> str:
    if response.status_code == 403:
        return response.json()["code"]
    assert response.status_code < 500, response.text
    return "allowed"


async def _project(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 50_000_000_000)).status_code == 201
    return project


@pytest.mark.parametrize(("source", "caller"), list(itertools.product(("treasury", "owner"), CALLERS)))
async def test_r15a_who_may_reverse_an_entry_depends_on_its_source(client, world, source, caller):
    project = await _project(client, world)
    body = disbursement_body(1_000_000_000, "KB-1", kind="payment")
    recorded = await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=body,
                                 headers=world.h(source))
    assert recorded.status_code == 201 and recorded.json()["source"] == source
    reversal = await client.post(f"/api/v1/disbursements/{recorded.json()['id']}/reversal",
                                 json={"document_number": "KB-1-R", "value_date": "2024-10-01", "note": "sai"},
                                 headers=world.h(caller))
    role = Role(caller)
    assert _outcome(reversal) == _expected(role, "disbursement.write", "ledger_entry.correct", source), reversal.text
    if reversal.status_code == 201:
        assert reversal.json()["source"] == ("treasury" if role is Role.treasury else "owner")


CONTRACT_CHANGES = {
    "contract.controls": {"guarantee_vnd": 3_000_000_000, "guarantee_expires_on": "2025-12-31"},
    "contract.advance_rate": {"approved_advance_rate_pct": 35, "approving_decision": "45/QĐ-UBND 2024-05-02"},
    "contract.details": {"contractor": "Công ty B"},
}


@pytest.mark.parametrize(("fact", "with_advances", "caller"), [
    (fact, advanced, caller) for fact in CONTRACT_CHANGES for advanced in (False, True) for caller in CALLERS])
async def test_r15a_who_may_change_a_contract_depends_on_the_fact(client, world, fact, with_advances, caller):
    project = await _project(client, world)
    contract = (await client.post(f"/api/v1/projects/{project['id']}/contracts", headers=world.h("owner"), json={
        "number": "01/HĐ", "contract_type": "construction", "contractor": "Công ty A", "value_vnd": 10_000_000_000,
        "signed_on": "2024-02-01", "full_recovery_date": "2025-06-30", "guarantee_vnd": 3_000_000_000,
        "guarantee_expires_on": "2025-06-30"})).json()
    if with_advances:
        advance = disbursement_body(2_000_000_000, "TU-1", kind="advance", contract_id=contract["id"])
        assert (await client.post(f"/api/v1/projects/{project['id']}/disbursements", json=advance,
                                  headers=world.h("treasury"))).status_code == 201
    version = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=world.h("viewer"))).headers["ETag"]
    response = await client.patch(f"/api/v1/contracts/{contract['id']}", json=CONTRACT_CHANGES[fact],
                                  headers=world.h(caller, **{"If-Match": version}))
    whose = ("with_advances" if with_advances else "without_advances") if fact == "contract.controls" else "any"
    assert _outcome(response) == _expected(Role(caller), "contract.write", fact, whose), response.text


def test_every_contract_field_belongs_to_a_fact():
    from app.kernel.security import CONTRACT_FACTS
    from app.treasury.schemas import ContractCreate, ContractUpdate

    assert set(ContractCreate.model_fields) | set(ContractUpdate.model_fields) <= set(CONTRACT_FACTS)
    assert set(CONTRACT_FACTS.values()) <= {fact for fact, _ in FACT_AUTHORITY}
