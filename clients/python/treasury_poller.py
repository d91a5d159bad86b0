"""A Treasury poller written only against the Python client that `openapi-python-client` generates from
openapi.json (`dm_client`): what an outside integrator writes, kept here to prove the document is enough.

One round: the overdue-advance snapshot, sending the last ETag (`If-None-Match`) so an unchanged snapshot costs a
304, and every page when it changed; then the change feed from the stored cursor until it is drained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dm_client import AuthenticatedClient
from dm_client.api.events import list_events
from dm_client.api.treasury import list_overdue_advances
from dm_client.types import UNSET


@dataclass
class PollerState:
    etag: str | None = None
    overdue_vnd: dict[int, int] = field(default_factory=dict)  # advance id → overdue amount
    pages_read: int = 0
    after: int = 0  # the feed cursor: the last position processed
    seen: list[int] = field(default_factory=list)


@dataclass
class Round:
    snapshot_changed: bool
    new_events: int


def _ok(response: Any, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise RuntimeError(f"unexpected {response.status_code}: {response.content[:300]!r}")
    return response.parsed


async def poll(client: AuthenticatedClient, state: PollerState, page_size: int = 2) -> Round:
    first = await list_overdue_advances.asyncio_detailed(client=client, page_size=page_size,
                                                         if_none_match=state.etag or UNSET)
    changed = first.status_code != 304
    if changed:
        page = _ok(first, 200)
        state.etag = first.headers.get("etag")
        items = list(page.items)
        token = page.next_page_token
        state.pages_read += 1
        while isinstance(token, str):
            page = _ok(await list_overdue_advances.asyncio_detailed(client=client, page_size=page_size,
                                                                    page_token=token), 200)
            items += page.items
            token = page.next_page_token
            state.pages_read += 1
        state.overdue_vnd = {item.advance_id: item.overdue_vnd for item in items}
    new = 0
    while True:
        feed = _ok(await list_events.asyncio_detailed(client=client, after=state.after), 200)
        if not feed.items:
            break
        state.seen += [event.position for event in feed.items]
        state.after = feed.next_after
        new += len(feed.items)
    return Round(changed, new)
