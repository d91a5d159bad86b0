"""Read replicas (app.kernel.replica): read-only endpoints read from a real streaming standby, and a client that
wrote reads its own write (read-your-writes) by sending back the write's `X-Read-After`.

Needs the throwaway primary + standby pair of `scripts/replica-pair.sh` (`.ci/run` starts it and sets
TEST_PRIMARY_URL / TEST_READ_REPLICA_URL, so in CI these tests fail, never skip, when the pair is not there).
Locally: `eval "$(scripts/replica-pair.sh start)"`, then pytest this file, then `scripts/replica-pair.sh stop`.

To tell the standby from the primary, the standby's replay is paused (`pg_wal_replay_pause()`): a project created
meanwhile is on the primary only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import httpx
import pytest

from app.kernel.config import ROOT
from app.kernel.notify import listener_dsn
from app.kernel.replica import parse_lsn
from tests.live_server import LiveServer

PRIMARY = os.environ.get("TEST_PRIMARY_URL", "")
REPLICA = os.environ.get("TEST_READ_REPLICA_URL", "")
_no_pair = pytest.mark.skipif(not (PRIMARY and REPLICA), reason="TEST_PRIMARY_URL / TEST_READ_REPLICA_URL not set "
                              "(scripts/replica-pair.sh; .ci/run sets them)")


def needs_pair(test):
    """Marked `replica`: `make test` deselects these (a skip is not a pass); .ci/run runs them with `-m replica`
    against the pair it started. The skip remains only for a hand run of this file without the pair."""
    return pytest.mark.replica(_no_pair(test))


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, check=True, capture_output=True, text=True,
                          env={**os.environ, "DATABASE_URL": PRIMARY}).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def pair_server(tmp_path_factory):
    async def empty_primary() -> None:
        conn = await asyncpg.connect(listener_dsn(PRIMARY))
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()

    asyncio.run(empty_primary())
    _cli("migrate")
    admin_key = _cli("bootstrap", "--org", "UBND-RR")
    server = LiveServer(PRIMARY, tmp_path_factory.mktemp("replica") / "server.log", DATABASE_READ_URL=REPLICA,
                        INDICATOR_REFRESH_ENABLED="false", READ_AFTER_WAIT_MS="200")
    server.start()
    try:
        yield server, {"Authorization": f"Bearer {admin_key}"}
    finally:
        server.stop()


async def _replayed(standby: asyncpg.Connection) -> int:
    return parse_lsn(await standby.fetchval("SELECT pg_last_wal_replay_lsn()::text"))


@needs_pair
async def test_reads_go_to_the_standby_and_a_writer_reads_its_own_write(pair_server):
    server, admin = pair_server
    standby = await asyncpg.connect(listener_dsn(REPLICA))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            investor = await http.post("/api/v1/organisations", headers=admin, json={
                "code": "BQL-RR", "name": "Ban QLDA đọc bản sao", "kind": "investor", "valid_from": "2000-01-01"})
            assert investor.status_code == 201, investor.text
            await standby.execute("SELECT pg_wal_replay_pause()")
            created = await http.post("/api/v1/projects", headers=admin, json={
                "code": "RR-001", "name": "Dự án đọc sau ghi", "investor_id": investor.json()["id"],
                "sector": "transport", "location": "Vĩnh Yên", "group": "B", "stage": "ongoing",
                "total_investment_vnd": 100_000_000_000, "start_year": 2024, "end_year": 2026})
            assert created.status_code == 201, created.text
            read_after = created.headers["x-read-after"]
            assert parse_lsn(read_after) > await _replayed(standby)  # the standby is behind the write

            # Without the header the list is the standby's (paused): the new project is not there yet.
            plain = await http.get("/api/v1/projects", headers=admin)
            assert plain.status_code == 200 and plain.json()["items"] == []
            # With it: the standby has not replayed the write within 200 ms, so the primary answers, with it.
            own = await http.get("/api/v1/projects", headers={**admin, "X-Read-After": read_after})
            assert [p["code"] for p in own.json()["items"]] == ["RR-001"]
            one = await http.get(f"/api/v1/projects/{created.json()['id']}", headers={**admin,
                                                                                     "X-Read-After": read_after})
            assert one.status_code == 200 and one.json()["code"] == "RR-001"

            await standby.execute("SELECT pg_wal_replay_resume()")
            for _ in range(200):
                if await _replayed(standby) >= parse_lsn(read_after):
                    break
                await asyncio.sleep(0.05)
            caught_up = await http.get("/api/v1/projects", headers={**admin, "X-Read-After": read_after})
            assert [p["code"] for p in caught_up.json()["items"]] == ["RR-001"]
            assert [p["code"] for p in (await http.get("/api/v1/projects", headers=admin)).json()["items"]] == [
                "RR-001"]

            malformed = await http.get("/api/v1/projects", headers={**admin, "X-Read-After": "yesterday"})
            assert malformed.status_code == 422
    finally:
        await standby.execute("SELECT pg_wal_replay_resume()")
        await standby.close()


@needs_pair
async def test_a_standby_that_cannot_be_reached_sends_a_read_after_to_the_primary(pair_server, tmp_path):
    server, admin = pair_server
    away = LiveServer(PRIMARY, tmp_path / "away.log", INDICATOR_REFRESH_ENABLED="false", READ_AFTER_WAIT_MS="50",
                      DATABASE_READ_URL=REPLICA.rsplit(":", 1)[0] + ":1/dm")  # nothing listens on port 1
    away.start()
    try:
        async with httpx.AsyncClient(base_url=away.url, timeout=30) as http:
            answer = await http.get("/api/v1/projects", headers={**admin, "X-Read-After": "0/1"})
            assert answer.status_code == 200, answer.text
    finally:
        away.stop()


async def test_without_a_read_url_nothing_changes(client, world):
    # No DATABASE_READ_URL in the test settings: reads use the request's one session (on SQLite a second one would
    # wait for the first's BEGIN IMMEDIATE when the key is authenticated from the database, not the cache) …
    assert (await client.get("/api/v1/projects", headers=world.h("viewer"))).json()["items"] == []
    # … no header on a write, and X-Read-After is accepted and ignored.
    response = await client.post("/api/v1/projects", headers=world.h("planner"), json={
        "code": "RR-002", "name": "Dự án không bản sao", "investor_id": world.investor_id, "sector": "transport",
        "location": "Vĩnh Yên", "group": "B", "stage": "ongoing", "total_investment_vnd": 100_000_000_000,
        "start_year": 2024, "end_year": 2026})
    assert response.status_code == 201 and "x-read-after" not in response.headers
    listed = await client.get("/api/v1/projects", headers=world.h("planner", **{"X-Read-After": "0/16B3748"}))
    assert [p["code"] for p in listed.json()["items"]] == ["RR-002"]
