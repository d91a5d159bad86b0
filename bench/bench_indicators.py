"""Stored indicators at national scale: full and incremental refresh, summary and flagged-list latency.

Needs a database loaded by `bench/national.py --db <name>` (100,000 projects, 5,000,000 ledger rows); it
is migrated to head here (adds the indicator tables) and its indicator rows are (re)written. Prints
numbers, asserts nothing. Run: .venv/bin/python bench/bench_indicators.py --db bench_snap [--before]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def _timed_get(client, url: str, headers: dict, n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = await client.get(url, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    return statistics.median(times), _pct(times, 0.95)


async def main(db: str, before: bool, n: int, reads_only: bool = False) -> None:
    from sqlalchemy import select

    from app.enums import Role
    from app.kernel import feed as events
    from app.kernel.clock import today
    from app.kernel.db import session_scope
    from app.models import Organisation, Project
    from app.monitoring import indicator_store, summaries
    from app.registry import organisations

    year = today().year
    print(f"database {db}, business date {today()}, plan year {year}")
    async with session_scope() as s:
        projects = await s.scalar(select(Project.id).order_by(Project.id.desc()).limit(1))
        org = await s.scalar(select(Organisation.id).limit(1))
        _, key = await organisations.create_api_key(s, organisation_id=org, role=Role.viewer, name="bench")
    print(f"projects (max id)        {projects:,}")
    if before:
        t = time.perf_counter()
        async with session_scope() as s:
            await summaries.summarise(s, year, today(), "investor", None)
        print(f"before: on-the-fly summary (old cold path)  {time.perf_counter() - t:8.2f} s")
    t = time.perf_counter()
    if reads_only:
        await _reads(key, n)
        return
    async with session_scope() as s:
        await indicator_store.rebuild_all(s, year)
    print(f"cold full refresh        {time.perf_counter() - t:8.2f} s")
    t = time.perf_counter()
    await indicator_store.vacuum_after_rebuild()  # what the background refresher does after a rebuild
    print(f"vacuum + analyze         {time.perf_counter() - t:8.2f} s")
    for changed in (1, 100):
        async with session_scope() as s:
            ids = list(await s.scalars(select(Project.id).order_by(Project.id).offset(500).limit(changed)))
            for pid in ids:  # what a disbursement's event looks like to the refresher
                events.emit(s, "disbursement.recorded", "disbursement", 0, {"bench": True}, project_id=pid)
        t = time.perf_counter()
        async with session_scope() as s:
            result = await indicator_store.refresh(s, year, dirty_limit=10_000)
        ms = (time.perf_counter() - t) * 1000
        print(f"incremental refresh, {changed:>3} changed projects  {ms:8.1f} ms (recomputed {result.refreshed})")
    t = time.perf_counter()
    async with session_scope() as s:
        await indicator_store.ensure_fresh(s, year)
    print(f"request-path check, nothing changed        {(time.perf_counter() - t) * 1000:8.1f} ms")
    await _reads(key, n)


async def _reads(key: str, n: int) -> None:
    import httpx

    from app.main import create_app

    app = create_app(background_jobs=False)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for url in (
            "/api/v1/summaries?group_by=investor",
            "/api/v1/summaries",
            "/api/v1/summaries?group_by=capital_source",
            "/api/v1/indicators?flag=at_risk",
            "/api/v1/indicators?flag=able_to_absorb&page_size=500",
        ):
            await client.get(url, headers=headers)  # warm
            p50, p95 = await _timed_get(client, url, headers, n)
            print(f"GET {url:55} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (limit p95 150 ms, n={n})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_snap")
    parser.add_argument("--before", action="store_true", help="also time the old on-the-fly summary (slow)")
    parser.add_argument("-n", type=int, default=50)
    parser.add_argument("--reads-only", action="store_true", help="only time the reads (rows already stored)")
    args = parser.parse_args()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.db}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("CLOCK_TODAY", "2024-10-11")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "heads"],
                   check=True, cwd=ROOT, env={**os.environ}, capture_output=True)
    asyncio.run(main(args.db, args.before, args.n, args.reads_only))
