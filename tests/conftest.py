"""Test harness: a real database built by Alembic migrations, real HTTP through the ASGI app.

SQLite (a temporary file) by default; PostgreSQL when TEST_DATABASE_URL is set — and then an
unreachable server is a failure, never a skip. Each test starts from empty tables.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="dm-tests-"))
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{_TMP / 'test.db'}"
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["CLOCK_TODAY"] = "2024-10-11"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import httpx  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.enums import OrganisationKind, Role  # noqa: E402
from app.kernel import caches, throttle  # noqa: E402
from app.kernel.config import ROOT, get_settings  # noqa: E402
from app.kernel.db import get_engine, get_sessionmaker, is_sqlite, session_scope  # noqa: E402
from app.models import Base  # noqa: E402
from app.registry import organisations  # noqa: E402

IS_POSTGRES = not is_sqlite(TEST_DATABASE_URL)


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = TEST_DATABASE_URL
    return config


def pytest_configure(config):
    # Registered here, not in pyproject.toml (editing it would make `make` reinstall the environment).
    config.addinivalue_line("markers", "replica: needs the primary + standby pair of scripts/replica-pair.sh; "
                            "deselected by `make test`, run by .ci/run with -m replica against the pair")


def pytest_collection_modifyitems(config, items):
    if not IS_POSTGRES:
        return
    # Fail loudly (not skip) when PostgreSQL was asked for but cannot be reached.
    import asyncio

    import asyncpg

    async def probe() -> None:
        url = TEST_DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(url, timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        raise pytest.UsageError(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc!r}") from exc


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> None:
    """Build the schema the only supported way: `alembic upgrade heads`."""
    if IS_POSTGRES:
        import asyncio

        import asyncpg

        async def reset() -> None:
            connection = await asyncpg.connect(TEST_DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://"))
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            await connection.close()

        asyncio.run(reset())
    command.upgrade(alembic_config(), "heads")


async def truncate_all() -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with get_engine().begin() as connection:
        if IS_POSTGRES:
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
async def clean_tables(migrated_database) -> AsyncIterator[None]:
    get_settings().clock_today = date(2024, 10, 11)
    await truncate_all()
    caches.clear_all()  # per-worker caches outlive a test's tables
    throttle.clear_all()  # so do the failed-authentication windows and the anonymous audit budget
    yield


@pytest.fixture
def set_today():
    """Move the service's business date (CLOCK_TODAY) for one test."""

    def move(day: date) -> None:
        get_settings().clock_today = day

    return move


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    from app.main import create_app

    app = create_app(background_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@dataclass
class World:
    """Organisations and one API key per role; `other_owner` belongs to an unrelated investor."""

    province_id: int
    investor_id: int
    sub_investor_id: int
    other_investor_id: int
    headers: dict[str, dict[str, str]]

    def h(self, role: str, **extra: str) -> dict[str, str]:
        return {**self.headers[role], **extra}


@pytest.fixture
async def world() -> World:
    async with session_scope() as session:
        make = organisations.create_organisation
        province = await make(session, code="UBND-VP", name="UBND tỉnh Vĩnh Phúc",
                              kind=OrganisationKind.people_committee, parent_id=None, valid_from=date(2000, 1, 1))
        investor = await make(session, code="BQL-GT", name="Ban QLDA giao thông", kind=OrganisationKind.investor,
                              parent_id=province.id, valid_from=date(2000, 1, 1))
        sub = await make(session, code="BQL-GT-1", name="Tổ dự án 1", kind=OrganisationKind.investor,
                         parent_id=investor.id, valid_from=date(2000, 1, 1))
        other = await make(session, code="BQL-DD", name="Ban QLDA dân dụng", kind=OrganisationKind.investor,
                           parent_id=province.id, valid_from=date(2000, 1, 1))
        # R19 separation of duties: the planner (Sở KH&ĐT) and the administrator (Sở Tài chính) sit in other
        # organisations than the approvers (UBND), as in the demo province.
        planning = await make(session, code="SKHDT", name="Sở Kế hoạch và Đầu tư", kind=OrganisationKind.department,
                              parent_id=province.id, valid_from=date(2000, 1, 1))
        finance = await make(session, code="STC", name="Sở Tài chính", kind=OrganisationKind.department,
                             parent_id=province.id, valid_from=date(2000, 1, 1))
        home = {Role.owner: investor.id, Role.planner: planning.id, Role.admin: finance.id}
        headers = {}
        for role in Role:
            org_id = home.get(role, province.id)
            _, secret = await organisations.create_api_key(session, organisation_id=org_id, role=role, name=role)
            headers[role.value] = {"Authorization": f"Bearer {secret}"}
        _, secret = await organisations.create_api_key(session, organisation_id=other.id, role=Role.owner,
                                                       name="other owner")
        headers["other_owner"] = {"Authorization": f"Bearer {secret}"}
        _, secret = await organisations.create_api_key(session, organisation_id=province.id, role=Role.approver,
                                                       name="second approver")
        headers["approver2"] = {"Authorization": f"Bearer {secret}"}
    return World(province.id, investor.id, sub.id, other.id, headers)


async def make_project(client: httpx.AsyncClient, world: World, *, code: str = "VP-GT-001",
                       tmdt: int = 200_000_000_000, investor_id: int | None = None, **fields) -> dict:
    body = {"code": code, "name": f"Dự án {code}", "investor_id": investor_id or world.investor_id,
            "sector": "transport", "location": "Vĩnh Yên", "group": "B", "stage": "ongoing",
            "total_investment_vnd": tmdt, "start_year": 2023, "end_year": 2026, **fields}
    response = await client.post("/api/v1/projects", json=body, headers=world.h("planner"))
    assert response.status_code == 201, response.text
    return response.json()


PROGRAMME_LISTS = {"app1": "non_budget", "app2": "public", "app3": "public"}  # the action programme's appendices


async def programme_lists(client: httpx.AsyncClient, world: World) -> dict[str, dict]:
    """The three appendices as watch-lists (R21), set up by the planner; code → the list as answered."""
    out = {}
    for n, (code, funding) in enumerate(PROGRAMME_LISTS.items(), start=1):
        body = {"code": code, "name": f"Phụ lục {n}", "decision_ref": f"Chương trình hành động, Phụ lục {n}",
                "project_funding": funding, "reporter": "Chủ đầu tư", "report_frequency": "ad_hoc"}
        response = await client.post("/api/v1/watch-lists", json=body, headers=world.h("planner"))
        assert response.status_code == 201, response.text
        out[code] = response.json()
    return out


async def make_person(client: httpx.AsyncClient, world: World, name: str = "Hà Văn Mẫu",
                      title: str | None = "Phó Chủ tịch UBND tỉnh") -> dict:
    response = await client.post("/api/v1/people", json={"full_name": name, "title": title},
                                 headers=world.h("planner"))
    assert response.status_code == 201, response.text
    return response.json()


# R1c: a project gets annual capital only within its medium-term plan. `allocate` records one for the project, period
# and source when it has none, this large, so that it binds only in tests that record their own ceilings.
MEDIUM_TERM_CEILING = 10**15


async def plan_medium_term(client: httpx.AsyncClient, world: World, project_id: int, amount: int, *,
                           year: int = 2024, source: str = "local_balanced", kind: str = "initial",
                           decision: str = "TT-2021/NQ-HĐND", decided: str = "2020-12-01") -> httpx.Response:
    """Record a medium-term plan entry (R1c) for the period holding plan year `year`."""
    start = year - (year - 2021) % 5
    body = {"period": f"{start}-{start + 4}", "capital_source": source, "kind": kind, "amount_vnd": amount,
            "decision_number": decision, "decision_date": decided, "authority": "HĐND tỉnh"}
    return await client.post(f"/api/v1/projects/{project_id}/medium-term-plans", json=body,
                             headers=world.h("planner"))


async def allocate(client: httpx.AsyncClient, world: World, project_id: int, amount: int, *, year: int = 2024,
                   source: str = "local_balanced", level: str = "province", kind: str = "initial",
                   decision: str = "01/QĐ-UBND", decided: str = "2024-01-05", medium_term: bool = True,
                   **extra) -> httpx.Response:
    if medium_term and kind in ("initial", "supplement", "adjustment_in"):
        # 201, or 409 when this project's period and source already has it (a 404 is the allocation's to report)
        await plan_medium_term(client, world, project_id, MEDIUM_TERM_CEILING, year=year, source=source)
    body = {"plan_year": year, "capital_source": source, "budget_level": level, "kind": kind, "amount_vnd": amount,
            "decision_number": decision, "decision_date": decided, "authority": "UBND tỉnh", **extra}
    return await client.post(f"/api/v1/projects/{project_id}/allocations", json=body, headers=world.h("planner"))


def disbursement_body(amount: int, doc: str, *, kind: str = "payment", value_date: str = "2024-06-10",
                      year: int = 2024, **extra) -> dict:
    body = {"plan_year": year, "capital_source": "local_balanced", "budget_level": "province", "kind": kind,
            "amount_vnd": amount, "value_date": value_date, "document_number": doc, **extra}
    if kind == "advance":
        body.setdefault("advance_kind", "contract" if extra.get("contract_id") else "other")  # R4a
    return body


async def pay(client: httpx.AsyncClient, world: World, project_id: int, amount: int, doc: str, day: str) -> dict:
    """Record a payment for completed work through the API (the Treasury's key) and expect 201."""
    response = await client.post(f"/api/v1/projects/{project_id}/disbursements",
                                 json=disbursement_body(amount, doc, value_date=day), headers=world.h("treasury"))
    assert response.status_code == 201, response.text
    return response.json()


__all__ = ["IS_POSTGRES", "MEDIUM_TERM_CEILING", "World", "allocate", "disbursement_body", "get_sessionmaker",
           "make_project", "pay", "plan_medium_term", "truncate_all"]
