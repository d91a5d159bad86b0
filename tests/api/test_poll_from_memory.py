"""A poll that nothing has changed is answered 304 from the worker's memory: no database connection at all.

The Treasury polls the change feed and the overdue snapshot with If-None-Match (DESIGN.md, Pollers). Each worker
remembers the feed's head and the snapshot's version (`caches.feed_heads`, `caches.snapshot_versions`); every commit
that can change them clears them (in every worker, NOTIFY on PostgreSQL; tests/db/test_poll_versions.py). Here, in
one process, on SQLite and PostgreSQL: the unchanged poll takes no connection from the pool (the key is in the
principal cache too), and the first poll after a write is a 200 with the write in it, never a stale 304.
"""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.kernel.db import get_engine
from tests.api.test_api_keys import bearer, mint
from tests.conftest import allocate, disbursement_body, make_project

EVENTS = "/api/v1/events"
OVERDUE = "/api/v1/treasury/overdue-advances"


@contextmanager
def pool_checkouts():
    """How many connections the app takes from its pool meanwhile (a session that runs SQL takes one)."""
    taken = []

    def on_checkout(*_args) -> None:
        taken.append(1)

    engine = get_engine().sync_engine
    event.listen(engine, "checkout", on_checkout)
    try:
        yield taken
    finally:
        event.remove(engine, "checkout", on_checkout)


async def test_an_unchanged_feed_poll_is_304_without_a_connection_and_a_write_ends_it(client, world):
    project = await make_project(client, world)
    headers = world.h("treasury")
    # The first reader publishes the committed event (its commit clears the memory again); the next one finds
    # nothing pending and remembers the head.
    first = await client.get(EVENTS, params={"after": 0}, headers=headers)
    assert first.status_code == 200 and [e["type"] for e in first.json()["items"]] == ["project.created"]
    etag = first.headers["etag"]
    settling = await client.get(EVENTS, params={"after": 0}, headers={**headers, "If-None-Match": etag})
    assert settling.status_code == 304 and settling.headers["etag"] == etag
    with pool_checkouts() as taken:
        again = await client.get(EVENTS, params={"after": 0}, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    assert taken == []  # authentication from the principal cache, the head from memory: no database work
    # Another query is another page: its own tag, never a 304 for the first one's.
    other = await client.get(EVENTS, params={"after": 0, "page_size": 5}, headers={**headers, "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag

    # A disbursement's events are inserted in bulk by the posting pipeline (not by `emit`): still seen at once.
    assert (await allocate(client, world, project["id"], 10_000_000_000)).status_code == 201
    paid = await client.post(f"/api/v1/projects/{project['id']}/disbursements",
                             json=disbursement_body(1_000_000_000, "UNC-01"), headers=headers)
    assert paid.status_code == 201, paid.text
    after = await client.get(EVENTS, params={"after": 0}, headers={**headers, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert [e["type"] for e in after.json()["items"]] == ["project.created", "medium_term.recorded",  # R1c first
                                                          "allocation.recorded", "disbursement.recorded"]
    conditional = {**headers, "If-None-Match": after.headers["etag"]}
    assert (await client.get(EVENTS, params={"after": 0}, headers=conditional)).status_code == 304  # settles
    with pool_checkouts() as taken:
        settled = await client.get(EVENTS, params={"after": 0}, headers=conditional)
    assert settled.status_code == 304 and taken == []


async def test_an_unchanged_overdue_poll_is_304_without_a_connection_and_an_advance_ends_it(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 10_000_000_000)).status_code == 201
    headers = world.h("treasury")
    first = await client.get(OVERDUE, headers=headers)
    assert first.status_code == 200 and first.json()["items"] == []
    etag = first.headers["etag"]
    with pool_checkouts() as taken:
        again = await client.get(OVERDUE, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and taken == []
    # R11: an "other" advance of 2024-03-01 is overdue on 2024-10-11 (the test clock) — the snapshot changed.
    advanced = await client.post(f"/api/v1/projects/{project['id']}/disbursements", headers=headers,
                                 json=disbursement_body(200_000_000, "TU-01", kind="advance", value_date="2024-03-01"))
    assert advanced.status_code == 201, advanced.text
    after = await client.get(OVERDUE, headers={**headers, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert [(i["rule"], i["overdue_vnd"]) for i in after.json()["items"]] == [("R11", 200_000_000)]


async def test_the_short_304_is_only_for_a_live_key(client, world):
    key = await mint(client, world, role="treasury", holder="Kho bạc tỉnh")
    polling = bearer(key)
    first = await client.get(OVERDUE, headers=polling)
    etag = first.headers["etag"]
    conditional = {**polling, "If-None-Match": etag}
    with pool_checkouts() as taken:
        assert (await client.get(OVERDUE, headers=conditional)).status_code == 304
    assert taken == []
    # Another key, even with the same query and tag, is authenticated the full way (and is refused here: 403).
    assert (await client.get(OVERDUE, headers={**world.h("owner"), "If-None-Match": etag})).status_code == 403
    # Revoked: the principal cache is cleared with the revocation, so the poll is a 401, never a 304.
    revoked = await client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=world.h("admin"))
    assert revoked.status_code == 200, revoked.text
    refused = await client.get(OVERDUE, headers=conditional)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"


async def test_an_unknown_event_type_is_refused_not_silently_empty(client, world):
    # Schemathesis sent `types=6.04e+16` and got 200: a misspelt type matched nothing and a poller never knew.
    bad = await client.get("/api/v1/events", params={"types": ["allocation.recorded", "alocation.recorded"]},
                           headers=world.h("treasury"))
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed", bad.text
    good = await client.get("/api/v1/events", params={"types": "allocation.recorded"}, headers=world.h("treasury"))
    assert good.status_code == 200
