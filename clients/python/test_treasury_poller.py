"""The generated Python client drives the Treasury poller against a real server (scripts/check-api.sh runs this
with the client generated into DM_CLIENT_DIR; it is outside `tests/` because it needs that generated package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, os.environ["DM_CLIENT_DIR"])
sys.path.insert(0, str(Path(__file__).parent))

from dm_client import AuthenticatedClient  # noqa: E402
from treasury_poller import PollerState, poll  # noqa: E402

from app.kernel.config import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.live_server import LiveServer  # noqa: E402


@pytest.fixture
def demo_server(tmp_path):
    """A real `python -m app serve` on a fresh SQLite file holding the demo province."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'poller.db'}"
    env = {**os.environ, "DATABASE_URL": url, "CLOCK_TODAY": "2024-10-11", "LOG_LEVEL": "WARNING"}
    for args in (["migrate"], ["demo", "--keys-file", str(tmp_path / "keys.json")]):
        subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, check=True)
    server = LiveServer(url, tmp_path / "server.log")
    server.start()
    yield server, json.loads((tmp_path / "keys.json").read_text())
    server.stop()


async def test_treasury_poller_304_feed_cursor_and_paging(demo_server):
    server, keys = demo_server
    async with AuthenticatedClient(base_url=server.url, token=keys["treasury"]) as client:
        state = PollerState()
        first = await poll(client, state)
        assert first.snapshot_changed and state.pages_read > 1 and state.overdue_vnd
        assert first.new_events > 0 and state.seen == sorted(set(state.seen))
        again = await poll(client, state)
        assert (again.snapshot_changed, again.new_events) == (False, 0)  # 304, and nothing new on the feed
        # A change the Treasury makes: money held for disputing owners on an overdue site-clearance advance.
        async with httpx.AsyncClient(base_url=server.url,
                                     headers={"Authorization": f"Bearer {keys['treasury']}"}) as raw:
            listing = (await raw.get("/api/v1/treasury/overdue-advances", params={"rule": "R10"})).json()
            advance_id = listing["items"][0]["advance_id"]
            held = await raw.put(f"/api/v1/advances/{advance_id}/held-for-disputes",
                                 json={"amount_vnd": 1_000_000, "document_number": "BB-01"})
            assert held.status_code == 200, held.text
        changed = await poll(client, state)
        assert changed.snapshot_changed and changed.new_events >= 1
        assert state.seen == sorted(set(state.seen))
        assert (await poll(client, state)).snapshot_changed is False
