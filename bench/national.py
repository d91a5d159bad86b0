"""National-scale data generator for benchmarks (prints load times, asserts nothing).

Builds a fresh PostgreSQL database (default `bench_dm`, dropped and recreated), migrates it with
`alembic upgrade heads`, then loads by COPY (asyncpg `copy_records_to_table`): 63 provinces with 10
investors each, 100,000 projects, their capital plans for 2023 and 2024 and disbursements (an advance then
payments that recover it, on the national back-loaded curve) — 5,000,000 ledger rows at `--scale 1`.
Secondary indexes are dropped for the load and rebuilt after it; FK triggers are skipped
(`session_replication_role = replica`) since the generator respects every key. Balance rows (and the
Treasury's advance rows) are then rebuilt set-based in SQL.

Run: .venv/bin/python bench/national.py [--scale 0.1] [--db bench_dm]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from national_sql import (  # noqa: E402
    ADVANCES_SQL,
    ALLOCATION_COLUMNS,
    DISBURSEMENT_COLUMNS,
    PROJECT_COLUMNS,
    REBUILD_SQL,
    drop_secondary_indexes,
    late_capital_sql,
)

from app.kernel.search_text import project_search_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
TY = 1_000_000_000
MIL = 1_000_000
AS_OF = date(2024, 10, 11)
PROVINCES = 63
INVESTORS_PER_PROVINCE = 10
SECTORS = [
    "transport",
    "education",
    "health",
    "irrigation",
    "urban",
    "culture",
    "site_clearance",
    "environment",
    "agriculture",
]
SOURCES = [("local_balanced", 40), ("land_use", 30), ("central", 15), ("lottery", 8), ("local_borrowing", 7)]
NOW = datetime(2024, 10, 11, 2, 0, tzinfo=UTC)
CHUNK = 250_000
LEADS = 997  # lead officials: fictional labels (DOMAIN.md §6)


def sqlalchemy_url(db: str) -> str:
    return PG.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{db}"


async def recreate_database(db: str) -> None:
    conn = await asyncpg.connect(PG + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{db}"')
    finally:
        await conn.close()


def migrate(db: str) -> None:
    env = {**os.environ, "DATABASE_URL": sqlalchemy_url(db)}
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "heads"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def _workday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def organisations() -> tuple[list[tuple], list[int]]:
    since = date(2008, 8, 1)
    rows = [
        (1, "CP", "Chính phủ", "people_committee", None, since, None, NOW),
        (2, "KBNN", "Kho bạc Nhà nước", "treasury", None, since, None, NOW),
        (3, "BTC", "Bộ Tài chính", "department", 1, since, None, NOW),
    ]
    investors = []
    next_id = 4
    for p in range(1, PROVINCES + 1):
        committee = next_id
        rows.append(
            (
                committee,
                f"UBND-P{p:02d}",
                f"Ủy ban nhân dân tỉnh P{p:02d}",
                "people_committee",
                None,
                since,
                None,
                NOW,
            )
        )
        next_id += 1
        for k in range(INVESTORS_PER_PROVINCE):
            rows.append(
                (
                    next_id,
                    f"BQL-P{p:02d}-{k:02d}",
                    f"Ban Quản lý dự án {k + 1} tỉnh P{p:02d}",
                    "investor",
                    committee,
                    since,
                    None,
                    NOW,
                )
            )
            investors.append(next_id)
            next_id += 1
        # R1: the province's district-level pools are held by a district government (one per province here).
        rows.append((next_id, f"UBND-P{p:02d}-H1", f"Ủy ban nhân dân huyện 1 tỉnh P{p:02d}", "district", committee,
                     since, None, NOW))
        next_id += 1
    return rows, investors


def budget_holders(org_rows: list[tuple], project_rows: list[tuple]) -> dict[tuple[int, str], int]:
    """R1: (project id, budget level) → the holder: the province's people's committee, or its district."""
    parent = {r[0]: r[4] for r in org_rows}
    district = {r[4]: r[0] for r in org_rows if r[3] == "district"}
    out = {}
    for row in project_rows:
        committee = parent[row[3]]
        for level in ("central", "province"):
            out[row[0], level] = committee
        out[row[0], "district"] = district[committee]
    return out


def projects(rng: random.Random, n: int, investors: list[int]) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Project rows; per project (id, source, level, tmdt, plan_2023, plan_2024, profile); and per project its
    follow-up (id, on app2, on app3, lead person id) for the R21 tables."""
    rows, plans, follow = [], [], []
    sources, weights = zip(*SOURCES, strict=True)
    for pid in range(1, n + 1):
        sector = SECTORS[pid % len(SECTORS)]
        investor = investors[pid % len(investors)]
        province = (investor - 4) // (INVESTORS_PER_PROVINCE + 1) + 1
        tmdt = int(rng.uniform(10, 900)) * TY
        stage = rng.choices(["new", "ongoing", "completed", "settled"], [18, 62, 14, 6])[0]
        source = rng.choices(sources, weights)[0]
        level = "central" if source == "central" else ("province" if rng.random() < 0.55 else "district")
        plan_2024 = int(tmdt * rng.uniform(0.15, 0.4)) // MIL * MIL
        plan_2023 = int(tmdt * rng.uniform(0.2, 0.4)) // MIL * MIL if stage != "new" else 0
        profile = rng.choices([1.55, 1.0, 0.5, 0.35, 0.0], [25, 40, 20, 10, 5])[0]
        app2 = tmdt >= 500 * TY and rng.random() < 0.3
        app3 = stage == "ongoing" and rng.random() < 0.1
        follow.append((pid, app2, app3, pid % LEADS + 1))
        rows.append(
            (
                pid,
                f"VN-{province:02d}-{pid:06d}",
                f"Dự án {sector} số {pid} tỉnh P{province:02d}",
                investor,
                sector,
                f"Tỉnh P{province:02d}",
                "b" if tmdt >= 120 * TY else "c",
                stage,
                tmdt,
                f"{pid % 4000}/QĐ-UBND",
                date(2023, 1 + pid % 3, 1 + pid % 28),
                2024 if stage == "new" else 2022,
                2026,
                app2,
                (pid % 20) + 1 if rng.random() < 0.3 else None,
                "active",
                1,
                NOW,
                NOW,
                project_search_text(f"VN-{province:02d}-{pid:06d}", f"Dự án {sector} số {pid} tỉnh P{province:02d}"),
            )
        )
        plans.append((pid, source, level, plan_2023, plan_2024, profile))
    return rows, plans, follow


async def copy_follow_up(conn: asyncpg.Connection, follow: list[tuple]) -> None:
    """R21: lead officials (fictional labels) as people and dated assignments, app2/app3 as watch-lists."""
    await conn.copy_records_to_table("people", records=[(i, f"Lãnh đạo theo dõi số {i}", NOW) for i in
                                                        range(1, LEADS + 1)], columns=("id", "full_name", "created_at"))
    await conn.copy_records_to_table("watch_lists", records=[(2, "app2", "Phụ lục 2", "public", NOW),
                                                             (3, "app3", "Phụ lục 3", "public", NOW)],
                                     columns=("id", "code", "name", "project_funding", "created_at"))
    since = date(2024, 1, 2)
    await conn.copy_records_to_table(
        "watch_list_changes", columns=("watch_list_id", "project_id", "action", "effective_on", "recorded_at"),
        records=[(wl, pid, "join", since, NOW) for pid, app2, app3, _ in follow for wl, on in ((2, app2), (3, app3))
                 if on])
    await conn.copy_records_to_table("project_leads", records=[(pid, lead, since, NOW) for pid, _, _, lead in follow],
                                     columns=("project_id", "person_id", "effective_on", "recorded_at"))
    for table in ("people", "watch_lists"):
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def allocations(rng: random.Random, plans: list[tuple]) -> list[tuple]:
    rows = []
    for pid, source, level, plan_2023, plan_2024, _ in plans:
        if plan_2023:
            rows.append(
                (
                    pid,
                    2023,
                    source,
                    level,
                    "initial",
                    plan_2023,
                    1,
                    "3310/QĐ-UBND",
                    date(2023, 1, 4),
                    "UBND tỉnh",
                    None,
                    None,
                    date(2023, 1, 4),
                    NOW,
                )
            )
        second = plan_2024 * rng.choice([0, 0, 15, 25]) // 100 // MIL * MIL
        rows.append(
            (
                pid,
                2024,
                source,
                level,
                "initial",
                plan_2024 - second,
                1,
                "45/QĐ-UBND",
                date(2024, 1, 5),
                "UBND tỉnh",
                None,
                None,
                date(2024, 1, 5),
                NOW,
            )
        )
        if second:
            rows.append(
                (
                    pid,
                    2024,
                    source,
                    level,
                    "supplement",
                    second,
                    2,
                    "1386/QĐ-UBND",
                    date(2024, 6, 20),
                    "UBND tỉnh",
                    None,
                    None,
                    date(2024, 6, 20),
                    NOW,
                )
            )
    return rows


def _pool_rows(
    pid: int,
    year: int,
    source: str,
    level: str,
    plan: int,
    share: float,
    count: int,
    first: date,
    days: int,
    recover_all: bool,
):
    """An advance then payments recovering it: sum(net) = plan × share, every row positive."""
    total = int(plan * share) // MIL * MIL
    if count < 1 or total < count * MIL:
        return
    advance = total // 5 // MIL * MIL if count > 1 else 0
    pays = count - (1 if advance else 0)
    step = (total - advance) // pays // MIL * MIL
    recover_step = (advance if recover_all else advance * 7 // 10) // pays // MIL * MIL
    seq = 0
    if advance:
        seq += 1
        yield (
            pid,
            year,
            source,
            level,
            "advance",
            "other",  # R11: a contract advance must name a contract (the generator makes none)
            None,
            advance,
            0,
            advance,
            first,
            f"KB-{year}-{pid}-{seq:03d}",
            None,
            None,
            first,
            NOW,
            None,
        )
    for j in range(pays):
        seq += 1
        day = _workday(first + timedelta(days=(j + 1) * days // (pays + 1)))
        yield (
            pid,
            year,
            source,
            level,
            "payment",
            None,
            None,
            step + recover_step,
            recover_step,
            step,
            day,
            f"KB-{year}-{pid}-{seq:03d}",
            None,
            None,
            day,
            NOW,
            None,
        )


def disbursements(rng: random.Random, plans: list[tuple], per_project: float):
    for pid, source, level, plan_2023, plan_2024, profile in plans:
        count = max(2, int(per_project * rng.uniform(0.5, 1.5)))
        n2023 = count * 2 // 5 if plan_2023 else 0
        yield from _pool_rows(
            pid,
            2023,
            source,
            level,
            plan_2023,
            min(0.999, 0.97 * rng.uniform(0.96, 1.03)),
            n2023,
            date(2023, 1, 16),
            380,
            True,
        )
        share = min(0.95, 0.506 * profile * rng.uniform(0.8, 1.2))
        yield from _pool_rows(
            pid, 2024, source, level, plan_2024, share, count - n2023, date(2024, 1, 15), 268, False
        )


async def load(db: str, scale: float, seed: int = 2024) -> dict[str, float]:
    """Create, migrate and fill the benchmark database; return sizes and timings."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    await recreate_database(db)
    migrate(db)
    timings["create+migrate_s"] = time.perf_counter() - started
    rng = random.Random(seed)
    n_projects = max(100, int(100_000 * scale))
    ledger_target = int(5_000_000 * scale)
    conn = await asyncpg.connect(f"{PG}/{db}")
    try:
        await conn.execute(
            "SET session_replication_role = replica; SET maintenance_work_mem = '512MB'; "
            "SET synchronous_commit = off"
        )
        t = time.perf_counter()
        org_rows, investors = organisations()
        await conn.copy_records_to_table(
            "organisations",
            records=org_rows,
            columns=("id", "code", "name", "kind", "parent_id", "valid_from", "valid_to", "created_at"),
        )
        await conn.copy_records_to_table(
            "working_groups",
            records=[(i, f"TCT-{i:02d}", f"Tổ công tác số {i}") for i in range(1, 21)],
            columns=("id", "code", "name"),
        )
        project_rows, plans, follow = projects(rng, n_projects, investors)
        await conn.copy_records_to_table("projects", records=project_rows, columns=PROJECT_COLUMNS)
        await copy_follow_up(conn, follow)
        for table in ("organisations", "working_groups", "projects"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        timings["projects_s"] = time.perf_counter() - t
        rebuild_ddl = []
        for table in ("allocation_entries", "disbursements"):
            rebuild_ddl += await drop_secondary_indexes(conn, table)
        t = time.perf_counter()
        alloc_rows = allocations(rng, plans)
        holders = budget_holders(org_rows, project_rows)
        alloc_rows = [(*r, holders[r[0], r[3]]) for r in alloc_rows]
        await conn.copy_records_to_table("allocation_entries", records=alloc_rows, columns=ALLOCATION_COLUMNS)
        per_project = (ledger_target - len(alloc_rows)) / n_projects * 1.045  # pools too small skip rows
        copied, chunk = 0, []
        for row in disbursements(rng, plans, per_project):
            chunk.append((*row, holders[row[0], row[3]]))
            if len(chunk) >= CHUNK:
                await conn.copy_records_to_table("disbursements", records=chunk, columns=DISBURSEMENT_COLUMNS)
                copied += len(chunk)
                chunk = []
        if chunk:
            await conn.copy_records_to_table("disbursements", records=chunk, columns=DISBURSEMENT_COLUMNS)
            copied += len(chunk)
        timings["ledger_copy_s"] = time.perf_counter() - t
        t = time.perf_counter()
        for ddl in rebuild_ddl:
            await conn.execute(ddl)
        timings["indexes_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute(REBUILD_SQL.format(late=late_capital_sql()))
        await conn.execute(ADVANCES_SQL)
        timings["rebuild_sql_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        timings["projects"] = n_projects
        timings["allocation_rows"] = len(alloc_rows)
        timings["disbursement_rows"] = copied
        timings["ledger_rows"] = len(alloc_rows) + copied
        timings["pools"] = await conn.fetchval("SELECT count(*) FROM pool_balances")
        timings["advances"] = await conn.fetchval("SELECT count(*) FROM advances")
    finally:
        await conn.close()
    timings["total_s"] = time.perf_counter() - started
    return timings


async def time_python_rebuild(db: str) -> float:
    """app.ledger.books.rebuild on the same data, for comparison (slow at national scale)."""
    os.environ["DATABASE_URL"] = sqlalchemy_url(db)
    sys.path.insert(0, str(ROOT))
    from app.kernel.db import session_scope
    from app.ledger.books import rebuild

    started = time.perf_counter()
    async with session_scope() as session:
        await rebuild(session)
    return time.perf_counter() - started


def load_sync(db: str, scale: float) -> dict[str, float]:
    return asyncio.run(load(db, scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 100,000 projects, 5,000,000 ledger rows"
    )
    parser.add_argument("--db", default="bench_dm")
    parser.add_argument(
        "--compare-python-rebuild",
        action="store_true",
        help="also time app.ledger.books.rebuild on the loaded data",
    )
    args = parser.parse_args()
    result = asyncio.run(load(args.db, args.scale))
    for key, value in result.items():
        print(f"{key:22} {value:,.1f}" if isinstance(value, float) else f"{key:22} {value:,}")
    rows = result["ledger_rows"]
    print(
        f"ledger load: {rows:,} rows in {result['ledger_copy_s'] + result['indexes_s']:.1f} s "
        f"({rows / (result['ledger_copy_s'] + result['indexes_s']):,.0f} rows/s incl. index rebuild)"
    )
    if args.compare_python_rebuild:
        print(f"python rebuild()       {asyncio.run(time_python_rebuild(args.db)):,.1f} s")


if __name__ == "__main__":
    main()
