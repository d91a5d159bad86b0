"""R20 reports: the monthly report (TT 37 shape) and the watch-list progress report, as data and .xlsx.

Both are computed from the ledger as known on `as_of` (`pool_figures` with `as_of`), so a report for a
past date reproduces exactly later. Monthly: actual to the end of last month, estimate for this month
(actual month to date + what the forecast expects for the rest of the month, pro rata), split by this
year's plan, plans extended from earlier years, and advances (outstanding at the end of last month).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.balances import pool_figures
from app.models import Obstacle
from app.monitoring.forecast import deadline_for
from app.monitoring.indicators import build_snapshot
from app.monitoring.summaries import project_attrs

WATCH_TITLES = {
    "app1": "Phụ lục 1: Dự án ngoài ngân sách cần tháo gỡ",
    "app2": "Phụ lục 2: Dự án đầu tư công trọng điểm",
    "app3": "Phụ lục 3: Dự án hoàn thành năm 2025",
}


AMOUNT_KEYS = (
    "plan_vnd",
    "actual_to_last_month_vnd",
    "actual_to_date_vnd",
    "actual_to_date_confirmed_vnd",
    "estimate_to_month_end_vnd",
    "extended_plan_vnd",
    "extended_disbursed_vnd",
    "advance_outstanding_last_month_vnd",
)


def _rate(a: int, b: int) -> float:
    return round(a * 100 / b, 2) if b else 0.0


async def monthly(session: AsyncSession, plan_year: int, as_of: date) -> dict:
    """TT 37-shaped monthly report of plan year `plan_year` on `as_of` (per capital source and province)."""
    month_end = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    this_month_end = date(as_of.year, as_of.month, calendar.monthrange(as_of.year, as_of.month)[1])
    now_fig = await pool_figures(session, plan_year=plan_year, as_of=as_of)
    last_fig = await pool_figures(session, plan_year=plan_year, as_of=month_end)
    extended = await pool_figures(session, plan_year=plan_year - 1, as_of=as_of)
    snap = await build_snapshot(session, plan_year, as_of)
    rows: dict[str, dict] = {}

    def row(source: str) -> dict:
        return rows.setdefault(source, {"capital_source": source, **dict.fromkeys(AMOUNT_KEYS, 0)})

    for key, fig in now_fig.items():
        r = row(key.capital_source.value)
        r["plan_vnd"] += fig.plan_vnd
        r["actual_to_date_vnd"] += fig.disbursed_vnd
        r["actual_to_date_confirmed_vnd"] += fig.confirmed_vnd
    for key, fig in last_fig.items():
        r = row(key.capital_source.value)
        r["actual_to_last_month_vnd"] += fig.disbursed_vnd
        r["advance_outstanding_last_month_vnd"] += fig.advanced_vnd - fig.advance_recovered_vnd
    for key, fig in extended.items():
        if fig.extended_vnd:
            r = row(key.capital_source.value)
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
            row(p.key.capital_source.value)["estimate_to_month_end_vnd"] += remaining * days_left // days_to_deadline
    total: dict = {k: 0 for k in AMOUNT_KEYS}  # amounts, then the two rates (floats)
    for r in rows.values():
        r["estimate_to_month_end_vnd"] += r["actual_to_date_vnd"]
        r["rate_to_last_month_pct"] = _rate(r["actual_to_last_month_vnd"], r["plan_vnd"])
        r["estimate_rate_pct"] = _rate(r["estimate_to_month_end_vnd"], r["plan_vnd"])
        for k in total:
            total[k] += r[k]
    total["rate_to_last_month_pct"] = _rate(total["actual_to_last_month_vnd"], total["plan_vnd"])
    total["estimate_rate_pct"] = _rate(total["estimate_to_month_end_vnd"], total["plan_vnd"])
    return {
        "plan_year": plan_year,
        "as_of": as_of.isoformat(),
        "last_month_end": month_end.isoformat(),
        "rows": [rows[k] for k in sorted(rows)],
        "total": total,
    }


async def watch_list(session: AsyncSession, plan_year: int, as_of: date) -> dict:
    """Watch-list progress (App. 1/2/3): rate, flags, open obstacles and recommendations per project."""
    snap = await build_snapshot(session, plan_year, as_of)
    attrs = await project_attrs(session, as_of)
    on_lists = [a for a in attrs.values() if a.watch_lists]
    ids = [a.id for a in on_lists]
    obstacles: dict[int, list[Obstacle]] = {}
    if ids:
        rows = await session.scalars(
            select(Obstacle).where(Obstacle.project_id.in_(ids), Obstacle.opened_on <= as_of).order_by(Obstacle.id)
        )
        for o in rows:
            if o.status != "resolved" or (o.resolved_on and o.resolved_on > as_of):
                obstacles.setdefault(o.project_id, []).append(o)
    appendices = []
    for code, title in WATCH_TITLES.items():
        items = []
        for a in sorted((x for x in on_lists if code in x.watch_lists), key=lambda x: x.code):
            st = snap.projects.get(a.id)
            obs = obstacles.get(a.id, [])
            items.append(
                {
                    "project_id": a.id,
                    "code": a.code,
                    "name": a.name,
                    "plan_vnd": st.plan_vnd if st else 0,
                    "disbursed_vnd": st.disbursed_vnd if st else 0,
                    "rate_pct": st.rate_pct if st else 0.0,
                    "forecast_vnd": st.forecast_vnd if st else 0,
                    "lead_official": a.lead_official,
                    "flags": [{"code": f.code.value, "reason": f.reason, "detail": f.detail} for f in st.flags]
                    if st
                    else [],
                    "obstacles": [
                        {
                            "id": o.id,
                            "category": o.category,
                            "title": o.title,
                            "status": o.status,
                            "deadline": o.deadline.isoformat() if o.deadline else None,
                        }
                        for o in obs
                    ],
                    "recommendations": [o.recommendation for o in obs if o.recommendation],
                }
            )
        appendices.append({"watch_list": code, "title": title, "items": items})
    return {"plan_year": plan_year, "as_of": as_of.isoformat(), "appendices": appendices}
