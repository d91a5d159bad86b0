"""`verify` sees R1b and R1c inconsistencies: a consistent ledger built through the API, then one raw-SQL change
that keeps the database's CHECK constraints satisfied but contradicts the ledger (tests/db/test_verify_detects.py)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.api.test_reallocation_api import APPROVAL
from tests.api.test_reallocation_api import _draft as draft
from tests.api.test_reallocation_api import _pools as pools
from tests.api.test_reallocation_api import _step as step
from tests.db.test_verify_detects import _checks, _findings, _inject, _ledger


async def test_r1b_added_plan_drift_is_found(client, world):
    await _ledger(client, world)
    await _inject("UPDATE pool_balances SET added_plan_vnd = 1")  # within 0..plan: the CHECK lets it through
    findings = await _findings()
    assert any(f.check == "pool_balance" and "added_plan_vnd" in f.detail for f in findings), findings


async def test_r1b_added_plan_above_the_plan_is_refused_by_the_database(client, world):
    await _ledger(client, world)
    with pytest.raises(IntegrityError):
        await _inject("UPDATE pool_balances SET added_plan_vnd = plan_vnd + 1")


async def test_r1c_a_plan_without_a_medium_term_plan_or_beyond_it_is_found(client, world):
    await _ledger(client, world)  # plan 10 tỷ under a medium-term ceiling of 10^15
    await _inject("UPDATE medium_term_entries SET amount_vnd = 9000000000")  # ceiling 9 tỷ < annual plans 10 tỷ
    assert "r1c_medium_term_ceiling" in await _checks()
    await _inject("DELETE FROM medium_term_entries")
    assert "r1c_medium_term_plan" in await _checks()


async def test_r1b_a_proposal_that_changes_provenance_is_found(client, world):
    await pools(client, world)
    p, etag = await draft(client, world)
    resp = await step(client, world, p["id"], "submit", etag, "planner")
    resp = await step(client, world, p["id"], "approve", resp.headers["ETag"], "approver", APPROVAL)
    assert (await step(client, world, p["id"], "apply", resp.headers["ETag"], "planner")).status_code == 200
    assert await _findings() == []
    # the recipient's entry now claims the capital the province added, which no donor gave
    await _inject("UPDATE allocation_entries SET added_vnd = amount_vnd WHERE kind = 'adjustment_in'")
    assert {"r1b_proposal_provenance", "pool_balance"} <= await _checks()
