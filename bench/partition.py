"""Should the ledger tables be partitioned by plan year? (issue #13, item 5) — a measurement, asserts nothing.

On one PostgreSQL database (default `part_bench`, migrated to head here so the shape is the migrations'), builds
two copies of `disbursements` and `allocation_entries`:

* `plain`: `LIKE public.<table> INCLUDING ALL` — the real columns, CHECKs, primary key, unique constraints and
  indexes — plus the foreign keys (to small key tables in schema `keys`, so both copies pay the same FK checks);
* `part`: the same columns and CHECKs, `PARTITION BY LIST (plan_year)`, one partition per year. PostgreSQL makes
  every unique constraint of a partitioned table include the partition key, so the primary key becomes
  (id, plan_year), (project_id, document_number) becomes (project_id, plan_year, document_number) — a weaker rule
  than today's — and the reversal's self-reference becomes (reverses_id, plan_year) → (id, plan_year).

Both are filled from one staging table built by generate_series (identical rows), VACUUM ANALYZEd, then the
service's own statements on these tables (same SQL shape as `ledger.balances.pool_figures`,
`ledger.books.advances_outstanding_on`, `monitoring.indicators._series/_fresh_capital`, the monthly report's three
`pool_figures`, `verify`'s whole-ledger aggregation) are timed interleaved (plain, part, plain, ...), as prepared
statements like the app's asyncpg driver, plus single-row INSERT, a 10k-row COPY and removing the oldest year.

Run: .venv/bin/python bench/partition.py [--db part_bench] [--rows 5000000] [--skip-load]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
FIRST_YEAR = 2019
VARIANTS = ("plain", "part")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# --- schema -------------------------------------------------------------------------------------------------------

KEYS = """
DROP SCHEMA IF EXISTS keys CASCADE; CREATE SCHEMA keys;
CREATE TABLE keys.projects (id bigint PRIMARY KEY);
CREATE TABLE keys.organisations (id bigint PRIMARY KEY);
CREATE TABLE keys.contracts (id bigint PRIMARY KEY);
CREATE TABLE keys.contract_members (id bigint PRIMARY KEY);
CREATE TABLE keys.api_keys (id bigint PRIMARY KEY);
INSERT INTO keys.projects SELECT generate_series(1, {projects});
INSERT INTO keys.organisations SELECT generate_series(1, 60);
INSERT INTO keys.contracts SELECT generate_series(1, 2 * {projects} + 2);
INSERT INTO keys.api_keys VALUES (1);
"""

FKS = """
ALTER TABLE {s}.allocation_entries ADD FOREIGN KEY (budget_holder_id) REFERENCES keys.organisations(id),
  ADD FOREIGN KEY (created_by_key_id) REFERENCES keys.api_keys(id),
  ADD FOREIGN KEY (project_id) REFERENCES keys.projects(id);
ALTER TABLE {s}.disbursements ADD FOREIGN KEY (budget_holder_id) REFERENCES keys.organisations(id),
  ADD FOREIGN KEY (contract_id) REFERENCES keys.contracts(id),
  ADD FOREIGN KEY (contract_member_id) REFERENCES keys.contract_members(id),
  ADD FOREIGN KEY (created_by_key_id) REFERENCES keys.api_keys(id),
  ADD FOREIGN KEY (project_id) REFERENCES keys.projects(id);
"""

PLAIN = """
DROP SCHEMA IF EXISTS plain CASCADE; CREATE SCHEMA plain;
CREATE SEQUENCE plain.d_seq; CREATE SEQUENCE plain.a_seq;
CREATE TABLE plain.disbursements (LIKE public.disbursements INCLUDING ALL);
CREATE TABLE plain.allocation_entries (LIKE public.allocation_entries INCLUDING ALL);
ALTER TABLE plain.disbursements ALTER COLUMN id SET DEFAULT nextval('plain.d_seq'),
  ADD FOREIGN KEY (reverses_id) REFERENCES plain.disbursements(id);
ALTER TABLE plain.allocation_entries ALTER COLUMN id SET DEFAULT nextval('plain.a_seq');
"""

PART = """
DROP SCHEMA IF EXISTS part CASCADE; CREATE SCHEMA part;
CREATE SEQUENCE part.d_seq; CREATE SEQUENCE part.a_seq;
CREATE TABLE part.disbursements (LIKE public.disbursements INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY LIST (plan_year);
CREATE TABLE part.allocation_entries (LIKE public.allocation_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY LIST (plan_year);
ALTER TABLE part.disbursements ALTER COLUMN id SET DEFAULT nextval('part.d_seq'),
  ADD PRIMARY KEY (id, plan_year),
  ADD UNIQUE (project_id, plan_year, document_number),
  ADD UNIQUE (reverses_id, plan_year),
  ADD UNIQUE (project_id, plan_year, owner_document_number),
  ADD FOREIGN KEY (reverses_id, plan_year) REFERENCES part.disbursements(id, plan_year);
CREATE INDEX ON part.disbursements (project_id, plan_year, capital_source, budget_level, budget_holder_id);
CREATE INDEX ON part.disbursements (plan_year, value_date);
CREATE INDEX ON part.disbursements (contract_id);
ALTER TABLE part.allocation_entries ALTER COLUMN id SET DEFAULT nextval('part.a_seq'),
  ADD PRIMARY KEY (id, plan_year),
  ADD UNIQUE (project_id, plan_year, capital_source, budget_level, budget_holder_id, kind, decision_number);
CREATE INDEX ON part.allocation_entries (project_id, plan_year, capital_source, budget_level, budget_holder_id);
CREATE INDEX ON part.allocation_entries (plan_year, known_on);
CREATE INDEX ON part.allocation_entries (reallocation_proposal_id);
"""

# One pool per project and year: source, level and holder are functions of the project (R1 shape, 50 holders).
_POOL = """(array['central','local_balanced','land_use','lottery','local_borrowing','oda'])[1 + (p % 6)::int],
  (array['province','district','commune'])[1 + (p % 3)::int], 1 + p % 50"""

STAGE = """
DROP SCHEMA IF EXISTS stage CASCADE; CREATE SCHEMA stage;
CREATE UNLOGGED TABLE stage.d (LIKE public.disbursements);
CREATE UNLOGGED TABLE stage.a (LIKE public.allocation_entries);
INSERT INTO stage.d (id, project_id, plan_year, capital_source, budget_level, budget_holder_id, kind, advance_kind,
  contract_id, amount_vnd, advance_recovered_vnd, net_vnd, value_date, document_number, known_on, created_at,
  source, origin, owner_document_number, completes_supply)
SELECT i, p, y, {pool}, kind, advance_kind, contract_id, amount, recovered, amount - recovered, vd, 'CT-' || i,
  vd + (i % 5)::int, (vd + (i % 5)::int)::timestamptz, src, src,
  CASE WHEN src = 'treasury' AND i % 10 = 8 THEN 'OD-' || i END, false
FROM (
  SELECT i, p, y, vd, amount, src,
    CASE WHEN r < 2 THEN 'advance' WHEN r = 2 THEN 'clearance' ELSE 'payment' END AS kind,
    CASE WHEN r = 0 THEN 'contract' WHEN r = 1 THEN 'site_clearance' END AS advance_kind,
    CASE WHEN r = 0 OR r > 2 THEN 2 * p + i % 2 END AS contract_id,
    CASE WHEN r = 2 THEN amount WHEN r > 2 AND i % 3 = 0 THEN amount / 5 ELSE 0 END AS recovered
  FROM (
    SELECT i, 1 + (i * 7919) % {projects} AS p, {first} + ((i - 1) * {years} / {base})::int AS y, i % 20 AS r,
      make_date({first} + ((i - 1) * {years} / {base})::int, 1, 1) + ((i * 13) % 395)::int AS vd,
      1000000::bigint * (1 + (i * 31) % 5000) AS amount,
      CASE WHEN i % 10 = 9 THEN 'owner' ELSE 'treasury' END AS src
    FROM generate_series(1::bigint, {base}) i) g) k;
-- reversals: every 500th row is reversed (the negated movement, same pool), ten days later
INSERT INTO stage.d (id, project_id, plan_year, capital_source, budget_level, budget_holder_id, kind, advance_kind,
  contract_id, amount_vnd, advance_recovered_vnd, net_vnd, value_date, document_number, reverses_id, known_on,
  created_at, source, origin, completes_supply)
SELECT {base} + row_number() OVER (ORDER BY id), project_id, plan_year, capital_source, budget_level,
  budget_holder_id, kind, advance_kind, contract_id, -amount_vnd, -advance_recovered_vnd, -net_vnd, value_date + 10,
  'RV-' || id, id, known_on + 10, created_at + interval '10 days', 'treasury', origin, false
FROM stage.d WHERE id % 500 = 0;
-- allocations: per year one initial entry per project, then supplements, decreases and extensions
INSERT INTO stage.a (id, project_id, plan_year, capital_source, budget_level, budget_holder_id, kind, amount_vnd,
  added_vnd, decision_number, decision_date, authority, extended_until, known_on, created_at)
SELECT j, p, y, {pool}, kind, amount, CASE WHEN kind = 'extension' THEN 0 ELSE amount / 10 END, 'QD-' || j, dd,
  'UBND tỉnh', CASE WHEN kind = 'extension' THEN make_date(y + 1, 12, 31) END, dd + (j % 3)::int,
  (dd + (j % 3)::int)::timestamptz
FROM (
  SELECT j, y, p, kind, make_date(y, 1, 1) + CASE WHEN kind = 'initial' THEN 0 ELSE ((j * 17) % 360)::int END AS dd,
    CASE WHEN kind = 'adjustment_out' THEN -1 ELSE 1 END * 1000000000::bigint * (1 + p % 50)
      / CASE WHEN kind = 'initial' THEN 1 ELSE 10 END AS amount
  FROM (
    SELECT j, y, CASE WHEN l < {projects} THEN 1 + l ELSE 1 + (l * 7919) % {projects} END AS p,
      CASE WHEN l < {projects} THEN 'initial'
        ELSE (array['supplement','adjustment_out','extension'])[1 + (l % 3)::int] END AS kind
    FROM (SELECT j, {first} + ((j - 1) * {years} / {alloc})::int AS y,
            (j - 1) - ((j - 1) * {years} / {alloc})::int * ({alloc} / {years}) AS l
          FROM generate_series(1::bigint, {alloc}) j) g) h) k;
"""


def _partitions(schema: str, years: int) -> str:
    out = []
    for table in ("disbursements", "allocation_entries"):
        for y in range(FIRST_YEAR, FIRST_YEAR + years + 1):  # one spare year ahead (the next plan year)
            out.append(f"CREATE TABLE {schema}.{table}_{y} PARTITION OF {schema}.{table} FOR VALUES IN ({y});")
    return "\n".join(out)


async def _exec_timed(conn: asyncpg.Connection, label: str, sql: str) -> float:
    t = time.perf_counter()
    await conn.execute(sql)
    took = time.perf_counter() - t
    print(f"  {label:<52} {took:8.1f} s", flush=True)
    return took


async def load(conn: asyncpg.Connection, rows: int, projects: int, years: int) -> dict[str, float]:
    base = rows * 500 // 501  # + one reversal per 500 rows ≈ `rows`
    alloc = rows * 15 // 100 // years * years
    args = {"pool": _POOL, "projects": projects, "years": years, "first": FIRST_YEAR, "base": base, "alloc": alloc}
    await _exec_timed(conn, "key tables", KEYS.format(**args))
    await _exec_timed(conn, "staging rows (generate_series)", STAGE.format(**args))
    loads: dict[str, float] = {}
    for schema, ddl in (("plain", PLAIN), ("part", PART + _partitions("part", years))):
        await conn.execute(ddl)
        await conn.execute(FKS.format(s=schema))
        took = await _exec_timed(conn, f"{schema}: INSERT … SELECT, constraints and indexes in place", f"""
            INSERT INTO {schema}.disbursements SELECT * FROM stage.d ORDER BY id;
            INSERT INTO {schema}.allocation_entries SELECT * FROM stage.a ORDER BY id;
            SELECT setval('{schema}.d_seq', (SELECT max(id) FROM stage.d));
            SELECT setval('{schema}.a_seq', (SELECT max(id) FROM stage.a));""")
        loads[schema] = took
    for schema in VARIANTS:
        for table in ("disbursements", "allocation_entries"):
            await _exec_timed(conn, f"VACUUM ANALYZE {schema}.{table}", f"VACUUM ANALYZE {schema}.{table}")
    await conn.execute("DROP SCHEMA stage CASCADE")
    return loads


# --- the service's statements ----------------------------------------------------------------------------------

_D_POOL = "project_id, plan_year, capital_source, budget_level, budget_holder_id"
# balances.pool_figures: the two aggregations, with its optional filters
_A_SUMS = (f"SELECT {_D_POOL}, sum(CASE WHEN kind != 'extension' THEN amount_vnd ELSE 0 END), "
           "sum(CASE WHEN kind = 'extension' THEN amount_vnd ELSE 0 END), sum(added_vnd) FROM {s}.allocation_entries")
_D_SUMS = (f"SELECT {_D_POOL}, sum(net_vnd), sum(CASE WHEN kind = 'advance' THEN amount_vnd ELSE 0 END), "
           "sum(advance_recovered_vnd), sum(CASE WHEN kind = 'payment' THEN amount_vnd ELSE 0 END), "
           "sum(CASE WHEN origin = 'treasury' THEN net_vnd ELSE 0 END) FROM {s}.disbursements")


def pool_figures(year: bool, ids: bool, as_of: bool, known_on: bool) -> list[str]:
    """The SQL of `pool_figures` with the filters given; parameters in order year, ids, as_of (known_on = $n)."""
    out = []
    for base, date_col in ((_A_SUMS, "decision_date"), (_D_SUMS, "value_date")):
        cond, n = [], 0
        if year:
            n += 1
            cond.append(f"plan_year = ${n}")
        if ids:
            n += 1
            cond.append(f"project_id = ANY(${n}::bigint[])")
        if as_of:
            n += 1
            cond.append(f"{date_col} <= ${n}")
            if known_on:
                cond.append(f"known_on <= ${n}")
        where = f" WHERE {' AND '.join(cond)}" if cond else ""
        out.append(f"{base}{where} GROUP BY {_D_POOL}")
    return out


SERIES = ("SELECT project_id, capital_source, budget_level, budget_holder_id, extract(year FROM value_date) y, "
          "extract(month FROM value_date) m, sum(net_vnd), max(value_date) FROM {s}.disbursements "
          "WHERE plan_year = $1 AND value_date <= $2 AND known_on <= $2 {ids} "
          "GROUP BY project_id, capital_source, budget_level, budget_holder_id, y, m "
          "ORDER BY project_id, capital_source, budget_level, budget_holder_id, y, m")
FRESH = ("SELECT project_id, capital_source, budget_level, budget_holder_id, sum(amount_vnd), min(decision_date) "
         "FROM {s}.allocation_entries WHERE plan_year = $1 AND kind = 'supplement' AND decision_date > $4 "
         "AND decision_date <= $2 AND known_on <= $2 AND project_id = ANY($3::bigint[]) "
         "GROUP BY project_id, capital_source, budget_level, budget_holder_id")
ADVANCES = ("SELECT * FROM {s}.disbursements WHERE value_date <= $1 AND known_on <= $1 "
            "AND (kind = 'advance' OR advance_recovered_vnd != 0) {ids} ORDER BY id")


def operations(year: int, projects: int, rows: int) -> list[tuple[str, list[tuple[str, tuple]], int]]:
    """(label, [(sql with {s}, args)], repetitions)."""
    as_of, month_end = date(year, 10, 11), date(year, 9, 30)
    one = [1 + (year * 7919) % projects]
    batch = list(range(1 + projects // 3, 1 + projects // 3 + 1000))  # an indicator refresh batch (1,000 projects)
    p500 = batch[:500]  # treasury.view passes ≤ 500 projects
    y_only = pool_figures(True, False, True, False)
    keys = [(1 + (k * 7919) % projects, f"CT-{k}") for k in range(1, 10_001)]  # (project, document) of stored rows
    by_key = ("SELECT d.project_id, d.document_number FROM {s}.disbursements AS d JOIN unnest($1::bigint[], "
              "$2::varchar[]) AS k(p, n) ON d.project_id = k.p AND d.document_number = k.n")
    return [
        ("a disbursement by id (session.get: reversal, confirmation)",
         [("SELECT * FROM {s}.disbursements WHERE id = $1", (rows // 2,))], 300),
        ("posting: natural-key check, one row (project, document)",
         [("SELECT id FROM {s}.disbursements WHERE project_id = $1 AND document_number = $2", keys[0])], 300),
        ("posting: natural-key check, 10,000-row batch (unnest join)",
         [(by_key, ([k[0] for k in keys], [k[1] for k in keys]))], 20),
        ("project page: pool_figures(year, 1 project, as of)",
         [(q, (year, one, as_of)) for q in pool_figures(True, True, True, True)], 200),
        ("indicator batch: pool_figures + _series + _fresh_capital, 1,000 projects",
         [(q, (year, batch, as_of)) for q in pool_figures(True, True, True, True)]
         + [(SERIES.replace("{ids}", "AND project_id = ANY($3::bigint[])"), (year, as_of, batch)),
            (FRESH, (year, as_of, batch, as_of - timedelta(days=60)))], 40),
        ("confirmed_split: pool_figures(year), province",
         [(q, (year,)) for q in pool_figures(True, False, False, False)], 15),
        ("monthly report: 3 × pool_figures (year, month end, year − 1)",
         [(q, (year, as_of)) for q in y_only] + [(q, (year, month_end)) for q in y_only]
         + [(q, (year - 1, as_of)) for q in y_only], 10),
        ("indicators as known on a day: pool_figures(year, as of, known on), province",
         [(q, (year, as_of)) for q in pool_figures(True, False, True, True)], 15),
        ("_series, province (full indicator rebuild)", [(SERIES.replace("{ids}", ""), (year, as_of))], 10),
        ("advances_outstanding_on, 500 projects (no year filter)",
         [(ADVANCES.replace("{ids}", "AND project_id = ANY($2::bigint[])"), (as_of, p500))], 20),
        ("advances_outstanding_on, province (no year filter; rows counted in the server)",
         [(f"SELECT count(*) FROM ({ADVANCES.replace('{ids}', '')}) x", (as_of,))], 3),
        ("verify: pool_figures(), whole ledger", [(q, ()) for q in pool_figures(False, False, False, False)], 3),
    ]


async def time_reads(conn: asyncpg.Connection, year: int, projects: int, rows: int, scale: float) -> list[tuple]:
    results = []
    for label, statements, reps in operations(year, projects, rows):
        reps = max(3, int(reps * scale))
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for rep in range(reps + 1):  # the first round warms the cache and the prepared statements, untimed
            for v in VARIANTS:
                t = time.perf_counter()
                found = 0
                for sql, args in statements:
                    found += len(await conn.fetch(sql.replace("{s}", v), *args))
                if rep:
                    times[v].append((time.perf_counter() - t) * 1000)
        results.append((label, f"{found:,} rows", times))
        _print_row(results[-1])
    return results


_INSERT = ("INSERT INTO {s}.disbursements (project_id, plan_year, capital_source, budget_level, budget_holder_id, "
           "kind, contract_id, amount_vnd, advance_recovered_vnd, net_vnd, value_date, document_number, known_on, "
           "created_at, source, origin) VALUES ($1, $2, 'central', 'province', $3, 'payment', $4, $5, 0, $5, $6, $7, "
           "$6, $8, 'treasury', 'treasury') RETURNING id")
_COPY_COLUMNS = ("project_id", "plan_year", "capital_source", "budget_level", "budget_holder_id", "kind", "contract_id",
                 "amount_vnd", "advance_recovered_vnd", "net_vnd", "value_date", "document_number", "known_on",
                 "created_at", "source", "origin")


async def time_writes(conn: asyncpg.Connection, year: int, projects: int, scale: float) -> list[tuple]:
    results = []
    now, day = datetime.now(UTC), date(year, 10, 11)
    tag = int(time.time())  # document numbers stay unique when the script runs again on loaded tables
    n = max(200, int(2000 * scale))
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for i in range(n):  # autocommit: each row its own transaction, as a single POST's ledger row
        for v in VARIANTS:
            p = 1 + (i * 104729) % projects
            t = time.perf_counter()
            await conn.fetchval(_INSERT.replace("{s}", v), p, year, 1 + p % 50, 2 * p, 1_000_000 + i, day,
                                f"BENCH-{tag}-{i}", now)
            times[v].append((time.perf_counter() - t) * 1000)
    results.append((f"single-row INSERT, own transaction ({n} rows)", "ms per row", times))
    _print_row(results[-1])
    times = {v: [] for v in VARIANTS}
    for rep in range(max(3, int(5 * scale))):
        for v in VARIANTS:
            records = [(1 + (k * 7) % projects, year, "central", "province", 1 + k % 50, "payment",
                        2 * (1 + (k * 7) % projects), 2_000_000, 0, 2_000_000, day, f"COPY-{tag}-{rep}-{k}", day, now,
                        "treasury", "treasury") for k in range(10_000)]
            t = time.perf_counter()
            await conn.copy_records_to_table("disbursements", schema_name=v, records=records, columns=_COPY_COLUMNS)
            times[v].append((time.perf_counter() - t) * 1000)
    results.append(("COPY of 10,000 rows", "ms per COPY", times))
    _print_row(results[-1])
    return results


async def time_drop_year(conn: asyncpg.Connection, years: int) -> list[tuple]:
    """Removing the oldest plan year from the live tables, in a transaction rolled back (so it can repeat):
    plain: DELETE (the rows then still need a VACUUM); part: DETACH PARTITION and DROP (the detached table is the
    archive as it stands; DROP frees the space at once).

    The reversal's self-reference declared on the partitioned parent makes DETACH fail (a year's reversals
    reference that year's rows); it is then declared per partition (a reversal is in its original's pool, hence
    year), and DETACH + DROP is timed on that."""
    y = FIRST_YEAR
    detach = [f"ALTER TABLE part.allocation_entries DETACH PARTITION part.allocation_entries_{y}",
              f"ALTER TABLE part.disbursements DETACH PARTITION part.disbursements_{y}",
              f"DROP TABLE part.allocation_entries_{y}", f"DROP TABLE part.disbursements_{y}"]
    try:
        async with conn.transaction():
            for sql in detach:
                await conn.execute(sql)
            raise RuntimeError("rollback")
    except asyncpg.ForeignKeyViolationError as e:
        print(f"  DETACH with the parent-level self-reference: {type(e).__name__}: {e}")
        fk = await conn.fetchval("SELECT conname FROM pg_constraint WHERE conrelid = 'part.disbursements'::regclass "
                                 "AND contype = 'f' AND confrelid = conrelid")
        await conn.execute(f"ALTER TABLE part.disbursements DROP CONSTRAINT {fk}")
        for year in range(FIRST_YEAR, FIRST_YEAR + years + 1):
            await conn.execute(f"ALTER TABLE part.disbursements_{year} ADD FOREIGN KEY (reverses_id, "
                               f"plan_year) REFERENCES part.disbursements_{year}(id, plan_year)")
    except RuntimeError:
        pass
    ops = {
        "plain": [f"DELETE FROM plain.allocation_entries WHERE plan_year = {y}",
                  f"DELETE FROM plain.disbursements WHERE plan_year = {y}"],
        "part": detach,
    }
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    for _ in range(3):
        for v in VARIANTS:
            tr = conn.transaction()
            await tr.start()
            t = time.perf_counter()
            for sql in ops[v]:
                await conn.execute(sql)
            times[v].append((time.perf_counter() - t) * 1000)
            await tr.rollback()
    out = [(f"remove plan year {y} (DELETE vs DETACH + DROP)", "ms", times)]
    _print_row(out[0])
    return out


def _fmt(ms: float) -> str:
    return f"{ms:,.2f}" if ms < 10 else f"{ms:,.0f}"


def _print_row(r: tuple) -> None:
    label, note, times = r
    p, q = times["plain"], times["part"]
    mp, mq = statistics.median(p), statistics.median(q)
    print(f"| {label} | {note} | {_fmt(mp)} / {_fmt(_pct(p, 0.95))} | {_fmt(mq)} / {_fmt(_pct(q, 0.95))} "
          f"| {mq / mp:.2f}× |", flush=True)


async def sizes(conn: asyncpg.Connection) -> None:
    for v in VARIANTS:
        row = await conn.fetchrow(f"""SELECT (SELECT count(*) FROM {v}.disbursements) d,
            (SELECT count(*) FROM {v}.allocation_entries) a,
            (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{v}' AND c.relkind IN ('r', 'p')) bytes""")
        print(f"  {v:<6} disbursements {row['d']:,}  allocation_entries {row['a']:,}  "
              f"tables + indexes {row['bytes'] / 2**30:.2f} GiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="part_bench")
    ap.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    ap.add_argument("--rows", type=int, default=5_000_000, help="disbursement rows (allocations: 15%% of them)")
    ap.add_argument("--projects", type=int, default=100_000)
    ap.add_argument("--years", type=int, default=6)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the repetitions")
    ap.add_argument("--skip-load", action="store_true", help="time the tables already loaded")
    a = ap.parse_args()
    dsn = f"postgresql://postgres@{a.host}:5432/{a.db}"
    env = {**os.environ, "DATABASE_URL": f"postgresql+asyncpg://postgres@{a.host}:5432/{a.db}"}
    subprocess.run([sys.executable, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True)  # the real shape
    asyncio.run(run(dsn, a))


async def run(dsn: str, a: argparse.Namespace) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute("SET statement_timeout = 0")
    year = FIRST_YEAR + a.years - 1
    print(f"== {a.db}: {a.rows:,} disbursement rows, {a.projects:,} projects, plan years {FIRST_YEAR}–{year}")
    loads = None
    if not a.skip_load:
        loads = await load(conn, a.rows, a.projects, a.years)
    await sizes(conn)
    print(f"\ntimes in ms, median / p95; plan year {year} as of {year}-10-11\n")
    print("| operation | result | plain | partitioned by plan year | part ÷ plain |\n|---|---|---|---|---|")
    if loads:
        print(f"| load (INSERT … SELECT into indexed tables) | | {loads['plain']:,.0f} s | {loads['part']:,.0f} s "
              f"| {loads['part'] / loads['plain']:.2f}× |")
    await time_reads(conn, year, a.projects, a.rows, a.scale)
    await time_writes(conn, year, a.projects, a.scale)
    await time_drop_year(conn, a.years)
    await conn.close()


if __name__ == "__main__":
    main()
