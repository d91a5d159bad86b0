"""The dashboard's sign-in and roles through the ASGI app: the session cookie holds no key, is signed and HttpOnly,
follows the key's revocation, and every page is guarded by the API's own actions. (The pages' figures are checked
against the API in a real browser: tests/browser.)"""

from __future__ import annotations

from sqlalchemy import select

from app.kernel.db import session_scope
from app.kernel.security import parse_key
from app.models import ApiKey
from app.registry import organisations
from app.web import auth


def _key(world, role: str) -> str:
    return world.h(role)["Authorization"].removeprefix("Bearer ")


async def _sign_in(client, world, role: str):
    return await client.post("/dashboard/sign-in", content=f"key={_key(world, role)}&next=/dashboard/overview",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})


async def test_pages_need_a_session_and_the_cookie_never_holds_the_key(client, world):
    home = await client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/dashboard/overview"
    page = await client.get("/dashboard/overview")
    assert page.status_code == 303 and page.headers["location"].startswith("/dashboard/sign-in?next=")
    wrong = await client.post("/dashboard/sign-in", content="key=dm_000000000000_nope",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong.status_code == 401 and "Mã truy cập không đúng" in wrong.text
    signed = await _sign_in(client, world, "viewer")
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard/overview"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and _key(world, "viewer") not in cookie
    overview = await client.get("/dashboard/overview")
    assert overview.status_code == 200 and "Tình hình giải ngân" in overview.text
    csp = overview.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "style-src 'self'" in csp
    assert overview.headers["cache-control"] == "no-store"
    assert "<script" not in overview.text and " style=" not in overview.text  # a strict CSP needs neither


async def test_a_tampered_or_expired_cookie_and_a_revoked_key_sign_the_browser_out(client, world):
    assert (await _sign_in(client, world, "viewer")).status_code == 303
    value = client.cookies.get(auth.COOKIE)
    assert auth.read_cookie(value) is not None
    client.cookies.set(auth.COOKIE, value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"))
    assert (await client.get("/dashboard/overview")).status_code == 303
    assert auth.read_cookie(value, now=10**10) is None  # past SESSION_SECONDS
    client.cookies.set(auth.COOKIE, value)
    assert (await client.get("/dashboard/overview")).status_code == 200
    async with session_scope() as session:
        key_id = await session.scalar(select(ApiKey.id).where(ApiKey.prefix == parse_key(_key(world, "viewer"))))
        await organisations.revoke_api_key(session, key_id)
    assert (await client.get("/dashboard/overview")).status_code == 303


async def test_roles_apply_to_pages_as_to_the_api(client, world):
    assert (await _sign_in(client, world, "owner")).status_code == 303
    overview = await client.get("/dashboard/overview")
    assert overview.status_code == 200 and "/dashboard/advances" not in overview.text
    page = await client.get("/dashboard/advances")
    assert page.status_code == 403 and "không được xem" in page.text
    api = await client.get("/api/v1/treasury/overdue-advances", headers=world.h("owner"))
    assert api.status_code == 403  # the same action (treasury.read) guards both
    assert (await _sign_in(client, world, "treasury")).status_code == 303
    assert (await client.get("/dashboard/advances")).status_code == 200
    missing = await client.get("/dashboard/projects/987654321")
    assert missing.status_code == 404 and "project_not_found" in missing.text


async def test_dashboard_is_not_part_of_the_api_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/dashboard")]
    assert "/api/v1/disbursements/workbook" in paths
