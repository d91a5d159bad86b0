"""The schema is built by migrations only, and models never drift from them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.kernel.db import get_engine
from app.models import Base


async def test_models_match_migrations():
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "compare_server_default": True})
        return compare_metadata(context, Base.metadata)

    async with get_engine().connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], f"models and migrations differ: {differences}"


# Migration 0018 (R1 budget holders), on the test database itself (SQLite or PostgreSQL): down to 0017, rows keyed
# by the old pool, up again. Organisations: 1 the province's people's committee; 2 district A under it; 3 A's project
# board; 4 a provincial board; 5 commune C in district A; 6 C's board. Projects: 10 (board 3), 11 (board 4), 12 (6).
_ORGS = [(1, "people_committee", None), (2, "district", 1), (3, "investor", 2), (4, "investor", 1),
         (5, "commune", 2), (6, "investor", 5)]
_POOLS = [(10, "district"), (10, "province"), (11, "province"), (11, "central"), (12, "commune"), (12, "district")]
# By hand, the nearest organisation of the level's kind above the investor (central/province: people's committee).
_EXPECTED = {(10, "district"): 2, (10, "province"): 1, (11, "province"): 1, (11, "central"): 1, (12, "commune"): 5,
             (12, "district"): 2}


async def _rows_before_0018(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    t, d = "'2024-01-01 00:00:00'", "'2024-01-05'"  # literals: both databases cast them
    async with engine.begin() as db:
        for oid, kind, parent in _ORGS:
            await db.execute(text("INSERT INTO organisations (id, code, name, kind, parent_id, valid_from, "
                                  f"created_at) VALUES (:i, :c, :name, :k, :p, '2000-01-01', {t})"),
                             {"i": oid, "c": f"ORG-{oid}", "name": f"ORG-{oid}", "k": kind, "p": parent})
        for pid, investor in ((10, 3), (11, 4), (12, 6)):
            await db.execute(text(
                "INSERT INTO projects (id, code, name, search_text, investor_id, sector, location, \"group\", "
                "stage, total_investment_vnd, start_year, end_year, on_app1, on_app2, on_app3, is_key_project, status, "
                "version, created_at, updated_at) VALUES (:i, :c, :name, :search, :inv, 't', 'l', 'B', 'ongoing', "
                f"100000000000, 2023, 2026, false, false, false, false, 'active', 1, {t}, {t})"),
                {"i": pid, "c": f"P-{pid}", "name": f"P-{pid}", "search": f"p-{pid}", "inv": investor})
        for n, (pid, level) in enumerate(_POOLS):
            pool = {"p": pid, "l": level, "s": "central" if level == "central" else "local_balanced", "n": n + 100,
                    "kb": f"KB-{level}", "hs": f"HS-{level}"}
            await db.execute(text(
                "INSERT INTO allocation_entries (project_id, plan_year, capital_source, budget_level, kind, "
                "amount_vnd, decision_number, decision_date, authority, known_on, created_at) "
                f"VALUES (:p, 2024, :s, :l, 'initial', 1000000000, 'QD-1', {d}, 'UBND', {d}, {t})"), pool)
            await db.execute(text(
                "INSERT INTO pool_balances (project_id, plan_year, capital_source, budget_level, plan_vnd, "
                "extended_vnd, late_capital_vnd, disbursed_vnd, advanced_vnd, advance_recovered_vnd, paid_vnd, "
                "late_disbursed_vnd, updated_at) "
                f"VALUES (:p, 2024, :s, :l, 1000000000, 0, 0, 100000000, 100000000, 0, 0, 0, {t})"), pool)
            await db.execute(text(
                "INSERT INTO disbursements (id, project_id, plan_year, capital_source, budget_level, kind, "
                "advance_kind, amount_vnd, advance_recovered_vnd, net_vnd, value_date, document_number, known_on, "
                "created_at) "
                f"VALUES (:n, :p, 2024, :s, :l, 'advance', 'other', 100000000, 0, 100000000, {d}, :kb, {d}, "
                f"{t})"), pool)
            await db.execute(text(
                "INSERT INTO advances (disbursement_id, project_id, kind, plan_year, capital_source, budget_level, "
                "advanced_on, amount_vnd, recovered_vnd, outstanding_vnd, held_for_disputes_vnd, version, updated_at) "
                f"VALUES (:n, :p, 'other', 2024, :s, :l, {d}, 100000000, 0, 100000000, 0, 1, {t})"), pool)
            await db.execute(text(
                "INSERT INTO extra_needs (project_id, plan_year, capital_source, budget_level, amount_vnd, "
                "justification, spend_by, status, known_on, created_at) VALUES (:p, 2024, :s, :l, 5, 'x', "
                f"'2024-12-31', 'registered', {d}, {t})"), pool)
            await db.execute(text(
                "INSERT INTO dossiers (project_id, kind, plan_year, capital_source, budget_level, amount_vnd, "
                "document_number, status, submitted_on, version, created_at, updated_at) VALUES (:p, 'payment', 2024, "
                f":s, :l, 5, :hs, 'submitted', {d}, 1, {t}, {t})"), pool)
    await engine.dispose()


async def _holders_after(url: str) -> dict[str, dict]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    out = {}
    async with engine.connect() as db:
        for table in ("allocation_entries", "pool_balances", "disbursements", "advances", "extra_needs", "dossiers"):
            out[table] = {(r[0], r[1]): r[2] for r in await db.execute(
                text(f"SELECT project_id, budget_level, budget_holder_id FROM {table}"))}
    await engine.dispose()
    return out


def test_migration_0018_gives_every_pool_its_budget_holder():
    """R1: existing rows get the holder the API would default to; the column is then NOT NULL, and the whole ledger
    of two pools of one project at one level but two holders fits the new unique keys."""
    import asyncio

    from alembic import command

    from tests.conftest import TEST_DATABASE_URL, alembic_config

    config = alembic_config()
    command.downgrade(config, "0017")
    try:
        asyncio.run(_rows_before_0018(TEST_DATABASE_URL))
        command.upgrade(config, "heads")
        found = asyncio.run(_holders_after(TEST_DATABASE_URL))
        assert found == {table: _EXPECTED for table in found}
        assert len(found) == 6
    finally:
        command.upgrade(config, "heads")
