"""R17/R18 monitoring: a project's indicators and flags, the indicator list, and summaries.

The list and the summaries for today's business date are SQL over the stored indicators, refreshed first
when a few projects changed (a client sees its own write); a past `as_of` is computed on the fly.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.enums import WatchList
from app.kernel.api.deps import SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam, IsoDate, PageSize, PlanYearParam, after_id, split_page
from app.ledger.balances import confirmed_split
from app.monitoring import indicator_queries, indicator_store, summaries
from app.monitoring import indicators as monitoring
from app.monitoring.flags import FlagCode
from app.monitoring.indicators import ProjectProgress
from app.monitoring.schemas import (
    FlagOut,
    ForecastComponentOut,
    ForecastOut,
    GroupBy,
    IndicatorPage,
    IndicatorRow,
    IndicatorsOut,
    SummaryOut,
)
from app.registry import projects

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
PlanYear = Annotated[PlanYearParam, Query(description="Plan year (năm kế hoạch); default: as_of's year")]
AsOf = Annotated[IsoDate | None, Query(description="Business date to compute as known then (default: today)")]


def flags_out(st: ProjectProgress) -> list[FlagOut]:
    return [FlagOut(code=f.code.value, reason=f.reason, detail=f.detail, numbers=f.numbers) for f in st.flags]


def _pp(amount: int, plan: int) -> float:
    return round(amount * 100 / plan, 2) if plan else 0.0


def indicators_out(st: ProjectProgress, code: str, name: str, plan_year: int, as_of: date) -> IndicatorsOut:
    components = []
    deadline = monitoring.deadline_for(plan_year)
    for p in st.pools:
        if p.forecast is None:
            continue
        pool = f"{p.key.capital_source.value}/{p.key.budget_level.value}"
        components += [
            ForecastComponentOut(
                pool=pool, name=c.name, estimate_vnd=c.estimate_vnd, weight=round(c.weight, 4), inputs=c.inputs
            )
            for c in p.forecast.components
        ]
    vs_schedule = (
        None if st.scheduled_to_date_vnd is None else _pp(st.disbursed_vnd - st.scheduled_to_date_vnd, st.plan_vnd)
    )
    return IndicatorsOut(
        project_id=st.project_id,
        code=code,
        name=name,
        plan_year=plan_year,
        as_of=as_of,
        plan_vnd=st.plan_vnd,
        disbursed_vnd=st.disbursed_vnd,
        rate_pct=st.rate_pct,
        scheduled_to_date_vnd=st.scheduled_to_date_vnd,
        vs_schedule_pp=vs_schedule,
        milestone_target_pct=st.milestone_target_pct,
        vs_milestone_pp=round(st.rate_pct - st.milestone_target_pct, 2),
        last_disbursement_on=st.last_disbursement_on,
        days_since_last_disbursement=st.days_since_last_disbursement,
        advance_outstanding_vnd=st.advance_outstanding_vnd,
        overdue_advance_vnd=st.overdue_advance_vnd,
        forecast=ForecastOut(
            deadline=deadline,
            forecast_vnd=st.forecast_vnd,
            low_vnd=st.low_vnd,
            high_vnd=st.high_vnd,
            forecast_rate_pct=_pp(st.forecast_vnd, st.plan_vnd),
            unconstrained_capacity_vnd=st.capacity_vnd,
            components=components,
        ),
        at_risk_vnd=st.at_risk_vnd,
        registered_extra_need_vnd=st.extra_need_vnd,
        absorbable_extra_vnd=st.absorbable_vnd,
        flags=flags_out(st),
    )


@router.get(
    "/projects/{project_id}/indicators",
    operation_id="getProjectIndicators",
    summary="A project's progress indicators, forecast and flags (R17, R18)",
    response_model=IndicatorsOut,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def get_indicators(
    project_id: IdParam, session: SessionDep, plan_year: PlanYear | None = None, as_of: AsOf = None
) -> IndicatorsOut:
    project = await projects.get(session, project_id)
    day = as_of or today()
    year = plan_year or day.year
    snap = await monitoring.build_snapshot(session, year, day, [project_id])
    st = snap.projects.get(project_id)
    if st is None:
        st = monitoring.evaluate(year, day, {}, {}, None, snap.milestones).get(project_id) or ProjectProgress(
            project_id, milestone_target_pct=round(snap.milestones.fraction_at(day, year) * 100, 2)
        )
    return indicators_out(st, project.code, project.name, year, day)


@router.get(
    "/indicators",
    operation_id="listProjectIndicators",
    summary="Projects with their indicators and flags (R18), filterable",
    response_model=IndicatorPage,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def list_indicators(
    session: SessionDep,
    plan_year: PlanYear | None = None,
    as_of: AsOf = None,
    flag: Annotated[FlagCode | None, Query(description="Only projects raising this flag")] = None,
    investor_id: IdParam | None = None,
    sector: str | None = None,
    location: str | None = None,
    working_group_id: IdParam | None = None,
    watch_list: WatchList | None = None,
    page_size: PageSize = 50,
    page_token: str | None = None,
) -> IndicatorPage:
    day = as_of or today()
    year = plan_year or day.year
    f = summaries.IndicatorFilter(
        flag.value if flag else None,
        investor_id,
        sector,
        location,
        working_group_id,
        watch_list.value if watch_list else None,
    )
    filters = {"plan_year": year, "as_of": day.isoformat(), **asdict(f)}
    after = after_id(page_token, filters)
    if (fresh := await _stored_set(session, year, day)) is not None:
        rows = [_stored_row(r) for r in await indicator_queries.list_rows(session, year, f, after, page_size + 1)]
        info: dict[str, Any] = {
            "computed_for": fresh.computed_for, "stale": fresh.stale, "pending_projects": fresh.pending_projects}
    else:
        snap = await monitoring.build_snapshot(session, year, day)
        attrs = await summaries.project_attrs(session, day)
        rows = [_live_row(st, a) for st, a in summaries.list_rows(snap, attrs, f, after, page_size + 1)]
        info = {"computed_for": day}
    rows, token = split_page(rows, page_size, filters, key=lambda r: r.project_id)
    return IndicatorPage(items=rows, next_page_token=token, **info)


async def _stored_set(session: SessionDep, year: int, day: date) -> indicator_store.Freshness | None:
    """The stored indicators' freshness when they can answer for `day`, else None: compute on the fly.

    No silent zeros: a year whose store holds no complete set yet (its first read, a rebuild larger than a
    request may finish) is answered from the ledger, never from an empty or half-built store."""
    if not indicator_store.serves_from_store(day):
        return None  # a past as_of: as known then
    fresh = await indicator_store.ensure_fresh(session, year)
    return fresh if summaries.store_can_answer(fresh) else None


def _live_row(st: ProjectProgress, a: summaries.ProjectAttrs) -> IndicatorRow:
    return IndicatorRow(
        project_id=st.project_id,
        code=a.code,
        name=a.name,
        investor_id=a.investor_id,
        sector=a.sector,
        location=a.location,
        working_group_id=a.working_group_id,
        watch_lists=[WatchList(w) for w in a.watch_lists],
        plan_vnd=st.plan_vnd,
        disbursed_vnd=st.disbursed_vnd,
        rate_pct=st.rate_pct,
        forecast_vnd=st.forecast_vnd,
        low_vnd=st.low_vnd,
        high_vnd=st.high_vnd,
        at_risk_vnd=st.at_risk_vnd,
        absorbable_extra_vnd=st.absorbable_vnd,
        days_since_last_disbursement=st.days_since_last_disbursement,
        flags=flags_out(st),
    )


def _stored_row(r) -> IndicatorRow:
    s, flags, code, name, investor_id, sector, location, working_group_id, app1, app2, app3 = r
    return IndicatorRow(
        project_id=s.project_id,
        code=code,
        name=name,
        investor_id=investor_id,
        sector=sector,
        location=location,
        working_group_id=working_group_id,
        watch_lists=[WatchList(w) for w, on in (("app1", app1), ("app2", app2), ("app3", app3)) if on],
        plan_vnd=s.plan_vnd,
        disbursed_vnd=s.disbursed_vnd,
        rate_pct=s.rate_pct,
        forecast_vnd=s.forecast_vnd,
        low_vnd=s.low_vnd,
        high_vnd=s.high_vnd,
        at_risk_vnd=s.at_risk_vnd,
        absorbable_extra_vnd=s.absorbable_vnd,
        days_since_last_disbursement=s.days_since_last_disbursement,
        flags=[FlagOut(**f) for f in flags["flags"]],
    )


@router.get(
    "/summaries",
    operation_id="getSummaries",
    summary="Province totals and groupings with plan, disbursed, rate, forecast, at-risk and flag counts",
    description="Today's figures come from the stored indicators (`computed_for`, `stale`); a past `as_of` is "
    "recomputed from the ledger as known then, which is slower (seconds at national scale).",
    response_model=SummaryOut,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def get_summaries(
    session: SessionDep,
    plan_year: PlanYear | None = None,
    as_of: AsOf = None,
    group_by: GroupBy | None = None,
    sort: Annotated[
        str | None,
        Query(
            description="rate | plan_vnd | disbursed_vnd | forecast_vnd | at_risk_vnd | "
            "absorbable_extra_vnd | projects | key; prefix '-' to descend"
        ),
    ] = None,
) -> SummaryOut:
    day = as_of or today()
    year = plan_year or day.year
    key = group_by.value if group_by else None
    split = {"province_confirmed": await confirmed_split(session, plan_year=year, as_of=day)}  # R15a
    if (fresh := await _stored_set(session, year, day)) is not None:
        data = await indicator_queries.summarise(session, year, key, sort)
        info = {"computed_for": fresh.computed_for, "stale": fresh.stale, "pending_projects": fresh.pending_projects}
        return SummaryOut.model_validate({**data, "as_of": day, **info, **split})
    data = await summaries.summarise(session, year, day, key, sort)  # on the fly (slower)
    return SummaryOut.model_validate({**data, "computed_for": day, **split})
