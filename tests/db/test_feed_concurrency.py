"""PostgreSQL: the change feed under concurrent writers, and the sweep run by two workers at once.

≥ 8 writers commit ≥ 5,000 events in transactions of random size, deliberately committing out of id
order, while a poller follows GET /api/v1/events?after=. The poller's positions must be contiguous
(no gap, no duplicate) and its events exactly the committed ones.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from sqlalchemy import func, select

from app.kernel import feed as events
from app.kernel.db import session_scope
from app.models import SweepTransition
from app.treasury.sweep import sweep
from tests.conftest import IS_POSTGRES, allocate, disbursement_body, make_project

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL")]

WRITERS = 8
TRANSACTIONS = 80


async def test_feed_has_no_gap_and_no_duplicate_under_8_concurrent_writers(client, world):
    """Two pollers follow the feed: one unfiltered, one with `types=` (which used to miss 7–9% of its events)."""
    committed: set[str] = set()
    filtered_committed: set[str] = set()
    rng = random.Random(7)
    plans = [[rng.randint(1, 17) for _ in range(TRANSACTIONS)] for _ in range(WRITERS)]
    done = asyncio.Event()

    async def writer(w: int) -> None:
        for t, size in enumerate(plans[w]):
            tokens = [f"{w}-{t}-{i}" for i in range(size)]
            async with session_scope() as session:
                for i, token in enumerate(tokens):
                    # catalogued types (the feed refuses others in `types=`), test payloads
                    kind = "disbursement.recorded" if i % 2 else "allocation.recorded"
                    events.emit(session, kind, "test", token, {"token": token})
                await session.flush()  # ids assigned now; the commit comes later, out of id order
                await asyncio.sleep(rng.random() * 0.01)
            committed.update(tokens)
            filtered_committed.update(t for i, t in enumerate(tokens) if i % 2)

    seen: list[dict] = []
    filtered_seen: list[dict] = []

    async def poller(types: list[str] | None = None) -> None:
        after = 0
        sink = filtered_seen if types else seen
        while True:
            finished = done.is_set()
            params: dict = {"after": after, "page_size": 1000 if not types else 37}
            if types:
                params["types"] = types
            response = await client.get("/api/v1/events", params=params, headers=world.h("treasury"))
            assert response.status_code == 200, response.text
            page = response.json()
            sink.extend(page["items"])
            after = page["next_after"]
            if finished and not page["items"]:
                return
            if not page["items"]:
                await asyncio.sleep(0.005)

    started = time.perf_counter()
    polls = [asyncio.create_task(poller()), asyncio.create_task(poller(["disbursement.recorded"]))]
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    # Every write has committed; publish what a reader's round (which never waits for another) may have left, so a
    # poller that stops at its first empty page after this has had the chance to see everything.
    await events.publish_committed()
    done.set()
    await asyncio.gather(*polls)
    elapsed = time.perf_counter() - started
    positions = [e["position"] for e in seen]
    tokens = [e["payload"]["token"] for e in seen if "token" in e["payload"]]
    assert len(committed) >= 5_000
    assert positions == list(range(1, len(positions) + 1))  # contiguous: no gap, no duplicate
    assert len(tokens) == len(set(tokens)) and set(tokens) == committed
    filtered = [e["payload"]["token"] for e in filtered_seen]
    assert {e["type"] for e in filtered_seen} == {"disbursement.recorded"}
    assert len(filtered) == len(set(filtered)) and set(filtered) == filtered_committed  # none lost
    print(f"\nfeed: {len(committed)} events by {WRITERS} writers in {elapsed:.2f}s "
          f"({len(committed) / elapsed:.0f} events/s) followed without gap or duplicate")


async def test_two_concurrent_sweeps_record_each_transition_once(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 50_000_000_000)).status_code == 201
    url = f"/api/v1/projects/{project['id']}/disbursements"
    for i in range(20):
        body = disbursement_body(100_000_000, f"A-{i}", kind="advance", advance_kind="other",
                                 value_date=f"2024-03-{i + 1:02d}")
        assert (await client.post(url, json=body, headers=world.h("treasury"))).status_code == 201
    from datetime import date

    async def one() -> dict:
        async with session_scope() as session:
            result = await sweep(session, date(2024, 10, 11))
            await asyncio.sleep(0.05)  # hold the transaction open so both overlap
            return result.recorded

    results = await asyncio.gather(*(one() for _ in range(4)))
    assert sum(r.get("overdue", 0) for r in results) == 20
    async with session_scope() as session:
        assert await session.scalar(select(func.count()).select_from(SweepTransition)) == 20
