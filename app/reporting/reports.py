"""R20 reports: the monthly report (TT 37 shape) and the watch-list progress report, as data and .xlsx.

Both are computed from the ledger as known on `as_of` (`pool_figures` with `as_of` and `known_on`), so a report
for a past date reproduces exactly later. Monthly: actual to the end of last month, estimate for this month
(actual month to date + what the forecast expects for the rest of the month, pro rata), split by this
year's plan, plans extended from earlier years, and advances (outstanding at the end of last month); every rate
twice (R1b): of the province's plan and of the plan the Prime Minister assigned; capital advanced from next year's
plan (R1a) shown apart: how much, how much next year's plan has repaid, and what this plan repaid of last year's.
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Milestone, ProjectFunding
from app.ledger import rates
from app.ledger.balances import PoolKey, pool_figures
from app.models import Obstacle, Organisation, Project
from app.monitoring.forecast import deadline_for
from app.monitoring.indicators import build_snapshot
from app.programme import follow_up, people, watchlists

AMOUNT_KEYS = (
    "plan_vnd",
    "assigned_plan_vnd",
    "actual_to_last_month_vnd",
    "actual_to_date_vnd",
    "actual_to_date_confirmed_vnd",
    "estimate_to_month_end_vnd",
    "extended_plan_vnd",
    "extended_disbursed_vnd",
    "advance_outstanding_last_month_vnd",
    "next_year_advance_vnd",
    "next_year_advance_repaid_vnd",
    "advance_repayment_vnd",
)


def _rates(r: dict) -> None:
    """R1b: both rates of the actual to last month and of the estimate — one disbursed figure over the province's
    plan and over the Prime Minister's plan."""
    added = r["plan_vnd"] - r["assigned_plan_vnd"]
    for rate, amount in (("rate_to_last_month", "actual_to_last_month_vnd"),
                         ("estimate_rate", "estimate_to_month_end_vnd")):
        r[f"{rate}_pct"] = rates.rate_of_province_plan_pct(r[amount], r["plan_vnd"])
        r[f"{rate}_of_assigned_plan_pct"] = rates.rate_of_assigned_plan_pct(r[amount], r["plan_vnd"], added)


async def monthly(session: AsyncSession, plan_year: int, as_of: date, *, by_project: bool = False,
                  known_on: date | None = None) -> dict:
    """TT 37-shaped monthly report of plan year `plan_year` on `as_of`: one row per capital source (province-wide)
    or, `by_project`, per project and capital source (the detailed forms, `app.reporting.forms`). Figures are as
    known on `known_on` (default `as_of`; a form's figures to the end of last month are known on its own date)."""
    known_on = known_on or as_of
    month_end = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    this_month_end = date(as_of.year, as_of.month, calendar.monthrange(as_of.year, as_of.month)[1])
    # every figure as known on the report's date: a row recorded later (a late value date) never changes it
    now_fig = await pool_figures(session, plan_year=plan_year, as_of=as_of, known_on=known_on)
    last_fig = await pool_figures(session, plan_year=plan_year, as_of=month_end, known_on=known_on)
    extended = await pool_figures(session, plan_year=plan_year - 1, as_of=as_of, known_on=known_on)
    next_fig = await pool_figures(session, plan_year=plan_year + 1, as_of=as_of, known_on=known_on)  # R1a
    snap = await build_snapshot(session, plan_year, as_of)
    rows: dict[tuple[int, str], dict] = {}

    def row(key: PoolKey) -> dict:
        source = key.capital_source.value
        pid = key.project_id if by_project else 0
        head: dict = {"project_id": pid} if by_project else {}
        return rows.setdefault((pid, source), {**head, "capital_source": source, **dict.fromkeys(AMOUNT_KEYS, 0)})

    for key, fig in now_fig.items():
        r = row(key)
        r["plan_vnd"] += fig.plan_vnd
        r["assigned_plan_vnd"] += fig.plan_vnd - fig.added_plan_vnd
        r["actual_to_date_vnd"] += fig.disbursed_vnd
        r["actual_to_date_confirmed_vnd"] += fig.confirmed_vnd
        r["next_year_advance_vnd"] += fig.next_year_advance_vnd
        r["advance_repayment_vnd"] -= fig.advance_repayment_vnd  # stored negative, shown as an amount repaid
    for key, fig in next_fig.items():
        if fig.advance_repayment_vnd:
            row(replace(key, plan_year=plan_year))["next_year_advance_repaid_vnd"] -= fig.advance_repayment_vnd
    for key, fig in last_fig.items():
        r = row(key)
        r["actual_to_last_month_vnd"] += fig.disbursed_vnd
        r["advance_outstanding_last_month_vnd"] += fig.advanced_vnd - fig.advance_recovered_vnd
    for key, fig in extended.items():
        if fig.extended_vnd:
            r = row(key)
            r["extended_plan_vnd"] += fig.extended_vnd
            r["extended_disbursed_vnd"] += min(
                fig.extended_vnd, max(0, fig.disbursed_vnd - (fig.plan_vnd - fig.extended_vnd))
            )
    # Estimate for the month: actual so far + the forecast's remaining amount, pro rata to the month's end.
    days_left = max(0, (this_month_end - as_of).days)
    days_to_deadline = max(1, (deadline_for(plan_year) - as_of).days)
    for st in snap.projects.values():
        for p in st.pools:
            if p.forecast is None:
                continue
            remaining = p.forecast.forecast_vnd - p.disbursed_vnd
            row(p.key)["estimate_to_month_end_vnd"] += remaining * days_left // days_to_deadline
    total: dict = {k: 0 for k in AMOUNT_KEYS}  # amounts, then the rates (R1b: each of both plans)
    for r in rows.values():
        r["estimate_to_month_end_vnd"] += r["actual_to_date_vnd"]
        _rates(r)
        for k in total:
            total[k] += r[k]
    _rates(total)
    return {
        "plan_year": plan_year,
        "as_of": as_of.isoformat(),
        "last_month_end": month_end.isoformat(),
        "rows": [rows[k] for k in sorted(rows)],
        "total": total,
    }


def _milestones(state: dict) -> dict[str, dict]:
    return {m.value: {"planned_on": st.planned_on.isoformat() if st.planned_on else None,
                      "actual_on": st.actual_on.isoformat() if st.actual_on else None}
            if (st := state.get(m.value)) else {"planned_on": None, "actual_on": None} for m in Milestone}


async def watch_list(session: AsyncSession, plan_year: int, as_of: date) -> dict:
    """Watch-list progress, one appendix per list as it stood on `as_of` (R20, R21): members, physical progress,
    milestones (planned and actual start, completion, inauguration), lead official, open obstacles with the agency
    responsible for unblocking them and recommendations; for public projects also rate, forecast and flags."""
    lists = await watchlists.all_lists(session)
    members = {wl.id: await watchlists.members(session, wl.id, as_of) for wl in lists}
    ids = sorted({pid for m in members.values() for pid, _ in m})
    projects = {p.id: p for p in await session.scalars(select(Project).where(Project.id.in_(ids)))} if ids else {}
    state = await follow_up.on(session, as_of, ids)
    snap = await build_snapshot(session, plan_year, as_of, ids) if ids else None
    obstacles: dict[int, list[Obstacle]] = {}
    if ids:
        rows = await session.scalars(
            select(Obstacle).where(Obstacle.project_id.in_(ids), Obstacle.opened_on <= as_of).order_by(Obstacle.id)
        )
        for o in rows:
            if o.status != "resolved" or (o.resolved_on and o.resolved_on > as_of):
                obstacles.setdefault(o.project_id, []).append(o)
    agencies = await _names(session, {o.responsible_organisation_id for obs in obstacles.values() for o in obs})
    appendices = []
    for wl in lists:
        items = []
        for pid, period in sorted(members[wl.id], key=lambda m: projects[m[0]].code):
            p, f, obs = projects[pid], state[pid], obstacles.get(pid, [])
            st = snap.projects.get(pid) if snap and p.funding is ProjectFunding.public else None
            public = p.funding is ProjectFunding.public
            items.append({
                "project_id": pid, "code": p.code, "name": p.name, "funding": p.funding.value,
                "member_since": period.start.isoformat(),
                "plan_vnd": (st.plan_vnd if st else 0) if public else None,
                "disbursed_vnd": (st.disbursed_vnd if st else 0) if public else None,
                "assigned_plan_vnd": (st.assigned_plan_vnd if st else 0) if public else None,
                "rate_pct": (st.rate_pct if st else 0.0) if public else None,
                "rate_of_assigned_plan_pct": st.rate_of_assigned_plan_pct if st and public else None,
                "forecast_vnd": (st.forecast_vnd if st else 0) if public else None,
                "physical_pct": f.physical_pct,
                "progress_reported_on": f.progress_reported_on.isoformat() if f.progress_reported_on else None,
                "milestones": _milestones(f.milestones),
                "lead_person_id": f.lead.id if f.lead else None,
                "lead_official": people.label(f.lead) if f.lead else None,
                "flags": [{"code": x.code.value, "reason": x.reason, "detail": x.detail} for x in st.flags]
                if st else [],
                "obstacles": [{"id": o.id, "category": o.category, "title": o.title, "status": o.status,
                               "deadline": o.deadline.isoformat() if o.deadline else None,
                               "responsible_organisation_id": o.responsible_organisation_id,
                               "responsible_organisation": agencies.get(o.responsible_organisation_id)}
                              for o in obs],
                "recommendations": [o.recommendation for o in obs if o.recommendation],
            })
        appendices.append({
            "watch_list": wl.code, "watch_list_id": wl.id, "title": wl.name, "decision_ref": wl.decision_ref,
            "project_funding": wl.project_funding, "reporter": wl.reporter, "report_frequency": wl.report_frequency,
            "report_to": (await _names(session, {wl.report_to_organisation_id})).get(wl.report_to_organisation_id),
            "report_duty": wl.report_duty, "items": items})
    return {"plan_year": plan_year, "as_of": as_of.isoformat(), "appendices": appendices}


async def _names(session: AsyncSession, ids: set[int | None]) -> dict[int | None, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    return dict((await session.execute(select(Organisation.id, Organisation.name)
                                       .where(Organisation.id.in_(wanted)))).all())
