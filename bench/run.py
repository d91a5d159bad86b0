"""`make bench`: national-scale data, then every figure of issues 5 and 13 beside its reference measured in this run.

Prints one table; asserts nothing. PostgreSQL at BENCH_PG (default postgres@127.0.0.1:5432), database
`bench_dm` (dropped and recreated). Load by wrk when installed (`apt-get install wrk`), else httpx.

Run: .venv/bin/python bench/run.py [--scale 1.0] [--seconds 10] [--reuse] [--only batch,post]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
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
RAW_COLUMNS = national.DISBURSEMENT_COLUMNS


def _raw_row(n: int, tag: str) -> tuple:
    day = date(2024, 10, 11)
    return (
        1 + n % 1000,
        2024,
        "local_balanced",
        "province",
        "payment",
        None,
        None,
        1_000_000,
        0,
        1_000_000,
        day,
        f"{tag}-{n}",
        None,
        None,
        day,
        datetime.now(UTC),
        None,
        1,  # budget_holder_id (R1): any holder; the reference table has no foreign keys
    )


async def raw_references(dsn: str, seconds: float, copy_rows: int) -> dict[str, float]:
    """Raw asyncpg on a table shaped like `disbursements` (same columns and indexes, no FKs)."""
    conn = await asyncpg.connect(dsn)
    out: dict[str, float] = {}
    try:
        for table in ("bench_copy", "bench_insert"):
            await conn.execute(
                f"DROP TABLE IF EXISTS {table}; "
                f"CREATE TABLE {table} (LIKE disbursements INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
        records = [_raw_row(n, "C") for n in range(copy_rows)]
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=records, columns=RAW_COLUMNS)
        out["copy_rows_s"] = copy_rows / (time.perf_counter() - started)
        sql = (
            f"INSERT INTO bench_insert ({', '.join(RAW_COLUMNS)}) VALUES "
            f"({', '.join(f'${i + 1}' for i in range(len(RAW_COLUMNS)))})"
        )
        conns = [await asyncpg.connect(dsn) for _ in range(32)]
        deadline = time.perf_counter() + seconds
        counts = [0] * 32

        async def writer(i: int, c: asyncpg.Connection) -> None:
            stmt = await c.prepare(sql)
            while time.perf_counter() < deadline:
                await stmt.fetch(*_raw_row(i * 10_000_000 + counts[i], "I"))
                counts[i] += 1

        started = time.perf_counter()
        await asyncio.gather(*(writer(i, c) for i, c in enumerate(conns)))
        out["insert_rows_s"] = sum(counts) / (time.perf_counter() - started)
        for c in conns:
            await c.close()
        await conn.execute("DROP TABLE bench_copy; DROP TABLE bench_insert")
    finally:
        await conn.close()
    return out


async def open_pools(dsn: str, limit: int) -> list[tuple[int, str, str, int]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT project_id, capital_source, budget_level, budget_holder_id FROM pool_balances "
            "WHERE plan_year = 2024 "
            "AND plan_vnd - disbursed_vnd > 10000000000 ORDER BY project_id LIMIT $1",
            limit,
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


def create_key(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "app", "create-key", "--org", "BTC", "--role", "admin", "--name", "bench"],
        cwd=loadgen.ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


_REBUILD = """
import asyncio
from app.kernel.db import session_scope
from app.monitoring import indicator_store

async def main():
    async with session_scope() as session:
        await indicator_store.rebuild_all(session, 2024)
    await indicator_store.vacuum_after_rebuild()

asyncio.run(main())
"""


def rebuild_indicators(env: dict[str, str]) -> float:
    """Fill the stored indicators the summaries read (data loaded by COPY bypasses the change feed)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _REBUILD], cwd=loadgen.ROOT, env={**os.environ, **env}, check=True)
    return time.perf_counter() - started


def batch_import(base: str, key: str, pools: list, batches: int, max_seconds: float, run_id: str) -> dict:
    rng = random.Random(7)
    bodies = []
    for b in range(batches):
        rows = []
        for i in range(10_000):
            pid, src, lvl, holder = pools[rng.randrange(len(pools))]
            rows.append(
                {
                    "project_id": pid,
                    "plan_year": 2024,
                    "capital_source": src,
                    "budget_level": lvl,
                    "budget_holder_id": holder,
                    "kind": "payment",
                    "amount_vnd": 1_000_000,
                    "advance_recovered_vnd": 0,
                    "value_date": TODAY.isoformat(),
                    "document_number": f"B-{run_id}-{b}-{i}",
                }
            )
        bodies.append(json.dumps({"rows": rows}).encode())
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    done, times, status, detail = 0, [], None, ""
    with httpx.Client(timeout=300) as client:
        started = time.perf_counter()
        for b, body in enumerate(bodies):
            t = time.perf_counter()
            response = client.post(
                f"{base}/api/v1/disbursements/batch",
                content=body,
                headers={**headers, "Idempotency-Key": f"batch-{run_id}-{b}"},
            )
            times.append(time.perf_counter() - t)
            status = response.status_code
            if status != 201:
                detail = response.text[:300]
                break
            done += 10_000
            if time.perf_counter() - started > max_seconds:
                break
        elapsed = time.perf_counter() - started
    return {
        "rows_s": done / elapsed if done else 0.0,
        "rows": done,
        "batch_s": times,
        "status": status,
        "detail": detail,
    }


def poll_304(base: str, path: str, auth: dict[str, str], seconds: int, notes: list[str]) -> loadgen.LoadResult | None:
    """32 connections polling `path` with the ETag of a first full GET (every answer a 304 while nothing changes)."""
    started = time.perf_counter()
    first = httpx.get(base + path, headers=auth, timeout=300)
    notes.append(f"{path}: first full GET {first.status_code} in {(time.perf_counter() - started) * 1000:,.0f} ms, "
                 f"{len(first.content):,} bytes")
    etag = first.headers.get("etag")
    if not etag:
        return None
    headers = {**auth, "If-None-Match": etag}
    if loadgen.WRK:
        return loadgen.run_wrk(base + path, 32, seconds, headers=headers)
    return loadgen.run_httpx(lambda n: ("GET", base + path, headers, None), 32, seconds)


def has_path(base: str, path: str) -> bool:
    return path in httpx.get(f"{base}/openapi.json", timeout=60).json().get("paths", {})


def reallocation_ms() -> tuple[float | None, str]:
    script = loadgen.ROOT / "bench" / "bench_reallocation.py"
    if not script.exists():
        return None, "n/a (bench/bench_reallocation.py missing)"
    out = subprocess.run(
        [sys.executable, str(script), "--repeat", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=loadgen.ROOT,
    )
    match = re.search(r"optimiser: median ([\d,]+) ms", out.stdout)
    if match is None:
        return None, f"n/a (unparsed output: {(out.stdout + out.stderr)[-200:]!r})"
    return float(match.group(1).replace(",", "")), out.stdout.splitlines()[0]


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}{unit}" if abs(value) >= 100 else f"{value:,.1f}{unit}"


PARTS = ("batch", "post", "poll", "reads", "realloc", "replica")


def main() -> None:  # noqa: PLR0915, PLR0912 - a linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1.0")))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--db", default="bench_dm")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database (skip the generator)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"comma-separated subset of {','.join(PARTS)} (default: all)")
    args = parser.parse_args()
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    if unknown := only - set(PARTS):
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    dsn = f"{national.PG}/{args.db}"
    run_id = f"{int(time.time())}"
    print(f"== national data set (scale {args.scale}) into {args.db}", flush=True)
    if not args.reuse:
        loaded = national.load_sync(args.db, args.scale)
        print(
            "   "
            + ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in loaded.items())
        )
    # The schema at head (a reused database may predate the latest migrations).
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=loadgen.ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": national.sqlalchemy_url(args.db)})
    print("== raw asyncpg references", flush=True)
    raw = asyncio.run(raw_references(dsn, args.seconds, 200_000))
    pools = asyncio.run(open_pools(dsn, 20_000))
    env = {
        "DATABASE_URL": national.sqlalchemy_url(args.db),
        "CLOCK_TODAY": TODAY.isoformat(),
        "SWEEP_ENABLED": "false",
        "LOG_JSON": "true",
    }
    key = create_key(env)
    auth = {"Authorization": f"Bearer {key}"}
    rows: list[tuple[str, str, str, str, str]] = []
    notes: list[str] = []
    print(
        f"== app: uvicorn 2 workers; load tool {'wrk' if loadgen.WRK else 'httpx (wrk not installed)'}",
        flush=True,
    )
    polls: dict[str, loadgen.LoadResult | None] = {}
    reads: dict[str, dict | None] = {}
    if "reads" in only:
        notes.append(f"indicator store rebuilt for the reads in {rebuild_indicators(env):.1f} s (100k projects: "
                     "one-off after a COPY load; the API keeps it current incrementally)")
    with loadgen.app_server(env) as app:
        if "batch" in only:
            # Batch import (one client, 10,000-row batches) vs COPY.
            batch = batch_import(app.base, key, pools, 6, 30, run_id)
            if batch["status"] != 201:
                notes.append(f"batch import stopped with HTTP {batch['status']}: {batch['detail']}")
            ratio = batch["rows_s"] / raw["copy_rows_s"]
            rows.append(
                (
                    "batch import (10k-row POSTs, 1 client)",
                    f"{fmt(batch['rows_s'])} rows/s",
                    f"COPY {fmt(raw['copy_rows_s'])} rows/s",
                    f"{ratio:.2f}×",
                    "≥ 0.35×",
                )
            )
            notes.append("batch seconds per 10k rows: " + ", ".join(f"{t:.2f}" for t in batch["batch_s"]))
        if "post" in only:
            # Single POST, 32 clients, vs raw durable inserts with 32 connections.
            sample = pools[:2000]
            if loadgen.WRK:
                post = loadgen.run_wrk(
                    f"{app.base}/",
                    32,
                    args.seconds,
                    loadgen.lua_post_script(sample, key, TODAY.isoformat(), run_id),
                )
            else:

                def make(n: int, rng=random.Random(3)):
                    pid, src, lvl, holder = sample[rng.randrange(len(sample))]
                    doc = f"H-{run_id}-{n}"
                    body = json.dumps(
                        {
                            "plan_year": 2024,
                            "capital_source": src,
                            "budget_level": lvl,
                            "budget_holder_id": holder,
                            "kind": "payment",
                            "amount_vnd": 1_000_000,
                            "advance_recovered_vnd": 0,
                            "value_date": TODAY.isoformat(),
                            "document_number": doc,
                        }
                    )
                    return (
                        "POST",
                        f"{app.base}/api/v1/projects/{pid}/disbursements",
                        {**auth, "Content-Type": "application/json", "Idempotency-Key": doc},
                        body,
                    )

                post = loadgen.run_httpx(make, 32, args.seconds)
            ratio = post.rps / raw["insert_rows_s"]
            rows.append(
                (
                    "single POST, 32 clients",
                    f"{fmt(post.rps)} req/s",
                    f"raw insert {fmt(raw['insert_rows_s'])}/s",
                    f"{ratio:.2f}×",
                    "≥ 0.25×",
                )
            )
            rows.append(
                (
                    "single POST latency p50 / p99",
                    f"{fmt(post.p50_ms)} / {fmt(post.p99_ms)} ms",
                    "",
                    "",
                    "p99 ≤ 50 ms",
                )
            )
            if post.errors:
                notes.append(f"single POST: {post.errors} non-2xx/socket errors of {post.requests}")
        if "poll" in only:
            # The Treasury's polls answered 304: the overdue snapshot and the change feed at its head.
            head = httpx.get(app.base + "/api/v1/events/head", headers=auth, timeout=60).json()["head"]
            for label, path in (("treasury poll 304 (If-None-Match)", "/api/v1/treasury/overdue-advances"),
                                ("change feed poll 304 (If-None-Match)", f"/api/v1/events?after={head}")):
                polls[label] = poll_304(app.base, path, auth, args.seconds, notes)
        if "reads" in only:
            # Summaries and indicator list at national scale.
            for label, path, query in (
                ("province summary", "/api/v1/summaries", "?plan_year=2024"),
                ("summary by location", "/api/v1/summaries", "?plan_year=2024&group_by=location"),
                ("project list with flags", "/api/v1/indicators", "?plan_year=2024&page_size=50"),
            ):
                if has_path(app.base, path):
                    reads[label] = loadgen.timed_gets(app.base + path + query, auth, 30, 60)
                else:
                    reads[label] = None
        rss = app.worker_rss_mb()
    if "poll" in only:
        # Reference for the poll: the hello endpoint served the same way.
        with loadgen.hello_server() as hello_srv:
            if loadgen.WRK:
                hello = loadgen.run_wrk(hello_srv.base + "/hello", 32, args.seconds)
            else:
                hello = loadgen.run_httpx(
                    lambda n: ("GET", hello_srv.base + "/hello", {}, None), 32, args.seconds
                )
        for label, poll in polls.items():
            if poll is None:
                rows.append((label, "n/a (no ETag)", f"hello {fmt(hello.rps)} req/s", "", "≥ 0.6×"))
                continue
            rows.append((label, f"{fmt(poll.rps)} req/s", f"hello {fmt(hello.rps)} req/s",
                         f"{poll.rps / hello.rps:.2f}×", "≥ 0.6×"))
            rows.append((f"{label.split(' 304')[0]} p50 / p99", f"{fmt(poll.p50_ms)} / {fmt(poll.p99_ms)} ms",
                         "", "", ""))
            if poll.errors:
                notes.append(f"{label}: {poll.errors} non-2xx/3xx of {poll.requests}")
    for label, result in reads.items():
        if result is None:
            rows.append((label, "n/a (endpoint missing)", "", "", "p95 ≤ 150 ms"))
        elif result["status"] != 200:
            rows.append((label, f"HTTP {result['status']}", "", "", "p95 ≤ 150 ms"))
            notes.append(f"{label}: {result['detail']}")
        else:
            rows.append(
                (
                    label,
                    f"p50 {fmt(result['p50_ms'])} / p95 {fmt(result['p95_ms'])} ms",
                    f"cold {fmt(result['cold_ms'])} ms",
                    f"n={result['n']}",
                    "p95 ≤ 150 ms",
                )
            )
    if "realloc" in only:
        realloc, realloc_note = reallocation_ms()
        rows.append(
            (
                "reallocation, 10,000-project pool",
                f"{fmt(realloc)} ms" if realloc is not None else realloc_note,
                "",
                "",
                "≤ 1,000 ms",
            )
        )
        if realloc is not None:
            notes.append(f"reallocation: {realloc_note}")
    if "replica" in only:
        # Read throughput, 1 and 2 workers, without and with the streaming standby (its own throwaway pair).
        import bench_replica

        rows.extend(bench_replica.measure(args.scale, args.seconds, create_key))
    rows.append(
        ("worker RSS after the load", " / ".join(f"{r:,.0f} MB" for r in rss) or "n/a", "", "", "≤ 200 MB")
    )
    print()
    print(
        f"Disbursement Monitor benchmark — {date.today()}, {os.cpu_count()} CPUs, scale {args.scale}, "
        f"{args.seconds} s per load, tool {'wrk -t2' if loadgen.WRK else 'httpx'}"
    )
    widths = [
        max(len(r[i]) for r in [("figure", "measured", "reference (same run)", "ratio", "target"), *rows])
        for i in range(5)
    ]
    for r in [("figure", "measured", "reference (same run)", "ratio", "target"), *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)))
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
