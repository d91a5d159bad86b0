"""PostgreSQL: a real uvicorn worker SIGKILLed in the middle of a write load, then restarted.

Every write that got a 2xx is there, a retry of every unanswered write (same Idempotency-Key) settles it
exactly once, nothing is half-written (each disbursement has its event, its idempotency record and its
audit line; balances equal the ledger) and the change feed is contiguous with no gap.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.ledger.verify import check_all as verify
from app.models import AuditEntry, Disbursement
from app.models.audit import Event, IdempotencyRecord
from tests.conftest import TEST_DATABASE_URL, allocate, disbursement_body, make_project
from tests.live_server import LiveServer

pytestmark = pytest.mark.postgres

WRITERS = 16
KILL_AFTER_WRITES = 200  # kill once this many writes were acknowledged (the machine may be busy)
AMOUNT = 10_000_000


async def _write_load(
    base_url: str, path: str, headers: dict, stop: asyncio.Event, acknowledged: dict[str, int]
) -> list[str]:
    unanswered: list[str] = []

    async def writer(w: int) -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            n = 0
            while not stop.is_set():
                key = f"crash-{w}-{n}"
                try:
                    response = await http.post(
                        path, json=disbursement_body(AMOUNT, key), headers={**headers, "Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    unanswered.append(key)
                    return
                assert response.status_code == 201, response.text
                acknowledged[key] = response.json()["id"]
                n += 1

    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    return unanswered


async def _read_feed(base_url: str, headers: dict) -> list[int]:
    positions: list[int] = []
    after = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        while True:
            page = await http.get(
                "/api/v1/events", params={"after": after, "page_size": 1000}, headers=headers
            )
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            if not items:
                return positions
            positions += [item["position"] for item in items]
            after = page.json()["next_after"]


async def test_sigkill_mid_write_load_loses_nothing_acknowledged(client, world, tmp_path):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 150_000_000_000)).status_code == 201
    path = f"/api/v1/projects/{project['id']}/disbursements"
    headers = world.h("treasury")
    server = LiveServer(TEST_DATABASE_URL, tmp_path / "server.log")
    server.start()
    try:
        stop = asyncio.Event()
        acknowledged: dict[str, int] = {}
        load = asyncio.create_task(_write_load(server.url, path, headers, stop, acknowledged))
        deadline = time.monotonic() + 120
        while len(acknowledged) < KILL_AFTER_WRITES and time.monotonic() < deadline and not load.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        server.kill()
        killed_at = time.monotonic()
        stop.set()
        unanswered = await load
        assert acknowledged and unanswered, "the kill must land in the middle of the load"
        server.start()
        restarted_in = time.monotonic() - killed_at
        settled: dict[str, int] = {}
        replayed = 0
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            for key in unanswered:  # the client never heard back: retrying with the same key is safe
                response = await http.post(
                    path, json=disbursement_body(AMOUNT, key), headers={**headers, "Idempotency-Key": key}
                )
                assert response.status_code == 201, response.text
                settled[key] = response.json()["id"]
                replayed += (
                    response.headers.get("Idempotency-Replayed") == "true"
                )  # committed before the kill
        positions = await _read_feed(server.url, headers)
    finally:
        server.stop()

    async with session_scope() as session:
        rows = {r.document_number: r for r in (await session.scalars(select(Disbursement))).all()}
        for key, id_ in acknowledged.items():
            assert key in rows and rows[key].id == id_, f"acknowledged write {key} is missing"
        assert set(rows) == set(acknowledged) | set(settled), "a write nobody asked for, or a duplicate"
        ids = [str(r.id) for r in rows.values()]
        events = await session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.entity_type == "disbursement", Event.entity_id.in_(ids))
        )
        records = await session.scalar(
            select(func.count()).select_from(IdempotencyRecord).where(IdempotencyRecord.key.in_(list(rows)))
        )
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.entity_type == "disbursement", AuditEntry.entity_id.in_(ids))
        )
        assert events == records == audits == len(rows), "half-written: a disbursement without its companions"
        total_events = await session.scalar(select(func.count()).select_from(Event))
        assert await verify(session) == []
    assert positions == list(range(positions[0], positions[0] + len(positions))), "gap in the change feed"
    assert len(positions) == total_events
    print(
        f"\ncrash: {len(acknowledged)} writes acknowledged before SIGKILL, {len(unanswered)} unanswered, "
        f"of which {replayed} had committed (replayed), restart {restarted_in:.1f}s, "
        f"feed {len(positions)} contiguous positions"
    )
