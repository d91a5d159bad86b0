"""Summaries and the flagged project list for today, as SQL over the stored indicators.

`indicator_snapshots` (one narrow row per project and plan year, carrying the project's grouping keys): a
grouping is one single-table GROUP BY, the province totals another, flag counts are sums over the flag
bitmask; the list is a keyset scan on (plan_year, project_id), the primary key, joined to `projects` and
the flag details for one page only. Capital source and budget level group the per-pool rows
(`indicator_snapshot_pools`), counting each project's flags once per group.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, SQLColumnExpression, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.clock import today as business_today
from app.ledger import rates
from app.models import Project
from app.models.indicators import IndicatorFlagDetail, IndicatorSnapshot, IndicatorSnapshotPool
from app.monitoring.indicator_store import FLAG_BITS
from app.monitoring.summaries import IndicatorFilter, labels, sort_groups
from app.programme import watchlists

S, P, D = IndicatorSnapshot, Project, IndicatorFlagDetail
_PROJECT_KEYS = {
    "investor": S.investor_id,
    "sector": S.sector,
    "location": S.location,
    "working_group": S.working_group_id,
    "lead_official": S.lead_person_id,
}
_SUMS = ("plan_vnd", "disbursed_vnd", "forecast_vnd", "at_risk_vnd", "absorbable_extra_vnd", "added_plan_vnd")


def _has(mask: SQLColumnExpression[int], code: str) -> ColumnElement[bool]:
    return mask.op("&")(FLAG_BITS[code]) != 0


def _figure_columns(t, mask: SQLColumnExpression[int], projects: ColumnElement) -> list:
    return [
        projects,
        func.sum(t.plan_vnd),
        func.sum(t.disbursed_vnd),
        func.sum(t.forecast_vnd),
        func.sum(t.at_risk_vnd),
        func.sum(t.absorbable_vnd),
        func.sum(t.added_plan_vnd),
        *[func.sum(case((_has(mask, code), 1), else_=0)) for code in FLAG_BITS],
    ]


def _pool_flag_columns() -> list:
    t = IndicatorSnapshotPool
    return [func.count(func.distinct(case((_has(t.flag_mask, code), t.project_id)))) for code in FLAG_BITS]


def _figures(values) -> dict:
    projects, *rest = values
    sums = {name: int(v or 0) for name, v in zip(_SUMS, rest[: len(_SUMS)], strict=True)}
    counts = {code: int(n or 0) for code, n in zip(FLAG_BITS, rest[len(_SUMS) :], strict=True)}
    plan = sums["plan_vnd"]
    return {
        "projects": int(projects or 0),
        "plan_vnd": plan,
        "disbursed_vnd": sums["disbursed_vnd"],
        "rate_pct": rates.rate_of_province_plan_pct(sums["disbursed_vnd"], plan),
        "assigned_plan_vnd": plan - sums["added_plan_vnd"],
        "added_plan_vnd": sums["added_plan_vnd"],
        "rate_of_assigned_plan_pct": rates.rate_of_assigned_plan_pct(sums["disbursed_vnd"], plan,
                                                                     sums["added_plan_vnd"]),
        "forecast_vnd": sums["forecast_vnd"],
        "forecast_rate_pct": round(sums["forecast_vnd"] * 100 / plan, 2) if plan else 0.0,
        "at_risk_vnd": sums["at_risk_vnd"],
        "absorbable_extra_vnd": sums["absorbable_extra_vnd"],
        "flag_counts": {code: n for code, n in sorted(counts.items()) if n},
    }


async def _grouped(session: AsyncSession, plan_year: int, group_by: str) -> dict[object, tuple]:
    base = select().select_from(S).where(S.plan_year == plan_year)
    if group_by in _PROJECT_KEYS:
        key = _PROJECT_KEYS[group_by]
        query = base.add_columns(key, *_figure_columns(S, S.flag_mask, func.count())).group_by(key)
        return {row[0]: tuple(row[1:]) for row in (await session.execute(query)).all()}
    if group_by == "watch_list":  # a project on several lists counts in each; on none: key None
        members = await _members_today(session)
        everyone = set().union(*members.values()) if members else set()
        groups: dict[object, ColumnElement[bool]] = {code: S.project_id.in_(sorted(ids)) for code, ids in
                                                     members.items()}
        groups[None] = S.project_id.not_in(sorted(everyone)) if everyone else S.project_id.is_not(None)
        out: dict[object, tuple] = {}
        for code, condition in groups.items():
            row = (await session.execute(base.add_columns(*_figure_columns(S, S.flag_mask, func.count()))
                                         .where(condition))).one()
            if row[0]:
                out[code] = tuple(row)
        return out
    t = IndicatorSnapshotPool
    key = {"capital_source": t.capital_source, "budget_level": t.budget_level,
           "budget_holder": t.budget_holder_id}[group_by]
    query = (
        select(key, func.count(func.distinct(t.project_id)),
               *_figure_columns(t, t.flag_mask, func.count())[1 : 1 + len(_SUMS)])
        .select_from(t)
        .where(t.plan_year == plan_year)
        .group_by(key)
        .add_columns(*_pool_flag_columns())
    )
    return {row[0]: tuple(row[1:]) for row in (await session.execute(query)).all()}


async def _members_today(session: AsyncSession) -> dict[str, set[int]]:
    """Each watch-list's members on today's business date, the date the stored rows are for (R21)."""
    members: dict[str, set[int]] = defaultdict(set)
    for pid, codes in (await watchlists.lists_on(session, business_today())).items():
        for code in codes:
            members[code].add(pid)
    return members


async def summarise(session: AsyncSession, plan_year: int, group_by: str | None, sort: str | None) -> dict:
    """Province totals and, when asked, one grouping, from today's stored indicators."""
    buckets = await _grouped(session, plan_year, group_by) if group_by is not None else {}
    if group_by in _PROJECT_KEYS:
        # Each project sits in exactly one group (NULL keys included): the province is the groups' sum,
        # which saves a second scan of the table.
        total = tuple(sum(int(v or 0) for v in column) for column in zip(*buckets.values(), strict=True)) or (
            0,) * (1 + len(_SUMS) + len(FLAG_BITS))
    else:
        total = tuple((
            await session.execute(
                select(*_figure_columns(S, S.flag_mask, func.count()))
                .select_from(S)
                .where(S.plan_year == plan_year)
            )
        ).one())
    groups: list[dict] = []
    if group_by is not None:
        names = await labels(session, group_by, set(buckets))
        for key, values in buckets.items():
            groups.append(
                {
                    "key": None if key is None else str(key),
                    "label": names.get(key, None if key is None else str(key)),
                    **_figures(values),
                }
            )
        sort_groups(groups, sort)
    return {"plan_year": plan_year, "group_by": group_by, "province": _figures(total), "groups": groups}


async def list_rows(session: AsyncSession, plan_year: int, f: IndicatorFilter, after: int, limit: int) -> list:
    """Stored rows (by project id, after the cursor) matching the filter, with the project's attributes."""
    query = (
        select(S, D.flags, P.code, P.name, P.investor_id, P.sector, P.location, P.working_group_id)
        .join(P, P.id == S.project_id)
        .join(D, (D.plan_year == S.plan_year) & (D.project_id == S.project_id))
        .where(S.plan_year == plan_year, S.project_id > after)
        .order_by(S.project_id)
        .limit(limit)
    )
    if f.flag:
        query = query.where(_has(S.flag_mask, f.flag))
    if f.investor_id is not None:
        query = query.where(S.investor_id == f.investor_id)
    if f.sector:
        query = query.where(S.sector == f.sector)
    if f.location:
        query = query.where(S.location == f.location)
    if f.working_group_id is not None:
        query = query.where(S.working_group_id == f.working_group_id)
    if f.watch_list:
        query = query.where(S.project_id.in_(sorted((await _members_today(session)).get(f.watch_list, set()))))
    rows = list((await session.execute(query)).all())
    lists = await watchlists.lists_on(session, business_today(), [r[0].project_id for r in rows])
    return [(*r, lists.get(r[0].project_id, ())) for r in rows]
