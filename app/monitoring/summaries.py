"""R17/R18 summaries and the indicator list computed on the fly, and when the stored ones may answer instead.

For today's business date the API answers from the stored indicators (`indicator_queries`, SQL over
`indicator_snapshots`) once they hold a complete set for the plan year (`store_can_answer`). A past `as_of`
reproduces what was known then, and a year the store cannot answer yet (its first read, a rebuild too large
for one request) is computed here — never answered with the zeros of an empty or half-built store: one
whole-year snapshot (`monitoring.build_snapshot`, a fixed number of grouped queries) aggregated in memory,
about 0.6 ms of CPU per project, so seconds at national scale. Nothing is cached in the worker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.errors import BadRequest
from app.ledger import rates
from app.models import Organisation, Person, Project, WatchList, WorkingGroup
from app.monitoring.indicator_store import Freshness
from app.monitoring.indicators import ProjectProgress, Snapshot, build_snapshot
from app.programme import people, watchlists
from app.registry import investors

SORT_FIELDS = (
    "rate_pct",
    "plan_vnd",
    "disbursed_vnd",
    "forecast_vnd",
    "at_risk_vnd",
    "absorbable_extra_vnd",
    "forecast_rate_pct",
    "projects",
    "key",
)
GROUPS = (
    "investor",
    "sector",
    "location",
    "capital_source",
    "budget_level",
    "budget_holder",
    "working_group",
    "watch_list",
    "lead_official",
)


@dataclass(frozen=True, slots=True)
class ProjectAttrs:
    id: int
    code: str
    name: str
    investor_id: int
    sector: str
    location: str
    working_group_id: int | None
    lead_person_id: int | None
    watch_lists: tuple[str, ...]
    stage: str
    is_key_project: bool
    total_investment_vnd: int


async def project_attrs(session: AsyncSession, day: date) -> dict[int, ProjectAttrs]:
    """All projects' grouping attributes on `day`: the investor of that day as known that day (a project re-assigned
    later stays under its investor of the day in a past report: registry.investors), and the watch-lists and lead
    official of that day (R21)."""
    p = Project
    rows = await session.execute(select(p.id, p.code, p.name, p.investor_id, p.sector, p.location,
                                        p.working_group_id, p.stage, p.is_key_project, p.total_investment_vnd))
    investor_on = await investors.investors_on(session, day)
    lists = await watchlists.lists_on(session, day)
    leads = await people.leads_on(session, day)
    return {
        r.id: ProjectAttrs(r.id, r.code, r.name, investor_on.get(r.id, r.investor_id), r.sector, r.location,
                           r.working_group_id, lead.id if (lead := leads.get(r.id)) else None, lists.get(r.id, ()),
                           str(getattr(r.stage, "value", r.stage)), bool(r.is_key_project), int(r.total_investment_vnd))
        for r in rows.all()
    }


def store_can_answer(fresh: Freshness) -> bool:
    """The stored rows form one complete set for the year (`computed_for`), perhaps stale — and then they say
    so. Without one (never built, or a first rebuild still running) their sums would be silent zeros."""
    return fresh.computed_for is not None


def parse_sort(sort: str | None, default: str = "-plan_vnd") -> tuple[str, bool]:
    raw = sort or default
    descending = raw.startswith("-")
    name = raw.lstrip("-+")
    if name == "rate":
        name = "rate_pct"
    if name not in SORT_FIELDS:
        raise BadRequest(
            "invalid_sort",
            f"sort must be one of {', '.join(SORT_FIELDS)} (prefix '-' to descend).",
            pointer="query:sort",
        )
    return name, descending


def sort_groups(groups: list[dict], sort: str | None) -> None:
    name, descending = parse_sort(sort)
    groups.sort(
        key=lambda g: ((g[name] is None, g[name] or "") if name == "key" else (False, g[name]), g["key"] or ""),
        reverse=descending,
    )


def _figures(items: Iterable[tuple[ProjectProgress, int, int, int, int, int, int]]) -> dict:
    """Sums of (project, plan, disbursed, forecast, at risk, absorbable, added plan) items, with both R1b rates."""
    projects: set[int] = set()
    plan = disbursed = fc = risk = absorb = added = 0
    counts: dict[str, int] = defaultdict(int)
    for st, p_plan, p_disb, p_fc, p_risk, p_abs, p_added in items:
        plan += p_plan
        added += p_added
        disbursed += p_disb
        fc += p_fc
        risk += p_risk
        absorb += p_abs
        if st.project_id not in projects:
            projects.add(st.project_id)
            for flag in st.flags:
                counts[flag.code.value] += 1
    return {
        "projects": len(projects),
        "plan_vnd": plan,
        "disbursed_vnd": disbursed,
        "rate_pct": rates.rate_of_province_plan_pct(disbursed, plan),
        "assigned_plan_vnd": plan - added,
        "added_plan_vnd": added,
        "rate_of_assigned_plan_pct": rates.rate_of_assigned_plan_pct(disbursed, plan, added),
        "forecast_vnd": fc,
        "forecast_rate_pct": round(fc * 100 / plan, 2) if plan else 0.0,
        "at_risk_vnd": risk,
        "absorbable_extra_vnd": absorb,
        "flag_counts": dict(sorted(counts.items())),
    }


def _project_item(st: ProjectProgress):
    return (st, st.plan_vnd, st.disbursed_vnd, st.forecast_vnd, st.at_risk_vnd, st.absorbable_vnd, st.added_plan_vnd)


POOL_GROUPS = {"capital_source": "capital_source", "budget_level": "budget_level",
               "budget_holder": "budget_holder_id"}  # grouping → the pool key's field (R1: holder id)


def _pool_items(st: ProjectProgress, group_by: str):
    for p in st.pools:
        f = p.forecast
        key = getattr(p.key, POOL_GROUPS[group_by])
        yield (
            key if isinstance(key, int) else key.value,
            (
                st,
                p.plan_vnd,
                p.disbursed_vnd,
                f.forecast_vnd if f else 0,
                f.at_risk_vnd if f else 0,
                min(p.extra_need_vnd, f.extra_capacity_vnd) if f else 0,
                p.added_plan_vnd,
            ),
        )


async def labels(session: AsyncSession, group_by: str, keys: set) -> dict:
    ids = [k for k in keys if isinstance(k, int)]
    if group_by in ("investor", "budget_holder") and ids:
        return dict(
            (await session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))).all()
        )
    if group_by == "working_group" and ids:
        return dict(
            (await session.execute(select(WorkingGroup.id, WorkingGroup.name).where(WorkingGroup.id.in_(ids)))).all()
        )
    if group_by == "lead_official" and ids:  # a person (R21), named by title and name
        return {p.id: people.label(p) for p in await session.scalars(select(Person).where(Person.id.in_(ids)))}
    if group_by == "watch_list":  # a watch-list code, named by the list
        return {code: name for code, name in await session.execute(select(WatchList.code, WatchList.name))}
    return {}


async def summarise(session: AsyncSession, plan_year: int, as_of: date, group_by: str | None, sort: str | None) -> dict:
    snap = await build_snapshot(session, plan_year, as_of)
    attrs = await project_attrs(session, as_of)
    states = [st for pid, st in snap.projects.items() if pid in attrs]
    province = _figures(_project_item(st) for st in states)
    groups: list[dict] = []
    if group_by is not None:
        buckets: dict[object, list] = defaultdict(list)
        for st in states:
            a = attrs[st.project_id]
            if group_by in POOL_GROUPS:
                for key, item in _pool_items(st, group_by):
                    buckets[key].append(item)
                continue
            if group_by == "watch_list":
                keys: Iterable[object] = a.watch_lists or (None,)
            else:
                keys = (
                    {
                        "investor": a.investor_id,
                        "sector": a.sector,
                        "location": a.location,
                        "working_group": a.working_group_id,
                        "lead_official": a.lead_person_id,
                    }[group_by],
                )
            for key in keys:
                buckets[key].append(_project_item(st))
        names = await labels(session, group_by, set(buckets))
        for key, items in buckets.items():
            groups.append(
                {
                    "key": None if key is None else str(key),
                    "label": names.get(key, None if key is None else str(key)),
                    **_figures(items),
                }
            )
        sort_groups(groups, sort)
    return {"plan_year": plan_year, "as_of": as_of, "group_by": group_by, "province": province, "groups": groups}


@dataclass(frozen=True, slots=True)
class IndicatorFilter:
    flag: str | None = None
    investor_id: int | None = None
    sector: str | None = None
    location: str | None = None
    working_group_id: int | None = None
    watch_list: str | None = None


def list_rows(
    snap: Snapshot, attrs: dict[int, ProjectAttrs], f: IndicatorFilter, after: int, limit: int
) -> list[tuple[ProjectProgress, ProjectAttrs]]:
    """Projects (by id, after the cursor) that have figures for the year and match the filter."""
    out = []
    for pid in sorted(snap.projects):
        if pid <= after:
            continue
        a = attrs.get(pid)
        st = snap.projects[pid]
        if a is None:
            continue
        if f.flag and not any(fl.code.value == f.flag for fl in st.flags):
            continue
        if (
            (f.investor_id is not None and a.investor_id != f.investor_id)
            or (f.sector and a.sector != f.sector)
            or (f.location and a.location != f.location)
            or (f.watch_list and f.watch_list not in a.watch_lists)
        ):
            continue
        if f.working_group_id is not None and a.working_group_id != f.working_group_id:
            continue
        out.append((st, a))
        if len(out) >= limit:
            break
    return out
