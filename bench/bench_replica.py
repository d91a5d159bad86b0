"""Read throughput with 1 and 2 workers, with and without a streaming replica (issue 13, read replicas).

Starts the throwaway primary + standby of `scripts/replica-pair.sh`, loads the national data set (at the run's
scale) into the pair's primary, and loads `GET /api/v1/projects?page_size=50` (a replica-routed read) with 32
connections: workers 1 and 2, DATABASE_READ_URL unset (primary) and set (standby). Stops the pair afterwards.

Run alone: .venv/bin/python bench/bench_replica.py [--scale 0.05] [--seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import national  # noqa: E402

PAIR = loadgen.ROOT / "scripts" / "replica-pair.sh"
READ_PATH = "/api/v1/projects?page_size=50"


@contextlib.contextmanager
def replica_pair() -> Iterator[tuple[str, str]]:
    """(primary, standby) server URLs without a database name, for as long as the pair runs."""
    out = subprocess.run(["bash", str(PAIR), "start"], check=True, capture_output=True, text=True).stdout
    urls = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        yield (urls["TEST_PRIMARY_URL"].rsplit("/", 1)[0].replace("+asyncpg", ""),
               urls["TEST_READ_REPLICA_URL"].rsplit("/", 1)[0].replace("+asyncpg", ""))
    finally:
        subprocess.run(["bash", str(PAIR), "stop"], check=False, capture_output=True)


def measure(scale: float, seconds: int, key_for) -> list[tuple[str, str, str, str, str]]:
    """Table rows: read req/s per (workers, replica), each beside the 1-worker primary-only figure."""
    rows = []
    with replica_pair() as (primary, standby):
        national.PG = primary
        national.load_sync("dm", scale)
        env = {"DATABASE_URL": national.sqlalchemy_url("dm"), "CLOCK_TODAY": national.AS_OF.isoformat(),
               "SWEEP_ENABLED": "false", "INDICATOR_REFRESH_ENABLED": "false", "LOG_JSON": "true"}
        auth = {"Authorization": f"Bearer {key_for(env)}"}
        baseline = None
        for workers in (1, 2):
            for replica in (False, True):
                run_env = {**env, "DATABASE_READ_URL": standby.replace("postgresql://", "postgresql+asyncpg://")
                           + "/dm"} if replica else env
                with loadgen.app_server(run_env, workers) as app:
                    if loadgen.WRK:
                        result = loadgen.run_wrk(app.base + READ_PATH, 32, seconds, headers=auth)
                    else:
                        result = loadgen.run_httpx(lambda n, app=app: ("GET", app.base + READ_PATH, auth, None),
                                                   32, seconds)
                baseline = baseline or result.rps
                rows.append((f"project list read, {workers} worker{'s' if workers > 1 else ''}, "
                             f"{'standby' if replica else 'primary only'}",
                             f"{result.rps:,.0f} req/s, p99 {result.p99_ms or 0:,.0f} ms"
                             + (f" ({result.errors} errors of {result.requests})" if result.errors else ""),
                             f"1 worker, primary {baseline:,.0f} req/s", f"{result.rps / baseline:.2f}×", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "0.05")))
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    import run  # the admin key, made the way the main benchmark makes it

    for row in measure(args.scale, args.seconds, run.create_key):
        print("  ".join(row))


if __name__ == "__main__":
    main()
