"""PostgreSQL, two real workers: a poll answered 304 from memory is never stale by a write already answered.

Worker B remembers the feed's head and the overdue snapshot's version (app.kernel.caches). A write through worker
A NOTIFYs on commit and is answered only once every listening worker has cleared them (`caches.delivered`), so
B's very next poll of the overdue snapshot is a 200 carrying the write (the feed's, once the event is published).
With B's LISTEN connection killed (pg_terminate_backend), B bypasses its memory (the database path) until it
listens again, then re-reads: still never a stale 304.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from app.kernel.notify import LISTENER_NAME, listener_dsn
from tests.conftest import TEST_DATABASE_URL, allocate, disbursement_body, make_project
from tests.db.test_key_revocation import two_workers  # noqa: F401  (the fixture: workers A and B)

pytestmark = pytest.mark.postgres
RUNS = 10
EVENTS = "/api/v1/events"
OVERDUE = "/api/v1/treasury/overdue-advances"


async def _settled(on_b: httpx.AsyncClient, path: str, headers: dict, params: dict) -> str:
    """Poll B until it answers 304 for its own last tag (the head or version is then in B's memory)."""
    first = await on_b.get(path, params=params, headers=headers)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    for _ in range(20):
        again = await on_b.get(path, params=params, headers={**headers, "If-None-Match": etag})
        if again.status_code == 304:
            return etag
        etag = again.headers["etag"]
    raise AssertionError("worker B never settled")


async def _listeners(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                               "AND datname = current_database()", LISTENER_NAME)


async def test_a_write_through_one_worker_ends_the_others_304_at_once(world, two_workers):  # noqa: F811
    a, b = two_workers
    treasury = world.h("treasury")
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as on_a, \
            httpx.AsyncClient(base_url=b.url, timeout=30) as on_b:
        project = await make_project(on_a, world)
        assert (await allocate(on_a, world, project["id"], 50_000_000_000)).status_code == 201
        for run in range(RUNS):
            feed_tag = await _settled(on_b, EVENTS, treasury, {"after": 0, "page_size": 1000})
            overdue_tag = await _settled(on_b, OVERDUE, treasury, {})
            # R11: an "other" advance of 2024-03-01 is overdue on 2024-10-11 (the workers' clock): both change.
            body = disbursement_body(10_000_000, f"TU-{run}", kind="advance", value_date="2024-03-01")
            written = await on_a.post(f"/api/v1/projects/{project['id']}/disbursements", json=body,
                                      headers=treasury)
            assert written.status_code == 201, written.text
            # The feed shows an event once it is published: B's poll publishes it, unless a publisher round is
            # under way elsewhere (it does not wait, DESIGN.md Pollers) — then the next poll, well within the
            # memory's 10 s TTL, has it. (The in-process test, without background publishers, checks the very next.)
            for _ in range(20):
                feed = await on_b.get(EVENTS, params={"after": 0, "page_size": 1000},
                                      headers={**treasury, "If-None-Match": feed_tag})
                if feed.status_code == 200:
                    break
                await asyncio.sleep(0.05)
            assert feed.status_code == 200, (run, "stale 304 from the feed")
            assert written.json()["id"] in {e["payload"].get("id") for e in feed.json()["items"]
                                             if e["type"] == "disbursement.recorded"}
            overdue = await on_b.get(OVERDUE, headers={**treasury, "If-None-Match": overdue_tag})
            assert overdue.status_code == 200, (run, "stale 304 from the overdue snapshot")
            # Each run adds 10,000,000 đ overdue under R11: run + 1 advances in all.
            assert overdue.json()["total_overdue_vnd"] == (run + 1) * 10_000_000


async def test_after_its_listen_connection_is_killed_a_worker_falls_back_then_rereads(world, two_workers):  # noqa: F811
    a, b = two_workers
    treasury = world.h("treasury")
    admin = await asyncpg.connect(listener_dsn(TEST_DATABASE_URL))
    try:
        async with httpx.AsyncClient(base_url=a.url, timeout=30) as on_a, \
                httpx.AsyncClient(base_url=b.url, timeout=30) as on_b:
            project = await make_project(on_a, world)
            assert (await allocate(on_a, world, project["id"], 50_000_000_000)).status_code == 201
            for run in range(3):
                tag = await _settled(on_b, OVERDUE, treasury, {})
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 "
                    "AND datname = current_database()", LISTENER_NAME)
                assert killed == 2  # A's and B's
                await asyncio.sleep(0.2)  # the workers see their sockets closed
                # Written while nobody listens: no worker acknowledges, none may answer from memory.
                body = disbursement_body(10_000_000, f"TU-{run}", kind="advance", value_date="2024-03-01")
                written = await on_a.post(f"/api/v1/projects/{project['id']}/disbursements", json=body,
                                          headers=treasury)
                assert written.status_code == 201, written.text
                during = await on_b.get(OVERDUE, headers={**treasury, "If-None-Match": tag})
                assert during.status_code == 200, (run, "stale 304 while deaf")
                assert during.json()["total_overdue_vnd"] == (run + 1) * 10_000_000
                # Listening again (retry every 0.5 s): B starts from empty memory and settles again.
                for _ in range(100):
                    if await _listeners(admin) == 2:
                        break
                    await asyncio.sleep(0.1)
                assert await _listeners(admin) == 2
                await _settled(on_b, OVERDUE, treasury, {})
    finally:
        await admin.close()
