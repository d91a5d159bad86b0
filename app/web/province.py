"""The province's pages (overview, rankings, flagged projects) from the services the API's monitoring routes use.

Which source answers follows `GET /summaries` and `GET /indicators` exactly: today's business date from the stored
indicators once they hold a complete set for the year, a past `as_of` (or a year the store cannot answer yet)
computed from the ledger as known then — so a page shows the figures the API answers for the same question.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import rates
from app.monitoring import indicator_queries, indicator_store, summaries
from app.monitoring.forecast import DEFAULT_SEASONAL_CURVE, deadline_for
from app.monitoring.indicators import build_snapshot, seasonal_curve
from app.web import curve

TARGET_PCT = 95.0  # the action programme's target at the deadline (DOMAIN.md §1)


async def _store_answers(session: AsyncSession, year: int, day: date) -> bool:
    if not indicator_store.serves_from_store(day):
        return False  # a past as_of: as known then
    return summaries.store_can_answer(await indicator_store.ensure_fresh(session, year))


async def summary(session: AsyncSession, year: int, day: date, group_by: str | None = None,
                  sort: str | None = None) -> dict[str, Any]:
    """The figures of `GET /summaries` for the same parameters."""
    if await _store_answers(session, year, day):
        return await indicator_queries.summarise(session, year, group_by, sort)
    return await summaries.summarise(session, year, day, group_by, sort)


@dataclass(slots=True)
class FlaggedProject:
    project_id: int
    code: str
    name: str
    plan_vnd: int
    disbursed_vnd: int
    rate_pct: float
    rate_of_assigned_plan_pct: float | None  # R1b
    forecast_vnd: int
    flags: list[dict[str, Any]] = field(default_factory=list)


async def flagged(session: AsyncSession, year: int, day: date, flag: str) -> list[FlaggedProject]:
    """Every project raising `flag` (the rows of `GET /indicators?flag=…`), in project id order."""
    f = summaries.IndicatorFilter(flag=flag)
    if await _store_answers(session, year, day):
        rows = await indicator_queries.list_rows(session, year, f, 0, 1_000_000)
        return [FlaggedProject(s.project_id, code, name, s.plan_vnd, s.disbursed_vnd, s.rate_pct,
                               rates.rate_of_assigned_plan_pct(s.disbursed_vnd, s.plan_vnd, s.added_plan_vnd),
                               s.forecast_vnd, list(flags["flags"])) for s, flags, code, name, *_ in rows]
    snap = await build_snapshot(session, year, day)
    attrs = await summaries.project_attrs(session, day)
    return [FlaggedProject(st.project_id, a.code, a.name, st.plan_vnd, st.disbursed_vnd, st.rate_pct,
                           st.rate_of_assigned_plan_pct, st.forecast_vnd,
                           [{"code": x.code.value, "reason": x.reason, "detail": x.detail, "numbers": x.numbers}
                            for x in st.flags])
            for st, a in summaries.list_rows(snap, attrs, f, 0, 1_000_000)]


async def overview(session: AsyncSession, year: int, day: date) -> dict[str, Any]:
    """Province figures, and the S-curve: the cumulative rate month by month as known on `day` (the monthly
    series of the indicators' snapshot), the milestone curve, last year's own curve and the forecast band."""
    figures = (await summary(session, year, day))["province"]
    snap = await build_snapshot(session, year, day)
    plan = figures["plan_vnd"]
    by_month: dict[tuple[int, int], dict[Any, tuple[date, int]]] = defaultdict(dict)
    for st in snap.projects.values():
        for pool in st.pools:
            for when, running in pool.series:
                by_month[(when.year, when.month)][pool.key] = (when, running)
    latest: dict[Any, int] = {}
    actual: list[tuple[date, float]] = []
    for month in sorted(by_month):
        last_day = max(when for when, _ in by_month[month].values())
        latest.update({key: running for key, (_, running) in by_month[month].items()})
        actual.append((last_day, round(sum(latest.values()) * 100 / plan, 2) if plan else 0.0))
    last_year = await seasonal_curve(session, year, day)
    low = sum(st.low_vnd for st in snap.projects.values())
    high = sum(st.high_vnd for st in snap.projects.values())
    band = tuple(round(v * 100 / plan, 2) if plan else 0.0 for v in (low, figures["forecast_vnd"], high))
    chart = curve.s_curve(year, day, actual, snap.milestones, last_year, TARGET_PCT, band)  # type: ignore[arg-type]
    return {
        "figures": figures, "chart": chart, "deadline": deadline_for(year), "target_pct": TARGET_PCT,
        "milestone_pct": round(snap.milestones.fraction_at(day, year) * 100, 2),
        "last_year_pct": round(last_year.fraction_at(day, year) * 100, 2),  # the same point of last year
        "last_year_is_own": last_year is not DEFAULT_SEASONAL_CURVE,
        "low_vnd": low, "high_vnd": high,
        "target_gap_vnd": max(0, plan * 95 // 100 - figures["forecast_vnd"]),
    }
