"""Issue #10, honest answers: Vietnamese search alike on both databases, no silent zeros in summaries,
and If-None-Match compared weakly (with `*`) wherever an ETag is served."""

from __future__ import annotations

import sqlite3

from alembic import command

from app.kernel.config import get_settings
from app.kernel.db import session_scope
from app.monitoring import indicator_store
from tests.conftest import alembic_config, allocate, make_project

NAMES = {
    "VP-GT-001": "Đường Tam Đảo – Vĩnh Yên",
    "VP-GT-002": "Cầu TAM ĐẢO 2",
    "VP-GT-003": "Trường học Tam Dương",  # tam d…, not tam dao
    "VP-GT-004": "Nâng cấp 100% tuyến ĐT.302",
}


async def _codes(client, world, q: str) -> list[str]:
    response = await client.get("/api/v1/projects", params={"q": q}, headers=world.h("viewer"))
    assert response.status_code == 200, response.text
    return sorted(p["code"] for p in response.json()["items"])


async def test_search_ignores_case_diacritics_and_the_stroke_of_d(client, world):
    for code, name in NAMES.items():
        await make_project(client, world, code=code, name=name)
    for q in ("Tam Đảo", "tam dao", "TAM ĐẢO", "tam đao", "  TAM   dao "):
        assert await _codes(client, world, q) == ["VP-GT-001", "VP-GT-002"], q
    assert await _codes(client, world, "duong") == ["VP-GT-001", "VP-GT-003"]
    assert await _codes(client, world, "dt.302") == ["VP-GT-004"]
    assert await _codes(client, world, "100%") == ["VP-GT-004"]  # % is a character, not a wildcard
    assert await _codes(client, world, "_") == []
    assert await _codes(client, world, "vp-gt-00") == sorted(NAMES)


async def test_search_follows_a_renamed_project(client, world):
    project = await make_project(client, world, code="VP-GT-001", name="Đường Tam Đảo")
    response = await client.patch(f"/api/v1/projects/{project['id']}", json={"name": "Cầu Vĩnh Yên"},
                                  headers=world.h("planner", **{"If-Match": '"project-1-v1"'}))
    assert response.status_code == 200, response.text
    assert await _codes(client, world, "tam dao") == []
    assert await _codes(client, world, "vinh yen") == ["VP-GT-001"]


def test_migration_0014_fills_the_search_column_of_existing_projects(tmp_path):
    path = tmp_path / "before-0014.db"
    config = alembic_config()
    config.attributes["url"] = f"sqlite+aiosqlite:///{path}"
    command.upgrade(config, "0013")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO organisations (id, code, name, kind, valid_from, created_at) "
                   "VALUES (1, 'BQL', 'Ban QLDA', 'investor', '2000-01-01', '2024-01-01')")
        db.execute("INSERT INTO projects (id, code, name, investor_id, sector, location, \"group\", stage, "
                   "total_investment_vnd, start_year, end_year, on_app1, on_app2, on_app3, is_key_project, status, "
                   "version, created_at, updated_at) VALUES (1, 'VP-1', 'Đường TAM ĐẢO', 1, 't', 'l', 'B', "
                   "'ongoing', 1, 2023, 2026, 0, 0, 0, 0, 'active', 1, '2024-01-01', '2024-01-01')")
    command.upgrade(config, "0014")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT search_text FROM projects").fetchall() == [("vp-1 duong tam dao",)]


async def test_a_year_the_store_has_not_built_is_computed_not_zero(client, world, monkeypatch):
    """The first read of another plan year used to answer 200 with every figure 0 (`stale: true`)."""
    monkeypatch.setattr(get_settings(), "indicator_sync_limit", 0)  # no rebuild can finish within a request
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 7_000_000_000, year=2023,
                           decided="2023-01-05")).status_code == 201
    summary = await client.get("/api/v1/summaries", params={"plan_year": 2023}, headers=world.h("viewer"))
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["province"]["plan_vnd"] == 7_000_000_000 and body["province"]["projects"] == 1
    assert body["stale"] is False and body["computed_for"] == "2024-10-11"
    listed = await client.get("/api/v1/indicators", params={"plan_year": 2023}, headers=world.h("viewer"))
    assert [row["plan_vnd"] for row in listed.json()["items"]] == [7_000_000_000]

    async with session_scope() as session:  # once the store holds the year, it answers, with the same figures
        assert (await indicator_store.rebuild_all(session, 2023)).computed_for is not None
    stored = await client.get("/api/v1/summaries", params={"plan_year": 2023}, headers=world.h("viewer"))
    assert stored.json()["province"] == body["province"]


async def test_if_none_match_is_a_weak_comparison_and_takes_a_star(client, world):
    project = await make_project(client, world)
    url = f"/api/v1/projects/{project['id']}"
    first = await client.get(url, headers=world.h("viewer"))
    etag = first.headers["ETag"]
    assert etag.startswith('"')
    for header in (etag, f"W/{etag}", "*", f'"other", W/{etag}', f'W/"other",{etag}'):
        again = await client.get(url, headers=world.h("viewer", **{"If-None-Match": header}))
        assert again.status_code == 304 and again.headers["ETag"] == etag and again.content == b"", header
    for header in ('"other"', 'W/"other"', etag[:-2] + '"'):
        assert (await client.get(url, headers=world.h("viewer", **{"If-None-Match": header}))).status_code == 200


async def test_the_treasury_snapshot_honours_a_weakened_etag(client, world):
    url = "/api/v1/treasury/overdue-advances"
    first = await client.get(url, headers=world.h("treasury"))
    assert first.status_code == 200
    etag = first.headers["ETag"]
    for header in (f"W/{etag}", "*"):  # a proxy that weakens tags must not defeat every 304
        again = await client.get(url, headers=world.h("treasury", **{"If-None-Match": header}))
        assert again.status_code == 304 and again.headers["ETag"] == etag, header
