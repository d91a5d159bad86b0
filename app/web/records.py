"""The dashboard's record pages — overdue advances, one project's history, a reallocation proposal — from the
services the API's routes use (treasury.view, recovery, dossiers, registry, ledger balances, monitoring,
reallocation.workflow). Everything is read as known on `as_of` where the model records when it was known
(`known_on`, value and decision dates); what it cannot date yet is said on the page, not guessed.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.balances import PoolKey, pool_figures
from app.models import Advance, AllocationEntry, Disbursement, Obstacle, Organisation, Project
from app.monitoring.indicators import build_snapshot
from app.programme import follow_up
from app.reallocation import workflow
from app.registry import projects
from app.treasury import contracts, dossiers, recovery, view
from app.treasury.recovery_rules import CaseState, deadline_passed

LISTED = 500  # rows a page lists before it says how many more there are


async def _names(session: AsyncSession, model: Any, ids: set[int], column: str = "name") -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(model.id, getattr(model, column)).where(model.id.in_(ids)))
    return {i: n for i, n in rows.all()}


async def advances(session: AsyncSession, day: date) -> dict[str, Any]:
    """R9–R12 overdue advances on `day` by age bucket and investor (as `GET /treasury/overdue-advances`), R16
    recovery cases opened by then with their deadlines, and R15 dossiers pending past SLA without a reason."""
    items = await view.overdue_snapshot(session, view.OverdueFilter(), day)
    by_investor: dict[int, dict[str, int]] = defaultdict(lambda: {"count": 0, "overdue_vnd": 0})
    for item in items:
        by_investor[item.row.investor_id]["count"] += 1
        by_investor[item.row.investor_id]["overdue_vnd"] += item.classification.overdue_vnd
    investors = await _names(session, Organisation, set(by_investor))
    cases = [c for c in await recovery.list_page(session, state=None, project_id=None, deadline_passed_on=None,
                                                 after_id=0, limit=100_000) if c.opened_on <= day]
    outstanding = dict((await session.execute(select(Advance.id, Advance.outstanding_vnd).where(
        Advance.id.in_([c.advance_id for c in cases])))).all()) if cases else {}
    steps = await recovery.steps(session, [c.id for c in cases])
    pending = [d for d in await dossiers.list_page(session, project_id=None, status=None,
                                                   pending_without_reason_on=day, after_id=0, limit=100_000)
               if d.submitted_on <= day]
    codes = await _names(session, Project, {c.project_id for c in cases} | {d.project_id for d in pending}, "code")
    return {
        "totals": view.bucket_totals(items),
        "total_overdue_vnd": sum(i.classification.overdue_vnd for i in items),
        "by_investor": sorted(({"investor_id": k, "name": investors.get(k, str(k)), **v}
                               for k, v in by_investor.items()), key=lambda r: -r["overdue_vnd"]),
        "items": sorted(items, key=lambda i: -i.classification.overdue_vnd)[:LISTED], "item_count": len(items),
        "cases": [{"case": c, "code": codes.get(c.project_id, ""), "outstanding_vnd": outstanding.get(c.advance_id, 0),
                   "passed": deadline_passed(CaseState(c.state), c.deadline, day),
                   "steps": [s for s in steps[c.id] if s.document_date is None or s.document_date <= day]}
                  for c in cases],
        "pending": [{"dossier": d, "code": codes.get(d.project_id, "")} for d in pending],
    }


def _month_ends(year: int, day: date) -> list[date]:
    ends = [date(year, m, calendar.monthrange(year, m)[1]) for m in range(1, 13)] + [date(year + 1, 1, 31)]
    return [d for d in ends if d < day] + [day]


async def project_history(session: AsyncSession, project_id: int, year: int, day: date) -> dict[str, Any]:
    """One project's whole history as known on `day`: plan entries, disbursements (reported and confirmed),
    contracts and advances, obstacles, and its indicators and flags at every month end up to `day`."""
    project = await projects.get(session, project_id)
    entries = list(await session.scalars(select(AllocationEntry).where(
        AllocationEntry.project_id == project_id, AllocationEntry.known_on <= day,
        AllocationEntry.decision_date <= day).order_by(AllocationEntry.decision_date, AllocationEntry.id)))
    paid = list(await session.scalars(select(Disbursement).where(
        Disbursement.project_id == project_id, Disbursement.known_on <= day, Disbursement.value_date <= day)
        .order_by(Disbursement.value_date, Disbursement.id)))
    pools = await pool_figures(session, plan_year=year, project_ids=[project_id], as_of=day, known_on=day)
    project_contracts = [c for c in await contracts.list_for_project(session, project_id, 0, LISTED)
                         if c.signed_on <= day]
    balances = await contracts.balances_for(session, [c.id for c in project_contracts])
    advance_rows = list(await session.scalars(select(Advance).where(
        Advance.project_id == project_id, Advance.advanced_on <= day).order_by(Advance.advanced_on, Advance.id)))
    obstacles = list(await session.scalars(select(Obstacle).where(
        Obstacle.project_id == project_id, Obstacle.opened_on <= day).order_by(Obstacle.opened_on, Obstacle.id)))
    timeline = []
    for end in _month_ends(year, day):
        st = (await build_snapshot(session, year, end, [project_id])).projects.get(project_id)
        if st is not None:
            timeline.append({"on": end, "state": st})
    return {
        "project": project, "follow": (await follow_up.on(session, day, [project_id]))[project_id],
        "entries": entries, "disbursements": paid[-LISTED:], "disbursement_count": len(paid),
        "pools": sorted(pools.items(), key=lambda kv: (kv[0].plan_year, kv[0].capital_source, kv[0].budget_level)),
        "contracts": [{"contract": c, "balance": balances.get(c.id)} for c in project_contracts],
        "holders": await _names(session, Organisation, {e.budget_holder_id for e in entries}),  # R1
        "advances": advance_rows, "obstacles": obstacles, "timeline": timeline,
        "now": timeline[-1]["state"] if timeline else None,
        "reported_vnd": sum(f.disbursed_vnd - f.confirmed_vnd for f in pools.values()),
        "confirmed_vnd": sum(f.confirmed_vnd for f in pools.values()),
    }


async def proposal_list(session: AsyncSession, year: int) -> list[Any]:
    from app.models import ReallocationProposal

    return list(await session.scalars(select(ReallocationProposal).where(ReallocationProposal.plan_year == year)
                                      .order_by(ReallocationProposal.id.desc()).limit(LISTED)))


async def proposal(session: AsyncSession, proposal_id: int) -> dict[str, Any]:
    """A proposal's transfers, each project's plan before and after in its pool, pools' expected rates, and
    where the approval stands."""
    p = await workflow.get(session, proposal_id)
    transfers = await workflow.transfers(session, p.id)
    ids = {i for t in transfers for i in (t.donor_project_id, t.recipient_project_id) if i is not None}
    codes = await _names(session, Project, ids, "code")
    before = await pool_figures(session, plan_year=p.plan_year, project_ids=sorted(ids), as_of=p.as_of) if ids else {}
    change: dict[PoolKey, int] = defaultdict(int)
    for t in transfers:  # an envelope's share has no donor: new capital (a tranche) to the recipient
        if t.donor_project_id is not None:
            change[PoolKey(t.donor_project_id, t.plan_year, t.capital_source, t.budget_level,
                           t.budget_holder_id)] -= t.amount_vnd
        if t.recipient_project_id is not None:
            change[PoolKey(t.recipient_project_id, t.plan_year, t.capital_source, t.budget_level,
                       t.budget_holder_id)] += t.amount_vnd
    moved = [{"key": k, "code": codes.get(k.project_id, ""), "plan_before_vnd": before[k].plan_vnd if k in before
              else 0, "change_vnd": v, "disbursed_vnd": before[k].disbursed_vnd if k in before else 0}
             for k, v in sorted(change.items(), key=lambda kv: kv[1])]
    return {"proposal": p, "transfers": transfers, "codes": codes, "moved": moved,
            "holders": await _names(session, Organisation, {t.budget_holder_id for t in transfers}),  # R1, R19
            "pools": [x for x in p.analysis.get("pools", []) if x.get("transfer_count")]}
