"""The edges an operator expects, through real HTTP into the app: headers, CORS, hosts, slashes, docs offline,
failed-authentication limit, bounded anonymous audit lines, the first admin key."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from app.kernel.config import get_settings
from app.kernel.db import session_scope
from app.kernel.errors import Conflict
from app.models import ApiKey, AuditEntry
from app.registry.bootstrap import first_admin_key


@pytest.fixture
def settings_override():
    """Set settings for one test (create the app after), restored afterwards."""
    settings, saved = get_settings(), {}

    def override(**values) -> None:
        for name, value in values.items():
            saved.setdefault(name, getattr(settings, name))
            setattr(settings, name, value)

    yield override
    for name, value in saved.items():
        setattr(settings, name, value)


async def _client(base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    from app.main import create_app

    app = create_app(background_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as http:
        yield http


async def test_security_headers_on_every_answer_and_no_store_on_the_key_secret(client, world):
    created = await client.post("/api/v1/api-keys", headers=world.h("admin"),
                                json={"organisation_id": world.province_id, "role": "viewer", "name": "poller",
                                      "holder": "Nguyễn Văn A"})
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    for response in (created, await client.get("/api/v1/projects"), await client.get("/docs")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-request-id"]


async def test_trailing_slash_is_not_redirected_to_the_host_sent(client, world):
    response = await client.get("/api/v1/projects/", headers={**world.h("viewer"), "Host": "evil.example"})
    assert response.status_code == 404
    assert "location" not in response.headers


async def test_trusted_hosts_refuse_other_host_headers(settings_override):
    settings_override(trusted_hosts="api.example.vn")
    async for http in _client("http://api.example.vn"):
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/healthz", headers={"Host": "evil.example"})).status_code == 400


async def test_cors_is_off_by_default_and_answers_only_listed_origins(client, settings_override):
    preflight = {"Origin": "https://app.example.vn", "Access-Control-Request-Method": "GET"}
    response = await client.get("/healthz", headers={"Origin": "https://app.example.vn"})
    assert "access-control-allow-origin" not in response.headers
    settings_override(cors_allow_origins="https://app.example.vn")
    async for http in _client():
        allowed = await http.options("/api/v1/projects", headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.vn"
        other = await http.options("/api/v1/projects", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        simple = await http.get("/healthz", headers={"Origin": "https://app.example.vn"})
        assert "ETag" in simple.headers["access-control-expose-headers"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_load_only_local_assets(client, page):
    html = (await client.get(page)).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    assert "fonts.googleapis" not in html
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 1000, source


async def test_failed_authentications_are_limited_per_address_with_retry_after(client, world, settings_override):
    settings_override(auth_failure_limit=3, auth_failure_window_seconds=60)
    bad = {"Authorization": "Bearer dm_000000000000_nope"}
    for _ in range(3):
        assert (await client.get("/api/v1/projects", headers=bad)).status_code == 401
    limited = await client.get("/api/v1/projects", headers=bad)
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["code"] == "too_many_failed_authentications"
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    # The address is refused whatever key it sends now: a guess that happens to be right learns nothing.
    assert (await client.get("/api/v1/projects", headers=world.h("viewer"))).status_code == 429


async def test_anonymous_rejected_writes_are_audited_within_a_budget(client, settings_override):
    settings_override(audit_anonymous_per_minute=2)
    for _ in range(5):
        assert (await client.post("/api/v1/projects", json={})).status_code == 401
    async with session_scope() as session:
        anonymous = AuditEntry.api_key_id.is_(None)
        lines = await session.scalar(select(func.count()).select_from(AuditEntry).where(anonymous))
    assert lines == 2


async def test_bootstrap_issues_the_first_admin_key_once():
    async with session_scope() as session:
        organisation, secret = await first_admin_key(session, code="UBND-VP", name="UBND tỉnh Vĩnh Phúc")
    async for http in _client():
        response = await http.get("/api/v1/organisations", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200
        assert [o["code"] for o in response.json()["items"]] == ["UBND-VP"]
    with pytest.raises(Conflict) as refused:
        async with session_scope() as session:
            await first_admin_key(session, code="OTHER", name="Other")
    assert refused.value.code == "admin_key_exists"
    async with session_scope() as session:
        assert await session.scalar(select(func.count()).select_from(ApiKey)) == 1
        assert organisation.id is not None
