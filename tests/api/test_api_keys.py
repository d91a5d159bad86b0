"""API keys (issue #9): who issued a key and who holds it, expiry, revocation, and the last admin key.

The principal cache is per worker; these tests run in one worker, so what they prove about caches is that a cached
key never outlives its expiry and that a write re-checks its key in its own transaction. Two real workers:
tests/db/test_key_revocation.py.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.kernel.db import session_scope
from app.models import ApiKey

PROBLEM = "application/problem+json"


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def mint(client, world, by: str = "admin", by_key: dict | None = None, **fields) -> dict:
    """A key issued through the API by the world's `by` key (or by the minted key `by_key`)."""
    body = {"organisation_id": world.province_id, "role": "viewer", "name": "test key", "holder": "Trần Thị Bình",
            **fields}
    response = await client.post("/api/v1/api-keys", json=body, headers=bearer(by_key) if by_key else world.h(by))
    assert response.status_code == 201, response.text
    return response.json()


def bearer(key: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


async def _admin_key_id(client, world) -> int:
    keys = (await client.get("/api/v1/api-keys?page_size=100", headers=world.h("admin"))).json()["items"]
    return next(k["id"] for k in keys if k["name"] == "admin")


async def test_a_key_records_its_issuer_holder_and_expiry(client, world):
    admin_id = await _admin_key_id(client, world)
    expires = _in(3600)
    key = await mint(client, world, holder="  Lê Văn Cường ", expires_at=expires)
    assert key["issued_by_key_id"] == admin_id and key["holder"] == "Lê Văn Cường"
    assert datetime.fromisoformat(key["expires_at"]) == datetime.fromisoformat(expires)
    listed = (await client.get("/api/v1/api-keys?page_size=100", headers=world.h("admin"))).json()["items"]
    row = next(k for k in listed if k["id"] == key["id"])
    assert row["issued_by_key_id"] == admin_id and "key" not in row
    # Keys made outside the API (the test world, like the command line and the demo) have no issuer.
    assert next(k for k in listed if k["id"] == admin_id)["issued_by_key_id"] is None


async def test_holder_is_required_and_expiry_must_be_in_the_future(client, world):
    body = {"organisation_id": world.province_id, "role": "viewer", "name": "x"}
    missing = await client.post("/api/v1/api-keys", json=body, headers=world.h("admin"))
    assert missing.status_code == 422
    blank = await client.post("/api/v1/api-keys", json={**body, "holder": "   "}, headers=world.h("admin"))
    assert blank.status_code == 422
    past = await client.post("/api/v1/api-keys", json={**body, "holder": "An", "expires_at": _in(-1)},
                             headers=world.h("admin"))
    assert past.status_code == 422 and past.headers["content-type"] == PROBLEM
    problem = past.json()
    assert problem["code"] == "expiry_not_in_future"
    assert [e["pointer"] for e in problem["errors"]] == ["/expires_at"], problem


async def test_an_expired_key_answers_401_even_from_the_principal_cache(client, world):
    key = await mint(client, world, expires_at=_in(1.0))
    assert (await client.get("/api/v1/organisations", headers=bearer(key))).status_code == 200  # now cached
    await asyncio.sleep(1.1)
    expired = await client.get("/api/v1/organisations", headers=bearer(key))
    assert expired.status_code == 401 and expired.json()["code"] == "expired_api_key"
    again = await client.get("/api/v1/organisations", headers=bearer(key))  # from the database this time
    assert again.status_code == 401 and again.json()["code"] == "expired_api_key"


async def test_a_revoked_key_answers_401_at_once(client, world):
    key = await mint(client, world, role="planner")
    assert (await client.get("/api/v1/organisations", headers=bearer(key))).status_code == 200
    revoked = await client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=world.h("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = await client.get("/api/v1/organisations", headers=bearer(key))
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"


async def test_a_write_rechecks_its_key_even_when_the_cache_still_holds_it(client, world):
    """A revocation this worker was not told about (made straight in the database): reads may still be served
    from the cache within its TTL, but no write commits."""
    key = await mint(client, world, role="admin", holder="Phạm Minh Đức")
    assert (await client.get("/api/v1/organisations", headers=bearer(key))).status_code == 200  # cached
    async with session_scope() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key["id"]).values(revoked_at=datetime.now(UTC)))
    body = {"code": "X-REVOKED", "name": "Không được tạo", "kind": "other", "valid_from": "2024-01-01"}
    write = await client.post("/api/v1/organisations", json=body, headers=bearer(key))
    assert write.status_code == 401 and write.json()["code"] == "invalid_api_key", write.text
    listed = (await client.get("/api/v1/organisations?page_size=100", headers=world.h("admin"))).json()["items"]
    assert "X-REVOKED" not in {o["code"] for o in listed}
    audit = (await client.get("/api/v1/audit-log?page_size=500", headers=world.h("admin"))).json()["items"]
    assert not [a for a in audit if a["api_key_id"] == key["id"] and a["status_code"] < 400 and a["method"] == "POST"]


async def test_the_last_active_admin_key_cannot_be_revoked(client, world):
    admin_id = await _admin_key_id(client, world)
    last = await client.post(f"/api/v1/api-keys/{admin_id}/revoke", headers=world.h("admin"))
    assert last.status_code == 409 and last.json()["code"] == "last_admin_key"
    # An expiring admin key counts while it is live, an expired one does not.
    second = await mint(client, world, role="admin", holder="Hoàng Thu Hà", expires_at=_in(1.0))
    await asyncio.sleep(1.1)
    still_last = await client.post(f"/api/v1/api-keys/{admin_id}/revoke", headers=world.h("admin"))
    assert still_last.status_code == 409 and still_last.json()["code"] == "last_admin_key"
    third = await mint(client, world, role="admin", holder="Hoàng Thu Hà")
    assert (await client.post(f"/api/v1/api-keys/{admin_id}/revoke", headers=bearer(third))).status_code == 200
    own = await client.post(f"/api/v1/api-keys/{third['id']}/revoke", headers=bearer(third))
    assert own.status_code == 409 and own.json()["code"] == "last_admin_key"
    assert (await client.post(f"/api/v1/api-keys/{second['id']}/revoke", headers=bearer(third))).status_code == 200


async def test_revoking_a_revoked_key_is_idempotent_and_unknown_keys_are_404(client, world):
    key = await mint(client, world)
    first = await client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=world.h("admin"))
    again = await client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=world.h("admin"))
    assert again.status_code == 200 and again.json()["revoked_at"] == first.json()["revoked_at"]
    missing = await client.post("/api/v1/api-keys/987654/revoke", headers=world.h("admin"))
    assert missing.status_code == 404 and missing.json()["code"] == "api_key_not_found"
