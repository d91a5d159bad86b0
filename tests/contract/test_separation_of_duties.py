"""R19 separation of duties, as a matrix: who may approve a proposal, given who drafted it.

Refused (403 `separation_of_duties`, with the reason): the approver key and the drafter key have the same holder
(case, spacing and Unicode composition ignored), the same organisation, or one was issued by the other, directly or
through keys it issued. The same key stays `approver_is_drafter`. docs/rules.md, R19.
"""

from __future__ import annotations

import pytest

from tests.api.test_api_keys import bearer, mint
from tests.api.test_reallocation_api import APPROVAL, _pools

URL = "/api/v1/reallocation-proposals"
DRAFT = {"plan_year": 2024, "pools": [{"capital_source": "local_balanced", "budget_level": "province"}],
         "options": {"minimum_transfer_vnd": 1_000_000_000}}


async def _submitted(client, world, drafter: dict[str, str]) -> tuple[int, str]:
    drafted = await client.post(URL, json=DRAFT, headers=drafter)
    assert drafted.status_code == 201, drafted.text
    pid = drafted.json()["id"]
    submitted = await client.post(f"{URL}/{pid}/submit", headers={**drafter, "If-Match": drafted.headers["ETag"]})
    assert submitted.status_code == 200, submitted.text
    return pid, submitted.headers["ETag"]


async def _approve(client, pid: int, etag: str, approver: dict[str, str]):
    return await client.post(f"{URL}/{pid}/approve", json=APPROVAL, headers={**approver, "If-Match": etag})


def _refused(response, reason: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "separation_of_duties" and response.json()["reason"] == reason


async def test_r19_admin_cannot_approve_its_own_draft_with_a_key_it_minted_for_itself(client, world):
    await _pools(client, world)
    pid, etag = await _submitted(client, world, world.h("admin"))
    # Same person, another organisation: still one hand.
    own = await mint(client, world, role="approver", holder="admin", organisation_id=world.province_id)
    _refused(await _approve(client, pid, etag, bearer(own)), "same_holder")
    # Another holder's name on it does not help: the drafter's key issued it.
    alias = await mint(client, world, role="approver", holder="Vũ Thị Hoa", organisation_id=world.province_id)
    _refused(await _approve(client, pid, etag, bearer(alias)), "approver_key_issued_by_drafter")
    same_key = await _approve(client, pid, etag, world.h("admin"))
    assert same_key.status_code == 403 and same_key.json()["code"] == "approver_is_drafter"
    # A properly separated approver (another person, the People's Committee, not issued by the drafter).
    approved = await _approve(client, pid, etag, world.h("approver"))
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text


@pytest.mark.parametrize(("case", "reason"), [
    ("holder differs only in case and spacing", "same_holder"),
    ("same organisation as the drafter", "same_organisation"),
    ("issued through a key the drafter issued", "approver_key_issued_by_drafter"),
    ("the approver's key issued the drafter's", "drafter_key_issued_by_approver"),
])
async def test_r19_related_keys_cannot_approve(client, world, case, reason):
    await _pools(client, world)
    admin = world.h("admin")
    if case == "holder differs only in case and spacing":
        drafter = world.h("planner")
        approver = bearer(await mint(client, world, role="approver", holder="  PLANNER ",
                                     organisation_id=world.province_id))
    elif case == "same organisation as the drafter":
        drafter = world.h("planner")
        planning = next(o["id"] for o in (await client.get("/api/v1/organisations?page_size=100", headers=admin))
                        .json()["items"] if o["code"] == "SKHDT")
        approver = bearer(await mint(client, world, role="approver", holder="Đỗ Quang Huy",
                                     organisation_id=planning))
    elif case == "issued through a key the drafter issued":
        drafter = admin
        deputy = await mint(client, world, role="admin", holder="Ngô Thanh Lâm", organisation_id=world.province_id)
        approver = bearer(await mint(client, world, by_key=deputy, role="approver", holder="Bùi Văn Nam",
                                     organisation_id=world.province_id))
    else:
        drafter = bearer(await mint(client, world, role="planner", holder="Đặng Thị Oanh",
                                    organisation_id=world.investor_id))
        approver = admin
    pid, etag = await _submitted(client, world, drafter)
    _refused(await _approve(client, pid, etag, approver), reason)


async def test_r19_separate_keys_approve(client, world):
    await _pools(client, world)
    drafter = bearer(await mint(client, world, role="planner", holder="Đặng Thị Oanh",
                                organisation_id=world.investor_id))
    pid, etag = await _submitted(client, world, drafter)
    # Issued by the same administrator as the drafter's key, but neither issued the other: separate.
    approver = bearer(await mint(client, world, role="approver", holder="Bùi Văn Nam",
                                 organisation_id=world.province_id))
    approved = await _approve(client, pid, etag, approver)
    assert approved.status_code == 200, approved.text
