"""PostgreSQL: key revocation is immediate in every worker, and an admin key always survives.

* Two administrators revoking each other at once: the active admin key rows are locked in id order before the
  decision, so one revocation wins and the other sees it (409 `last_admin_key`, or 401 once its own key is gone).
* Two real `python -m app serve` workers: a key revoked through worker A answers 401 on worker B's very next
  request, although B had it in its principal cache (NOTIFY on commit, LISTEN in each worker). The revoke→401
  delay is printed (`pytest -s`); tests never assert timings.
* The listener: a notification clears the named cache; while its connection is down the caches are bypassed,
  and it reconnects by itself.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from app.enums import Role
from app.kernel import caches
from app.kernel.clock import utcnow
from app.kernel.db import session_scope
from app.kernel.notify import CacheListener, listener_dsn
from app.models import ApiKey
from tests.api.test_api_keys import bearer, mint
from tests.conftest import TEST_DATABASE_URL
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres
RUNS = 20


async def _active_admin_keys() -> int:
    now = utcnow()
    async with session_scope() as session:
        return await session.scalar(select(func.count()).select_from(ApiKey).where(
            ApiKey.role == Role.admin, ApiKey.revoked_at.is_(None),
            ApiKey.expires_at.is_(None) | (ApiKey.expires_at > now)))


@pytest.mark.parametrize("run", range(RUNS))
async def test_two_admins_revoking_each_other_at_once_leave_one_admin_key(client, world, run):
    keys = (await client.get("/api/v1/api-keys?page_size=100", headers=world.h("admin"))).json()["items"]
    first = next(k["id"] for k in keys if k["name"] == "admin")
    second = await mint(client, world, role="admin", holder="Lý Thị Mai")
    a, b = await asyncio.gather(
        client.post(f"/api/v1/api-keys/{second['id']}/revoke", headers=world.h("admin")),
        client.post(f"/api/v1/api-keys/{first}/revoke", headers=bearer(second)))
    statuses = sorted((a.status_code, b.status_code))
    assert statuses in ([200, 401], [200, 409]), (a.text, b.text)
    loser = b if a.status_code == 200 else a
    assert loser.json()["code"] in ("last_admin_key", "invalid_api_key")
    assert await _active_admin_keys() == 1


@pytest.fixture
def two_workers(tmp_path):
    # Started after the tables are emptied and stopped before the next test empties them (no TRUNCATE while a
    # worker's background job holds a lock).
    workers = [LiveServer(TEST_DATABASE_URL, tmp_path / f"worker-{name}.log", INDICATOR_REFRESH_ENABLED="false",
                          AUTH_FAILURE_LIMIT="0")
               for name in "ab"]
    try:
        for worker in workers:
            worker.start()
        yield workers
    finally:
        for worker in workers:
            worker.stop()


async def test_a_key_revoked_through_one_worker_is_refused_by_the_other_on_the_next_request(world, two_workers):
    a, b = two_workers
    delays, notified = [], []
    listener = await asyncpg.connect(listener_dsn(TEST_DATABASE_URL))
    heard: asyncio.Queue[float] = asyncio.Queue()
    await listener.add_listener(caches.CHANNEL, lambda *_: heard.put_nowait(time.perf_counter()))
    try:
        async with httpx.AsyncClient(base_url=a.url, timeout=30) as on_a, \
                httpx.AsyncClient(base_url=b.url, timeout=30) as on_b:
            for run in range(RUNS):
                key = await mint(on_a, world, role="admin", holder=f"Người giữ khoá {run}")
                # B and A both authenticate the key now: it sits in both principal caches.
                assert (await on_b.get("/api/v1/organisations", headers=bearer(key))).status_code == 200
                assert (await on_a.get("/api/v1/organisations", headers=bearer(key))).status_code == 200
                assert (await on_b.get("/api/v1/organisations", headers=bearer(key))).status_code == 200
                while not heard.empty():
                    heard.get_nowait()
                revoked = await on_a.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=world.h("admin"))
                answered = time.perf_counter()
                assert revoked.status_code == 200, revoked.text
                refused = await on_b.get("/api/v1/organisations", headers=bearer(key))
                delays.append(time.perf_counter() - answered)
                assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key", (run, refused.text)
                write = await on_b.post("/api/v1/organisations", headers=bearer(key), json={
                    "code": f"X-{run}", "name": "Không được tạo", "kind": "other", "valid_from": "2024-01-01"})
                assert write.status_code == 401, (run, write.text)
                notified.append(await asyncio.wait_for(heard.get(), 5) - answered)
    finally:
        await listener.close()
    ms = sorted(d * 1000 for d in delays)
    print(f"\nrevoke (answer from worker A) → 401 on worker B, {RUNS} runs: median {statistics.median(ms):.1f} ms, "
          f"max {ms[-1]:.1f} ms; NOTIFY heard by a third listener {statistics.median(notified) * 1000:+.1f} ms "
          "(median, relative to A's answer)")


async def test_the_listener_clears_named_caches_and_distrusts_them_while_it_is_down():
    listener = CacheListener(listener_dsn(TEST_DATABASE_URL), ping_seconds=0.2, retry_seconds=1.0)
    await listener.start()
    other = await asyncpg.connect(listener_dsn(TEST_DATABASE_URL))
    try:
        assert caches.trusted()
        caches.principals.put("k", "cached")
        caches.rule_sets.put("effective", "cached")
        await other.execute("SELECT pg_notify($1, 'principals')", caches.CHANNEL)
        for _ in range(100):
            if caches.principals.get("k") is caches.MISSING:
                break
            await asyncio.sleep(0.01)
        assert caches.principals.get("k") is caches.MISSING
        assert caches.rule_sets.get("effective") == "cached"  # only the named cache

        pid = listener.connection.get_server_pid()
        await other.execute("SELECT pg_terminate_backend($1)", pid)
        for _ in range(100):
            if not caches.trusted():
                break
            await asyncio.sleep(0.01)
        assert not caches.trusted()
        caches.principals.put("k", "cached while deaf")
        assert caches.principals.get("k") is caches.MISSING  # bypassed: nothing stored, nothing served
        await asyncio.wait_for(listener.listening.wait(), 10)
        assert caches.trusted() and listener.connection.get_server_pid() != pid
    finally:
        await other.close()
        await listener.stop()
    assert caches.trusted()
