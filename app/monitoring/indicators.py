"""R17/R18 indicators for every project of a plan year at any `as_of`, computed set-based.

A *snapshot* is built with a fixed number of aggregated queries, whatever the number of projects:
1. pool figures — current `PoolBalance` rows when `as_of` ≥ today, else recomputed from the ledger as
   known then (`balances.pool_figures`);
2. the monthly disbursement series of every pool (one GROUP BY on year/month of the value date; each
   month's point is dated on its last value date, so "days since last disbursement" stays exact);
3. the schedule revision in force on `as_of` (months of the latest revision known by then);
4. registered extra needs (known by `as_of`, spendable by the deadline);
5. the milestone curve of the plan year (data, defaults from DOMAIN.md §6);
6. overdue advances on the date, as the Treasury lists them (point in time, when that module is installed).
Forecasts (`services.forecast`) run per pool; a project's figures are the sums of its pools and R18
flags (`services.flags`) are evaluated on those sums. `project_ids` restricts every query to those
projects: the incremental refresher (`services.indicator_store`) recomputes the changed projects with the
same code that computes a whole year on the fly for a past `as_of`. Nothing is cached in the worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, extract, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind, BudgetLevel, CapitalSource
from app.kernel import caches
from app.kernel.clock import today as business_today
from app.kernel.config import get_settings
from app.ledger import rates
from app.ledger.balances import PoolKey, pool_figures, pool_key_of
from app.models import (
    AllocationEntry,
    Disbursement,
    DisbursementSchedule,
    ExtraNeed,
    MilestonePoint,
    PoolBalance,
    ScheduleMonth,
)
from app.monitoring.flags import Flag, FlagThresholds, ProjectIndicators, evaluate_flags
from app.monitoring.forecast import (
    DEFAULT_MILESTONE_CURVE,
    DEFAULT_SEASONAL_CURVE,
    CumulativeCurve,
    CurvePoint,
    Forecast,
    ForecastInput,
    ForecastParams,
    deadline_for,
    forecast,
    milestone_curve_from_shape,
    scheduled_to_date,
    seasonal_curve_from_history,
)
from app.monitoring.needs import Grant, Need, open_needs


@dataclass(slots=True)
class PoolProgress:
    key: PoolKey
    plan_vnd: int = 0
    disbursed_vnd: int = 0
    advanced_vnd: int = 0
    recovered_vnd: int = 0
    added_plan_vnd: int = 0  # R1b: of plan_vnd, the capital the province added (giao tăng)
    series: list[tuple[date, int]] = field(default_factory=list)
    backing_need_vnd: int = 0  # registered need still open when the fresh-capital window opened: backs fresh capital
    extra_need_vnd: int = 0  # registered need no capital given since has answered (R18 open need)
    fresh_vnd: int = 0  # supplements decided in the fresh-capital window (R18)
    backed_fresh_vnd: int = 0  # the part of it backed by a registered need or a revised schedule
    forecast: Forecast | None = None


@dataclass(slots=True)
class ProjectProgress:
    project_id: int
    plan_vnd: int = 0
    disbursed_vnd: int = 0
    advance_outstanding_vnd: int = 0
    overdue_advance_vnd: int | None = None
    schedule: dict[int, int] | None = None
    scheduled_to_date_vnd: int | None = None
    last_disbursement_on: date | None = None
    days_since_last_disbursement: int = 0
    forecast_vnd: int = 0
    low_vnd: int = 0
    high_vnd: int = 0
    capacity_vnd: int = 0
    at_risk_vnd: int = 0
    extra_need_vnd: int = 0
    absorbable_vnd: int = 0
    milestone_target_pct: float = 0.0
    fresh_capital_vnd: int = 0
    added_plan_vnd: int = 0  # R1b: of plan_vnd, the capital the province added (giao tăng)
    flags: list[Flag] = field(default_factory=list)
    pools: list[PoolProgress] = field(default_factory=list)

    @property
    def rate_pct(self) -> float:
        """R1b rate of the province's plan (the whole plan)."""
        return rates.rate_of_province_plan_pct(self.disbursed_vnd, self.plan_vnd)

    @property
    def assigned_plan_vnd(self) -> int:
        return self.plan_vnd - self.added_plan_vnd

    @property
    def rate_of_assigned_plan_pct(self) -> float | None:
        """R1b rate of the Prime Minister's plan: the same disbursed over the plan he assigned."""
        return rates.rate_of_assigned_plan_pct(self.disbursed_vnd, self.plan_vnd, self.added_plan_vnd)


@dataclass(slots=True)
class Snapshot:
    plan_year: int
    as_of: date
    projects: dict[int, ProjectProgress]
    milestones: CumulativeCurve
    overdue_source: str  # "treasury_sweep" or "unavailable"


def thresholds() -> FlagThresholds:
    s = get_settings()
    return FlagThresholds(
        slow_margin_pp=float(s.flag_slow_margin_pp),
        stalled_days=s.flag_stalled_days,
        at_risk_tolerance_pct=float(s.flag_at_risk_tolerance_pct),
    )


async def milestone_curve(session: AsyncSession, plan_year: int, known_on: date | None = None) -> CumulativeCurve:
    """R17/R18: the plan year's milestone curve from data; by default the province's own shape of the
    previous year (as known on `known_on`) brought to 95% at 31/01 of Y+1 (the national shape without history)."""
    rows = (
        await session.execute(
            select(MilestonePoint.on_date, MilestonePoint.target_fraction)
            .where(MilestonePoint.plan_year == plan_year)
            .order_by(MilestonePoint.on_date)
        )
    ).all()
    if not rows:
        shape = await seasonal_curve(session, plan_year, known_on)
        # A previous year planned but never disbursed has no shape to scale: the national curve, as with no history.
        usable = shape is not DEFAULT_SEASONAL_CURVE and shape.final > 0
        return milestone_curve_from_shape(shape) if usable else DEFAULT_MILESTONE_CURVE
    return CumulativeCurve(tuple(CurvePoint(d.year - plan_year, d.month, d.day, f) for d, f in rows))


async def _pools(
    session: AsyncSession, plan_year: int, as_of: date, ids: Sequence[int] | None, current: bool
) -> dict[PoolKey, PoolProgress]:
    out: dict[PoolKey, PoolProgress] = {}
    if current:
        query = select(PoolBalance).where(PoolBalance.plan_year == plan_year)
        if ids is not None:
            query = query.where(PoolBalance.project_id.in_(ids))
        for row in await session.scalars(query):
            key = pool_key_of(row)
            out[key] = PoolProgress(key, row.plan_vnd, row.disbursed_vnd, row.advanced_vnd, row.advance_recovered_vnd,
                                    row.added_plan_vnd)
    else:
        # why: as known then (known_on), like the series, so rate and "never disbursed" agree
        figures = await pool_figures(session, plan_year=plan_year, project_ids=ids, as_of=as_of, known_on=as_of)
        for key, fig in figures.items():
            out[key] = PoolProgress(key, fig.plan_vnd, fig.disbursed_vnd, fig.advanced_vnd, fig.advance_recovered_vnd,
                                    fig.added_plan_vnd)
    return out


def _pool_of(table: Any) -> tuple[Any, Any, Any, Any]:
    """A pool's columns but its year (the year is the snapshot's): project, source, level, holder (R1)."""
    return (table.project_id, table.capital_source, table.budget_level, table.budget_holder_id)


async def _series(
    session: AsyncSession,
    plan_year: int,
    as_of: date,
    ids: Sequence[int] | None,
    current: bool,
    pools: dict[PoolKey, PoolProgress],
) -> None:
    d = Disbursement
    year, month = extract("year", d.value_date), extract("month", d.value_date)
    query = (
        select(*_pool_of(d), year, month, func.sum(d.net_vnd), func.max(d.value_date))
        .where(d.plan_year == plan_year, d.value_date <= as_of)
        .group_by(*_pool_of(d), year, month)
        .order_by(*_pool_of(d), year, month)
    )
    if not current:
        query = query.where(d.known_on <= as_of)
    if ids is not None:
        query = query.where(d.project_id.in_(ids))
    running: dict[PoolKey, int] = defaultdict(int)
    for pid, source, level, holder, _y, _m, net, last in (await session.execute(query)).all():
        key = PoolKey(pid, plan_year, CapitalSource(source), BudgetLevel(level), holder)
        state = pools.setdefault(key, PoolProgress(key))
        running[key] += int(net or 0)
        when = last if isinstance(last, date) else date.fromisoformat(str(last))
        state.series.append((when, running[key]))


async def _schedules(
    session: AsyncSession, plan_year: int, as_of: date, ids: Sequence[int] | None, current: bool
) -> dict[int, dict[int, int]]:
    s = DisbursementSchedule
    if current:
        cond = and_(s.plan_year == plan_year, s.is_current.is_(True), s.known_on <= as_of)
    else:
        latest = (
            select(s.project_id, func.max(s.revision).label("rev"))
            .where(s.plan_year == plan_year, s.known_on <= as_of)
            .group_by(s.project_id)
            .subquery()
        )
        cond = and_(s.plan_year == plan_year, s.project_id == latest.c.project_id, s.revision == latest.c.rev)
    query = (
        select(s.project_id, ScheduleMonth.month, ScheduleMonth.amount_vnd)
        .join(ScheduleMonth, ScheduleMonth.schedule_id == s.id)
        .where(cond)
    )
    if ids is not None:
        query = query.where(s.project_id.in_(ids))
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for pid, month, amount in (await session.execute(query)).all():
        out[pid][month] = int(amount)
    return out


async def _needs(
    session: AsyncSession, plan_year: int, as_of: date, ids: Sequence[int] | None, pools: dict[PoolKey, PoolProgress]
) -> None:
    """R18 extra needs (nhu cầu bổ sung vốn) as known on `as_of`, and the part still open after the capital given
    since (`needs.open_needs`: supplements and reallocations in decision order, net of ứng trước they repaid), so
    capital already given — a tranche — is not counted again as room to absorb. Also the part still open when the
    fresh-capital window opened: what backs fresh capital (`_fresh_capital`)."""
    n, a = ExtraNeed, AllocationEntry
    registered = (
        n.plan_year == plan_year,
        n.known_on <= as_of,
        n.spend_by <= deadline_for(plan_year),
        (n.status == "registered") | (n.withdrawn_on > as_of),
    )
    query = select(*_pool_of(n), n.amount_vnd, n.known_on).where(*registered)
    with_needs = select(n.project_id).where(*registered)
    if ids is not None:
        query = query.where(n.project_id.in_(ids))
        with_needs = with_needs.where(n.project_id.in_(ids))
    rows = (await session.execute(query)).all()
    if not rows:
        return
    grants_query = (  # a decision's new capital per pool: its supplement or adjustment in, less what it repaid (R1a)
        select(*_pool_of(a), a.decision_number, func.min(a.decision_date), func.sum(a.amount_vnd))
        .where(
            a.plan_year == plan_year,
            a.kind.in_((AllocationKind.supplement, AllocationKind.adjustment_in, AllocationKind.advance_repayment)),
            a.decision_date <= as_of,
            a.known_on <= as_of,
            a.project_id.in_(with_needs),
        )
        .group_by(*_pool_of(a), a.decision_number)
    )
    by_project: dict[int, tuple[list[Need[PoolKey]], list[Grant[PoolKey]]]] = defaultdict(lambda: ([], []))

    def key_of(pid: int, source: str, level: str, holder: int) -> PoolKey:
        return PoolKey(pid, plan_year, CapitalSource(source), BudgetLevel(level), holder)

    for pid, source, level, holder, amount, known in rows:
        by_project[pid][0].append(Need(key_of(pid, source, level, holder), int(amount), known))
    for pid, source, level, holder, _, decided, amount in (await session.execute(grants_query)).all():
        if int(amount or 0) > 0:
            by_project[pid][1].append(Grant(key_of(pid, source, level, holder), int(amount), decided))
    window_opens = as_of - timedelta(days=ForecastParams().fresh_capital_days)
    for project_needs, grants in by_project.values():
        before_window = [g for g in grants if g.decided_on <= window_opens]
        for key, amount in open_needs(project_needs, grants).items():
            pools.setdefault(key, PoolProgress(key)).extra_need_vnd = amount
        for key, amount in open_needs(project_needs, before_window).items():
            pools[key].backing_need_vnd = amount


async def _fresh_capital(
    session: AsyncSession, plan_year: int, as_of: date, ids: Sequence[int] | None, pools: dict[PoolKey, PoolProgress]
) -> None:
    """R18: supplements decided within `fresh_capital_days` of `as_of` (as known then), per pool, and the part
    backed by the project's registered need or by a schedule revision registered since the capital landed.

    The need is the project's (DOMAIN.md R18: "a tranche just given to a project that registered the need"): a
    district's project that registered its need in its district pool is backed when the province's tranche lands
    in a provincial pool (R1: another holder's pool). Each đồng of need backs one đồng of fresh capital, the pool's
    own need first."""
    a, s = AllocationEntry, DisbursementSchedule
    since = as_of - timedelta(days=ForecastParams().fresh_capital_days)
    query = (
        select(*_pool_of(a), func.sum(a.amount_vnd), func.min(a.decision_date))
        .where(
            a.plan_year == plan_year,
            a.kind == AllocationKind.supplement,
            a.decision_date > since,
            a.decision_date <= as_of,
            a.known_on <= as_of,
        )
        .group_by(*_pool_of(a))
    )
    if ids is not None:
        query = query.where(a.project_id.in_(ids))
    fresh = (await session.execute(query)).all()
    if not fresh:
        return
    revised_on = dict(
        (
            await session.execute(
                select(s.project_id, func.max(s.known_on))
                .where(s.plan_year == plan_year, s.revision > 1, s.known_on <= as_of)
                .group_by(s.project_id)
            )
        ).all()
    )
    need_left: dict[int, int] = defaultdict(int)
    for key, state in pools.items():
        need_left[key.project_id] += state.backing_need_vnd  # the need the fresh capital answered backs it
    firsts: dict[PoolKey, date] = {}
    for pid, source, level, holder, amount, first in fresh:
        key = PoolKey(pid, plan_year, CapitalSource(source), BudgetLevel(level), holder)
        pools.setdefault(key, PoolProgress(key)).fresh_vnd = int(amount or 0)
        firsts[key] = first
    for own_pool_first in (True, False):
        for key, first in sorted(firsts.items()):
            state, revised = pools[key], revised_on.get(key.project_id)
            if revised is not None and revised >= first:
                state.backed_fresh_vnd = state.fresh_vnd
                continue
            share = min(state.fresh_vnd - state.backed_fresh_vnd, need_left[key.project_id],
                        state.backing_need_vnd if own_pool_first else need_left[key.project_id])
            state.backed_fresh_vnd += share
            need_left[key.project_id] -= share


async def _overdue(
    session: AsyncSession, plan_year: int, as_of: date, ids: Sequence[int] | None
) -> dict[int, int] | None:
    """Overdue advances per project on `as_of` (R9–R11), exactly as the Treasury's overdue list of that day
    (`app.treasury.view.overdue_snapshot`, point in time); None when the Treasury module is not installed."""
    try:
        from app.treasury.view import OverdueFilter, overdue_snapshot
    except ImportError:  # the Treasury module is not installed
        return None
    wanted = None if ids is None else set(ids)
    out: dict[int, int] = defaultdict(int)
    project = next(iter(wanted)) if wanted is not None and len(wanted) == 1 else None
    for item in await overdue_snapshot(session, OverdueFilter(project_id=project), as_of):
        pid = item.row.advance.project_id
        if wanted is None or pid in wanted:
            out[pid] += item.classification.overdue_vnd
    return dict(out)


def _split_schedule(schedule: dict[int, int], share_num: int, share_den: int) -> dict[int, int]:
    if share_den <= 0 or share_num == share_den:
        return schedule
    return {m: a * share_num // share_den for m, a in schedule.items()}


def evaluate(
    plan_year: int,
    as_of: date,
    pools: dict[PoolKey, PoolProgress],
    schedules: dict[int, dict[int, int]],
    overdue: dict[int, int] | None,
    milestones: CumulativeCurve,
    seasonal: CumulativeCurve = DEFAULT_SEASONAL_CURVE,
) -> dict[int, ProjectProgress]:
    """Forecast every pool, sum per project, and raise R18 flags on the project's figures (pure)."""
    s = get_settings()
    params = ForecastParams(stalled_days=s.flag_stalled_days)
    limits = thresholds()
    by_project: dict[int, list[PoolProgress]] = defaultdict(list)
    for key in sorted(pools):
        by_project[key.project_id].append(pools[key])
    target_pct = round(milestones.fraction_at(as_of, plan_year) * 100, 2)
    projects: dict[int, ProjectProgress] = {}
    for pid, states in by_project.items():
        schedule = schedules.get(pid)
        plan_total = sum(p.plan_vnd for p in states)
        st = ProjectProgress(pid, pools=states, schedule=schedule, milestone_target_pct=target_pct)
        last: date | None = None
        for p in states:
            share = _split_schedule(schedule, p.plan_vnd, plan_total) if schedule else None
            p.forecast = f = forecast(
                ForecastInput(
                    plan_year, as_of, max(0, p.plan_vnd), p.series, share, backed_fresh_vnd=p.backed_fresh_vnd
                ),
                seasonal,
                params=params,
            )
            st.fresh_capital_vnd += p.fresh_vnd
            st.plan_vnd += p.plan_vnd
            st.added_plan_vnd += p.added_plan_vnd
            st.disbursed_vnd += p.disbursed_vnd
            st.advance_outstanding_vnd += p.advanced_vnd - p.recovered_vnd
            st.forecast_vnd += f.forecast_vnd
            st.low_vnd += f.low_vnd
            st.high_vnd += f.high_vnd
            st.capacity_vnd += f.unconstrained_capacity_vnd
            st.at_risk_vnd += f.at_risk_vnd
            st.extra_need_vnd += p.extra_need_vnd
            st.absorbable_vnd += min(p.extra_need_vnd, f.extra_capacity_vnd)
            if f.last_disbursement_on and (last is None or f.last_disbursement_on > last):
                last = f.last_disbursement_on
        st.last_disbursement_on = last
        start = date(plan_year, 1, 1)
        st.days_since_last_disbursement = max(0, (as_of - (last if last and last >= start else start)).days)
        if schedule:
            st.scheduled_to_date_vnd = scheduled_to_date(schedule, plan_year, as_of)
        st.overdue_advance_vnd = None if overdue is None else overdue.get(pid, 0)
        ind = ProjectIndicators(
            plan_year,
            as_of,
            st.plan_vnd,
            st.disbursed_vnd,
            st.scheduled_to_date_vnd,
            last,
            st.forecast_vnd,
            st.capacity_vnd,
            st.extra_need_vnd,
            st.overdue_advance_vnd or 0,
            st.fresh_capital_vnd,
        )
        st.flags = evaluate_flags(ind, limits, milestones)
        projects[pid] = st
    return projects


async def seasonal_curve(session: AsyncSession, plan_year: int, known_on: date | None = None) -> CumulativeCurve:
    """The province's own shape of the year (R17): month-end cumulative disbursement of the previous plan
    year as a share of its plan, when that year is in the ledger (as known on `known_on`: a past report keeps the
    shape it was computed with); else the national default (DOMAIN.md §6)."""
    cached = caches.seasonal_curves.get((plan_year, known_on))
    if cached is not caches.MISSING:
        return cached
    curve = await _seasonal_from_ledger(session, plan_year, known_on)
    caches.seasonal_curves.put((plan_year, known_on), curve)
    return curve


async def _seasonal_from_ledger(session: AsyncSession, plan_year: int, known_on: date | None) -> CumulativeCurve:
    year = plan_year - 1
    a, d = AllocationEntry, Disbursement
    known = (a.known_on <= known_on, d.known_on <= known_on) if known_on is not None else (true(), true())
    # the plan as it stood at its deadline: a lapse or extension decided afterwards does not rewrite its shape
    plan = await session.scalar(select(func.sum(a.amount_vnd)).where(
        a.plan_year == year, a.kind != AllocationKind.extension, a.decision_date <= deadline_for(year), known[0]))
    if not plan or plan <= 0:
        return DEFAULT_SEASONAL_CURVE
    y, m = extract("year", Disbursement.value_date), extract("month", Disbursement.value_date)
    monthly = {(int(a), int(b)): int(v or 0) for a, b, v in (await session.execute(
        select(y, m, func.sum(d.net_vnd)).where(d.plan_year == year, known[1]).group_by(y, m))).all()}
    if not any(key[0] == plan_year for key in monthly):  # no January of the next year: history incomplete
        return DEFAULT_SEASONAL_CURVE
    running, cumulative = 0, []
    for index in range(13):
        running += monthly.get((year, index + 1) if index < 12 else (plan_year, 1), 0)
        cumulative.append(running)
    shape = seasonal_curve_from_history([(int(plan), cumulative)])
    # why: a year that disbursed nothing net (e.g. only reversals) has no shape to learn from or scale to 95%
    return shape if shape.final > 0 else DEFAULT_SEASONAL_CURVE


async def build_snapshot(
    session: AsyncSession, plan_year: int, as_of: date, project_ids: Sequence[int] | None = None
) -> Snapshot:
    current = as_of >= business_today()
    ids = list(project_ids) if project_ids is not None else None
    pools = await _pools(session, plan_year, as_of, ids, current)
    await _series(session, plan_year, as_of, ids, current, pools)
    await _needs(session, plan_year, as_of, ids, pools)
    await _fresh_capital(session, plan_year, as_of, ids, pools)
    schedules = await _schedules(session, plan_year, as_of, ids, current)
    for pid in schedules:  # a project with a schedule but no pool yet still shows (plan 0; holder 0: none yet)
        if not any(k.project_id == pid for k in pools):
            pools[PoolKey(pid, plan_year, CapitalSource.local_balanced, BudgetLevel.province, 0)] = PoolProgress(
                PoolKey(pid, plan_year, CapitalSource.local_balanced, BudgetLevel.province, 0)
            )
    overdue = await _overdue(session, plan_year, as_of, ids)
    milestones = await milestone_curve(session, plan_year, as_of)
    seasonal = await seasonal_curve(session, plan_year, as_of)
    projects = evaluate(plan_year, as_of, pools, schedules, overdue, milestones, seasonal)
    return Snapshot(plan_year, as_of, projects, milestones, "unavailable" if overdue is None else "treasury_sweep")
