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
from app.models import Organisation, Project, WorkingGroup
from app.monitoring.indicator_store import Freshness
from app.monitoring.indicators import ProjectProgress, Snapshot, build_snapshot
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
    lead_official: str | None
    watch_lists: tuple[str, ...]
    stage: str
    is_key_project: bool
    total_investment_vnd: int


async def project_attrs(session: AsyncSession, as_of: date | None = None) -> dict[int, ProjectAttrs]:
    """All projects' grouping attributes; with `as_of`, the investor of that day as known that day (a project
    re-assigned later stays under its investor of the day in a past report: registry.investors)."""
    investor_on = await investors.investors_on(session, as_of) if as_of is not None else {}
    p = Project
    rows = await session.execute(
        select(
            p.id,
            p.code,
            p.name,
            p.investor_id,
            p.sector,
            p.location,
            p.working_group_id,
            p.lead_official,
            p.on_app1,
            p.on_app2,
            p.on_app3,
            p.stage,
            p.is_key_project,
            p.total_investment_vnd,
        )
    )
    out = {}
    for r in rows.all():
        lists = tuple(name for name, on in (("app1", r[8]), ("app2", r[9]), ("app3", r[10])) if on)
        out[r[0]] = ProjectAttrs(
            r[0],
            r[1],
            r[2],
            investor_on.get(r[0], r[3]),
            r[4],
            r[5],
            r[6],
            r[7],
            lists,
            str(r[11].value if hasattr(r[11], "value") else r[11]),
            bool(r[12]),
            int(r[13]),
        )
    return out


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
    projects: set[int] = set()
    plan = disbursed = fc = risk = absorb = 0
    counts: dict[str, int] = defaultdict(int)
    for st, p_plan, p_disb, p_fc, p_risk, p_abs, _ in items:
        plan += p_plan
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
        "rate_pct": round(disbursed * 100 / plan, 2) if plan else 0.0,
        "forecast_vnd": fc,
        "forecast_rate_pct": round(fc * 100 / plan, 2) if plan else 0.0,
        "at_risk_vnd": risk,
        "absorbable_extra_vnd": absorb,
        "flag_counts": dict(sorted(counts.items())),
    }


def _project_item(st: ProjectProgress):
    return (st, st.plan_vnd, st.disbursed_vnd, st.forecast_vnd, st.at_risk_vnd, st.absorbable_vnd, 0)


def _pool_items(st: ProjectProgress, attr: str):
    for p in st.pools:
        f = p.forecast
        yield (
            getattr(p.key, attr).value,
            (
                st,
                p.plan_vnd,
                p.disbursed_vnd,
                f.forecast_vnd if f else 0,
                f.at_risk_vnd if f else 0,
                min(p.extra_need_vnd, f.extra_capacity_vnd) if f else 0,
                0,
            ),
        )


async def labels(session: AsyncSession, group_by: str, keys: set) -> dict:
    ids = [k for k in keys if isinstance(k, int)]
    if group_by == "investor" and ids:
        return dict(
            (await session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))).all()
        )
    if group_by == "working_group" and ids:
        return dict(
            (await session.execute(select(WorkingGroup.id, WorkingGroup.name).where(WorkingGroup.id.in_(ids)))).all()
        )
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
            if group_by in ("capital_source", "budget_level"):
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
                        "lead_official": a.lead_official,
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
