"""Batch import at bulk speed (issue 13, item 2): 10,000-row `POST /api/v1/disbursements/batch` over real HTTP
against uvicorn, beside a COPY reference measured in the same run on a table of the same shape.

Prints figures; asserts nothing. The database is the national data set (`bench/national.py`), loaded here with
`--load SCALE` or reused. `--app-root` serves another checkout of the app (e.g. the code before a change) against
the same database. `--profile` posts one batch in-process (ASGI, no server) under cProfile and prints where the
time goes (BENCH_GC_FREEZE=1 freezes the start-up heap first, as a served worker's lifespan does).

Run: .venv/bin/python bench/batch_import.py --db test_batch_bench [--load 1.0] [--batches 6] [--profile]
     .venv/bin/python bench/batch_import.py --db test_batch_bench --batches 100   # 1,000,000 rows
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import national  # noqa: E402

TODAY = national.AS_OF
ROWS_PER_BATCH = 10_000


def _copy_row(n: int, holder: int) -> tuple:
    day = date(2024, 10, 11)
    return (1 + n % 1000, 2024, "local_balanced", "province", "payment", None, None, 1_000_000, 0, 1_000_000, day,
            f"C-{n}", None, None, day, datetime.now(UTC), None, holder)


async def copy_reference(dsn: str, rows: int) -> float:
    """COPY rows/s into a table shaped like `disbursements` (same columns, defaults and indexes, no FKs)."""
    conn = await asyncpg.connect(dsn)
    try:
        holder = await conn.fetchval("SELECT min(budget_holder_id) FROM pool_balances")
        await conn.execute("DROP TABLE IF EXISTS bench_copy; "
                           "CREATE TABLE bench_copy (LIKE disbursements INCLUDING DEFAULTS INCLUDING INDEXES)")
        records = [_copy_row(n, holder) for n in range(rows)]
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=records, columns=national.DISBURSEMENT_COLUMNS)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy")
    finally:
        await conn.close()
    return rows / elapsed


async def vacuum(dsn: str) -> None:
    """The tables a batch rewrites, vacuumed before timing (this server may run without autovacuum): each run starts
    from the same state whatever ran before it."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM ANALYZE pool_balances, project_balances, events, disbursements")
    finally:
        await conn.close()


async def open_pools(dsn: str, limit: int) -> list[tuple[int, str, str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT project_id, capital_source, budget_level, budget_holder_id FROM pool_balances "
                                "WHERE plan_year = 2024 AND plan_vnd - disbursed_vnd > 10000000000 "
                                "ORDER BY project_id LIMIT $1", limit)
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


def batch_body(pools: list, run_id: str, b: int) -> bytes:
    rng = random.Random(f"{run_id}-{b}")
    rows = []
    for i in range(ROWS_PER_BATCH):
        pid, src, lvl, holder = pools[rng.randrange(len(pools))]
        rows.append({"project_id": pid, "plan_year": 2024, "capital_source": src, "budget_level": lvl,
                     "budget_holder_id": holder, "kind": "payment", "amount_vnd": 1_000_000,
                     "advance_recovered_vnd": 0, "value_date": TODAY.isoformat(),
                     "document_number": f"BI-{run_id}-{b}-{i}"})
    return json.dumps({"rows": rows}).encode()


def create_key(env: dict[str, str], root: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "app", "create-key", "--org", "BTC", "--role", "admin", "--name",
                          "bench-batch"], cwd=root, env={**os.environ, **env}, check=True, capture_output=True,
                         text=True).stdout
    return out.strip().splitlines()[-1]


def post_batches(base: str, key: str, pools: list, batches: int, run_id: str, server: loadgen.Server) -> dict:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    done, times, rss = 0, [], 0.0
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        for b in range(batches):
            body = batch_body(pools, run_id, b)  # built outside the timed request, not outside the total
            t = time.perf_counter()
            response = client.post(f"{base}/api/v1/disbursements/batch", content=body,
                                   headers={**headers, "Idempotency-Key": f"bi-{run_id}-{b}"})
            times.append(time.perf_counter() - t)
            if response.status_code != 201:
                return {"rows": done, "error": f"HTTP {response.status_code}: {response.text[:300]}", "times": times}
            done += ROWS_PER_BATCH
            rss = max([rss, *server.worker_rss_mb()])
        elapsed = time.perf_counter() - started
    return {"rows": done, "seconds": elapsed, "request_seconds": sum(times), "times": times, "max_rss_mb": rss}


async def profile_one(db: str, key: str, pools: list, run_id: str, top: int, repeat: int = 1) -> None:
    """One warm-up batch, then one profiled, in-process through the ASGI app (no server, no network)."""
    os.environ["DATABASE_URL"] = national.sqlalchemy_url(db)
    os.environ["CLOCK_TODAY"] = TODAY.isoformat()
    from sqlalchemy import event

    from app.kernel.db import get_engine
    from app.main import create_app

    app = create_app(background_jobs=False)
    statements: list[tuple[float, str]] = []

    @event.listens_for(get_engine().sync_engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        conn.info["bench_t"] = time.perf_counter()

    @event.listens_for(get_engine().sync_engine, "after_cursor_execute")
    def _stop(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        statements.append((time.perf_counter() - conn.info.pop("bench_t"), " ".join(statement.split())[:110]))

    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=600) as http:
        plan = [(b, False) for b in range(repeat)] + [(repeat, True)]
        for b, profiled in plan:
            if b == 1 and os.environ.get("BENCH_GC_FREEZE"):  # as the server's lifespan does after start-up
                import gc

                gc.collect()
                gc.freeze()
            body = batch_body(pools, f"p{run_id}", b)
            profiler = cProfile.Profile()
            statements.clear()
            started = time.perf_counter()
            if profiled:
                profiler.enable()
            response = await http.post("/api/v1/disbursements/batch", content=body,
                                       headers={**headers, "Idempotency-Key": f"bp-{run_id}-{b}"})
            if profiled:
                profiler.disable()
            print(f"in-process batch {b}: HTTP {response.status_code} in {time.perf_counter() - started:.2f} s"
                  + (" (profiled)" if profiled else ""))
    print(f"SQL of the profiled batch: {len(statements)} statements, {sum(t for t, _ in statements):.3f} s")
    for seconds, statement in statements:
        print(f"  {seconds * 1000:8.1f} ms  {statement}")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(f"---- by {order}\n" + out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_dm")
    parser.add_argument("--load", type=float, default=None, help="(re)load the national data set at this scale")
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copy-rows", type=int, default=200_000)
    parser.add_argument("--app-root", type=Path, default=loadgen.ROOT, help="the checkout whose app is served")
    parser.add_argument("--indicator-refresh", action="store_true", help="keep the indicator refresher running")
    parser.add_argument("--profile", action="store_true", help="profile one batch in-process instead")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="with --profile: unprofiled batches first")
    args = parser.parse_args()
    dsn = f"{national.PG}/{args.db}"
    run_id = f"{int(time.time())}"
    if args.load is not None:
        loaded = national.load_sync(args.db, args.load)
        print("loaded: " + ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}"
                                     for k, v in loaded.items()), flush=True)
    env = {"DATABASE_URL": national.sqlalchemy_url(args.db), "CLOCK_TODAY": TODAY.isoformat(),
           "SWEEP_ENABLED": "false", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(args.app_root),
           # The stored indicators' refresher recomputes every project a batch touched (10,000 per batch) in a
           # worker: the import's own throughput is measured without it unless asked for.
           "INDICATOR_REFRESH_ENABLED": "true" if args.indicator_refresh else "false"}
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=args.app_root, check=True, capture_output=True,
                   env={**os.environ, **env})
    with asyncpg_connection(dsn) as counts:
        print(f"database {args.db}: {counts[0]:,} projects, {counts[1]:,} disbursements, {counts[2]:,} pools",
              flush=True)
    pools = asyncio.run(open_pools(dsn, 20_000))
    key = create_key(env, args.app_root)
    if args.profile:
        sys.path.insert(0, str(args.app_root))
        asyncio.run(profile_one(args.db, key, pools, run_id, args.top, args.repeat))
        return
    asyncio.run(vacuum(dsn))
    copy_rows_s = asyncio.run(copy_reference(dsn, args.copy_rows))
    print(f"COPY reference: {args.copy_rows:,} rows at {copy_rows_s:,.0f} rows/s", flush=True)
    server = loadgen.Server(["-m", "app", "serve", "--workers", str(args.workers)], env, "/healthz",
                            cwd=args.app_root)
    with server:
        result = post_batches(server.base, key, pools, args.batches, run_id, server)
        rss_end = server.worker_rss_mb()
    if "error" in result:
        print(f"stopped after {result['rows']:,} rows: {result['error']}")
        return
    rows_s = result["rows"] / result["seconds"]
    print(f"app: {args.app_root} ({args.workers} workers), {args.batches} × {ROWS_PER_BATCH:,}-row batches, 1 client, "
          f"indicator refresher {'on' if args.indicator_refresh else 'off'}")
    print(f"batch import: {result['rows']:,} rows in {result['seconds']:.1f} s = {rows_s:,.0f} rows/s "
          f"(requests alone {result['rows'] / result['request_seconds']:,.0f} rows/s); "
          f"COPY {copy_rows_s:,.0f} rows/s; ratio {rows_s / copy_rows_s:.2f}× (target ≥ 0.35×)")
    times = sorted(result["times"])
    print(f"seconds per batch: min {times[0]:.2f}, median {times[len(times) // 2]:.2f}, max {times[-1]:.2f}; "
          f"first {result['times'][0]:.2f}")
    print(f"worker RSS: max seen {result['max_rss_mb']:,.0f} MB; at end "
          + ", ".join(f"{mb:,.0f} MB" for mb in rss_end))


class asyncpg_connection:  # noqa: N801 - a tiny sync context for the three counts
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def __enter__(self) -> tuple[int, int, int]:
        async def go() -> tuple[int, int, int]:
            conn = await asyncpg.connect(self.dsn)
            try:
                row = await conn.fetchrow("SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM "
                                          "disbursements), (SELECT count(*) FROM pool_balances)")
            finally:
                await conn.close()
            return row[0], row[1], row[2]
        return asyncio.run(go())

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
