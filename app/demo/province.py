"""Deterministic generator of the demo province (DOMAIN.md §6 figures).

Vĩnh Phúc: 9 districts, ~780 projects, plan year 2023 (7,688 tỷ, 96.88% disbursed at 31/01/2024) and
plan year 2024 (≈7,895 tỷ at 30/09: ≈443 central, the rest local; ≈7,776 assigned by the Prime Minister and
118.8 added by the province; ≈50.6% disbursed by 30/09 on a back-loaded curve; a third tranche of ≈1,000 tỷ
decided on 08/10/2024, added by the province), with medium-term plans 2021–2025 (`app.demo.plans`), as known on
2024-10-11.
Rows are bulk-inserted and balances rebuilt from the ledger; the generator respects R1, R2, R7, R14.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import plans
from app.demo.names import DISTRICTS, LEAD_OFFICIALS, PROVINCE_BOARDS, SECTORS, WORKING_GROUPS
from app.enums import OrganisationKind
from app.kernel.db import dialect_name
from app.ledger.books import rebuild
from app.models import (
    AllocationEntry,
    Disbursement,
    MediumTermEntry,
    Organisation,
    Project,
    ProjectInvestor,
    WorkingGroup,
)

TY = 1_000_000_000
AS_OF = date(2024, 10, 11)
SEED = 20241011
PROJECT_COUNT = 780
PLAN_2024_CENTRAL = 443 * TY
PLAN_2024_LOCAL = 7_452 * TY  # with the central part: ≈ 7,895 tỷ at 30/09/2024
TRANCHE_3 = 1_000 * TY
PLAN_2023 = 7_688 * TY
DISBURSED_2024_SEP30 = 3_998 * TY

# Cumulative share of a year's disbursement by month end (national back-loaded shape, DOMAIN.md §6);
# index 12 is January of the next year.
CURVE = [0.0, 0.03, 0.06, 0.11, 0.16, 0.22, 0.30, 0.36, 0.43, 0.506, 0.58, 0.66, 0.78, 0.92]
# Multiplier on the curve by profile (share of projects). About one project in five lags: a province that
# reached 96.88% in 2023 cannot have a third of its projects at a third of the pace (R18 should single them out).
PROFILES = {"fast": (0.25, 1.15), "normal": (0.56, 1.0), "slow": (0.11, 0.5), "stalled": (0.05, 0.35),
            "not_started": (0.03, 0.0)}
SPREAD = {"normal": (0.85, 1.15)}  # a "normal" project 20% behind the curve would be a laggard, not normal


@dataclass
class DemoProject:
    id: int
    code: str
    sector: str
    investor_id: int
    budget_level: str
    source: str
    profile: str
    stage: str
    plan_2023: int = 0
    plan_2024: int = 0
    tranche_3: int = 0
    tmdt: int = 0
    watch_lists: tuple[str, ...] = ()  # app2/app3 chosen here; the memberships are written by app.demo.programme
    lead: int = 0  # index in LEAD_OFFICIALS
    holder_id: int = 0  # R1: the government whose budget funds it — its district's, or the province's
    province_id: int = 0  # the province's people's committee: holder of central-budget and provincial capital
    sector_group_id: int = 0  # the working group of its sector (TCT-1/2/3); its obstacles go to this group

    def pool(self) -> dict[str, Any]:
        """The project's own pool columns: its source, level and budget holder (R1)."""
        if self.source == "central":  # central-budget capital assigned to the province, managed in its budget
            return {"capital_source": "central", "budget_level": "central", "budget_holder_id": self.province_id}
        return {"capital_source": self.source, "budget_level": self.budget_level, "budget_holder_id": self.holder_id}

    def tranche_pool(self) -> dict[str, Any]:
        """Đợt 3 is local capital decided by the province (DOMAIN.md §6): a provincial pool, never central budget."""
        source = "local_balanced" if self.source == "central" else self.source
        return {"capital_source": source, "budget_level": "province", "budget_holder_id": self.province_id}


@dataclass
class DemoContext:
    """What the province loader created; later loaders (treasury, monitoring) build on it."""

    as_of: date
    plan_year: int
    projects: list[DemoProject]
    organisations: dict[str, int]
    working_groups: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)


def _workday(rng: random.Random, year: int, month: int, last: date | None = None) -> date:
    day = date(year, month, rng.randint(3, 27))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return min(day, last) if last else day


def _stamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def _organisations(session: AsyncSession) -> tuple[dict[str, int], dict[str, str]]:
    created = datetime(2024, 1, 1, tzinfo=UTC)
    since = date(2008, 8, 1)
    ids: dict[str, int] = {}

    async def add(code: str, name: str, kind: OrganisationKind, parent: str | None) -> None:
        org = Organisation(code=code, name=name, kind=kind, parent_id=ids.get(parent) if parent else None,
                           valid_from=since, valid_to=date(2025, 7, 1) if kind is OrganisationKind.district else None,
                           created_at=created)
        session.add(org)
        await session.flush()
        ids[code] = org.id

    await add("UBND-VP", "Ủy ban nhân dân tỉnh Vĩnh Phúc", OrganisationKind.people_committee, None)
    await add("SKHDT", "Sở Kế hoạch và Đầu tư tỉnh Vĩnh Phúc", OrganisationKind.department, "UBND-VP")
    await add("STC", "Sở Tài chính tỉnh Vĩnh Phúc", OrganisationKind.department, "UBND-VP")
    await add("KBNN-VP", "Kho bạc Nhà nước Vĩnh Phúc", OrganisationKind.treasury, None)
    for code, name, _ in PROVINCE_BOARDS:
        await add(code, name, OrganisationKind.investor, "UBND-VP")
    district_board: dict[str, str] = {}
    for code, (name, _) in DISTRICTS.items():
        await add(f"UBND-{code}", f"Ủy ban nhân dân {name[0].lower()}{name[1:]}",
                  OrganisationKind.district, "UBND-VP")
        board = f"BQL-{code}"
        await add(board, f"Ban Quản lý dự án đầu tư xây dựng {name[0].lower()}{name[1:]}", OrganisationKind.investor,
                  f"UBND-{code}")
        district_board[code] = board
    return ids, district_board


def _split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Split `total` đồng by weights into whole millions, exact in sum."""
    unit = 1_000_000
    units = total // unit
    s = sum(weights)
    parts = [int(units * w / s) for w in weights]
    for i in rng.sample(range(len(parts)), units - sum(parts)):
        parts[i] += 1
    return [p * unit for p in parts]


async def _projects(session: AsyncSession, rng: random.Random, orgs: dict[str, int], boards: dict[str, str],
                    groups: dict[str, int]) -> list[DemoProject]:
    sectors = list(SECTORS)
    sector_weights = [16, 18, 8, 10, 12, 6, 10, 8, 6]
    profiles = list(PROFILES)
    now = datetime(2024, 1, 2, tzinfo=UTC)
    demo: list[DemoProject] = []
    rows: list[dict[str, Any]] = []
    for n in range(PROJECT_COUNT):
        sector = rng.choices(sectors, sector_weights)[0]
        district = rng.choice(list(DISTRICTS))
        district_name, communes = DISTRICTS[district]
        province_level = sector in ("site_clearance",) or rng.random() < 0.55
        if province_level:
            candidates = [code for code, _, s in PROVINCE_BOARDS if sector in s] or ["BQL-KV"]
            investor = rng.choice(candidates)
        else:
            investor = boards[district]
        a, b = rng.sample(communes, 2)
        template = rng.choice(SECTORS[sector][0])
        name = f"{template.format(a=a, b=b)}, {district_name[0].lower()}{district_name[1:]}"
        low, high = SECTORS[sector][1]
        tmdt = int(rng.uniform(low, high) * 1000) * 1_000_000
        profile = rng.choices(profiles, [p[0] for p in PROFILES.values()])[0]
        stage = "new" if profile == "not_started" or rng.random() < 0.18 else rng.choices(
            ["ongoing", "completed", "settled"], [0.78, 0.15, 0.07])[0]
        code = f"VP-{sector[:3].upper()}-{n + 1:04d}"
        watch = {"app2": tmdt >= 300 * TY and rng.random() < 0.5, "app3": stage == "ongoing" and rng.random() < 0.12}
        lead = rng.randrange(len(LEAD_OFFICIALS))
        wg = ("TCT-2" if sector == "site_clearance" else "TCT-1" if sector in ("transport", "urban", "irrigation")
              else "TCT-3")
        rows.append({
            "code": code, "name": name[:500], "investor_id": orgs[investor], "sector": sector,
            "location": district_name, "group": "B" if tmdt >= 120 * TY else "C", "stage": stage,
            "total_investment_vnd": tmdt, "decision_ref": f"{rng.randint(100, 3999)}/QĐ-UBND",
            "decision_date": date(2023 if stage != "new" else 2024, rng.randint(1, 3), rng.randint(1, 28)),
            "start_year": 2024 if stage == "new" else rng.choice([2021, 2022, 2023]),
            "end_year": rng.choice([2025, 2026]) if stage != "completed" else 2024,
            "is_key_project": watch["app2"],
            "working_group_id": groups[wg] if (watch["app2"] or watch["app3"] or rng.random() < 0.3) else None,
            "status": "active", "version": 1, "created_at": now, "updated_at": now,
        })
        level = "province" if province_level else "district"
        holder = orgs["UBND-VP"] if province_level else orgs[f"UBND-{district}"]
        demo.append(DemoProject(0, code, sector, orgs[investor], level, "", profile, stage, tmdt=tmdt,
                                watch_lists=tuple(k for k, on in watch.items() if on), lead=lead,
                                holder_id=holder, province_id=orgs["UBND-VP"], sector_group_id=groups[wg]))
    ids = (await session.scalars(insert(Project).returning(Project.id), rows)).all()
    for project, project_id in zip(demo, sorted(ids), strict=True):
        project.id = project_id
    # Each project's investor history starts with the investor it is registered with (registry.investors).
    await session.execute(insert(ProjectInvestor), [
        {"project_id": p.id, "investor_id": p.investor_id, "effective_from": None, "known_on": now.date(),
         "created_at": now} for p in demo])
    return demo


def _assign_sources(rng: random.Random, projects: list[DemoProject]) -> None:
    big = sorted((p for p in projects if p.budget_level == "province" and p.stage != "new"), key=lambda p: -p.tmdt)
    central = {p.code for p in big[:18]}
    for p in projects:
        if p.code in central:
            p.source = "central"
        elif p.sector in ("education", "health") and rng.random() < 0.3:
            p.source = "lottery"
        elif p.sector in ("site_clearance", "urban") or rng.random() < 0.35:
            p.source = "land_use"
        else:
            p.source = "local_borrowing" if rng.random() < 0.05 else "local_balanced"


def _plans(rng: random.Random, projects: list[DemoProject]) -> None:
    central = [p for p in projects if p.source == "central"]
    local = [p for p in projects if p.source != "central"]
    for group, total in ((central, PLAN_2024_CENTRAL), (local, PLAN_2024_LOCAL)):
        weights = [p.tmdt * rng.uniform(0.15, 0.45) for p in group]
        for p, amount in zip(group, _split(rng, total, weights), strict=True):
            p.plan_2024 = amount
    old = [p for p in projects if p.stage != "new"]
    for p, amount in zip(old, _split(rng, PLAN_2023, [p.tmdt * rng.uniform(0.2, 0.4) for p in old]), strict=True):
        p.plan_2023 = amount
    able = [p for p in projects if p.profile == "fast" or (p.profile == "normal" and p.stage == "completed")]
    picked = rng.sample(able, min(110, len(able)))
    for p, amount in zip(picked, _split(rng, TRANCHE_3, [p.plan_2024 for p in picked]), strict=True):
        p.tranche_3 = amount
    for p in projects:
        p.tmdt = max(p.tmdt, (p.plan_2023 + p.plan_2024 + p.tranche_3) * 5 // 4 // 1_000_000 * 1_000_000)


def _allocation_rows(rng: random.Random, projects: list[DemoProject]) -> list[dict]:
    rows = []

    def add(p: DemoProject, year: int, kind: str, amount: int, number: str, decided: date, tranche: int | None,
            pool: dict[str, Any] | None = None) -> None:
        pool = pool or p.pool()
        rows.append({
            "project_id": p.id, "plan_year": year, **pool, "kind": kind,
            "amount_vnd": amount, "tranche": tranche, "decision_number": number, "decision_date": decided,
            "authority": "UBND tỉnh Vĩnh Phúc" if pool["budget_holder_id"] == p.province_id else "UBND cấp huyện",
            "extended_until": None, "known_on": decided, "created_at": _stamp(decided),
        })

    for p in projects:
        if p.plan_2023:
            add(p, 2023, "initial", p.plan_2023, "3310/QĐ-UBND", date(2023, 1, 4), 1)
        if p.plan_2024:
            second = p.plan_2024 * rng.choice([0, 0, 0, 15, 25]) // 100 // 1_000_000 * 1_000_000
            add(p, 2024, "initial", p.plan_2024 - second, "45/QĐ-UBND", date(2024, 1, 5), 1)
            if second:
                add(p, 2024, "supplement", second, "1386/QĐ-UBND", date(2024, 6, 20), 2)
        if p.tranche_3:
            add(p, 2024, "supplement", p.tranche_3, "2378/QĐ-UBND", date(2024, 10, 8), 3, p.tranche_pool())
    return rows


def _targets_2024(rng: random.Random, projects: list[DemoProject]) -> dict[int, float]:
    """Each project's disbursed share of plan at 30/09/2024, scaled so the province hits ≈ 3,998 tỷ."""
    raw = {p.id: min(0.95, CURVE[9] * PROFILES[p.profile][1] * rng.uniform(*SPREAD.get(p.profile, (0.8, 1.2))))
           for p in projects}
    for _ in range(6):  # rescale, respecting the 95% cap, until the total matches
        total = sum(raw[p.id] * p.plan_2024 for p in projects)
        factor = DISBURSED_2024_SEP30 / total
        raw = {pid: min(0.95, share * factor) for pid, share in raw.items()}
    return raw


def _disbursement_rows(rng: random.Random, projects: list[DemoProject]) -> list[dict]:
    rows: list[dict] = []
    shares_2024 = _targets_2024(rng, projects)
    for p in projects:
        seq = [0]

        def emit(year: int, kind: str, amount: int, recovered: int, day: date, advance_kind: str | None,
                 p=p, seq=seq) -> None:
            seq[0] += 1
            rows.append({
                "project_id": p.id, "plan_year": year, **p.pool(),
                "kind": kind, "advance_kind": advance_kind, "contract_id": None, "amount_vnd": amount,
                "advance_recovered_vnd": recovered, "net_vnd": amount - recovered, "value_date": day,
                "document_number": f"KB-VP-{year}-{p.id:04d}-{seq[0]:03d}", "reverses_id": None, "note": None,
                "known_on": day, "created_at": _stamp(day),
            })

        if p.plan_2023:
            # Same province outcome (≈96.9%), different timing: early, on-curve and late spenders, and a few
            # projects that never catch up — so a forecast made mid-year has something to get wrong.
            timing = rng.choices([0.55, 0.8, 1.0, 1.3, 1.8], [0.15, 0.2, 0.3, 0.2, 0.15])[0]
            final = rng.uniform(0.55, 0.85) if rng.random() < 0.08 else rng.uniform(0.98, 1.0)
            path = [(c / CURVE[13]) ** timing * final for c in CURVE]
            _year_path(rng, p, 2023, p.plan_2023, path, 13, date(2024, 1, 31), emit)
        if p.plan_2024:
            share = shares_2024[p.id]
            path = [min(0.95, c / CURVE[9] * share) for c in CURVE]
            months = 10
            if p.profile == "stalled":  # reached its share by April–June, nothing since
                stop = rng.choice([4, 5, 6])
                path = [min(1.0, c / CURVE[stop]) * share for c in CURVE]
            _year_path(rng, p, 2024, p.plan_2024, path, months, AS_OF - timedelta(days=1), emit)
    return rows


def _year_path(rng, p: DemoProject, year: int, plan: int, path: list[float], months: int, last_day: date,
               emit) -> None:
    """Turn a cumulative path (share of plan by month end) into an advance and payments that recover it."""
    site_clearance = p.sector == "site_clearance"
    outstanding = 0
    done = 0
    for month in range(1, months + 1):
        target = int(plan * path[month]) // 1_000_000 * 1_000_000
        if month == 10 and year == 2024:  # 1–10 October: a quarter of the month's usual progress
            target = done + (target - done) // 4 // 1_000_000 * 1_000_000
        increment = target - done
        if increment <= 0:
            continue
        y, m = (year, month) if month <= 12 else (year + 1, month - 12)
        day = _workday(rng, y, m, last_day)
        in_advance_window = month <= 12 or site_clearance
        if site_clearance and in_advance_window:
            emit(year, "advance", increment, 0, day, "site_clearance")
            outstanding += increment
            if month % 3 == 0 and outstanding:
                settle = outstanding * 7 // 10 // 1_000_000 * 1_000_000
                if settle:
                    emit(year, "clearance", settle, settle, min(day + timedelta(days=1), last_day), None)
                    outstanding -= settle
        elif done == 0 and month <= 12 and increment > plan // 10:
            emit(year, "advance", increment, 0, day, "other")  # R4a: no contract here, so not a contract advance
            outstanding += increment
        else:
            recover = min(outstanding, increment // 3 // 1_000_000 * 1_000_000)
            if month >= 12:
                recover = outstanding  # work accepted at year end recovers what is left
            emit(year, "payment", increment + recover, recover, day, None)
            outstanding -= recover
        done = target


# Tables the demo writes with explicit ids (a schedule's months and an obstacle's history refer to them).
EXPLICIT_ID_TABLES = ("disbursement_schedules", "obstacles")


async def _advance_sequences(session: AsyncSession) -> None:
    """On PostgreSQL an explicit id does not move the id sequence: move it past the demo's rows, or the first
    obstacle or schedule written through the API would collide with one of them."""
    if dialect_name(session) != "postgresql":
        return
    for table in EXPLICIT_ID_TABLES:
        await session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))


async def load(session: AsyncSession, *, with_extensions: bool = True) -> DemoContext:
    """Load the whole demo province into an empty database (one transaction)."""
    if await session.scalar(select(Project.id).limit(1)) is not None:
        raise RuntimeError("the database already holds projects; the demo loads into an empty database")
    rng = random.Random(SEED)
    orgs, boards = await _organisations(session)
    groups = {}
    for code, name, _, _ in WORKING_GROUPS:  # their leaders and members: app.demo.programme
        wg = WorkingGroup(code=code, name=name)
        session.add(wg)
        await session.flush()
        groups[code] = wg.id
    projects = await _projects(session, rng, orgs, boards, groups)
    _assign_sources(rng, projects)
    _plans(rng, projects)
    await session.execute(update(Project), [{"id": p.id, "total_investment_vnd": p.tmdt,
                                             "group": "B" if p.tmdt >= 120 * TY else "C"} for p in projects])
    allocations = _allocation_rows(rng, projects)
    plans.mark_added(allocations)  # R1b
    advances = plans.next_year_advance_rows(projects)  # R1a ứng trước
    await session.execute(insert(AllocationEntry), allocations + advances)
    await session.execute(insert(MediumTermEntry), plans.medium_term_rows(projects, advances))  # R1c
    await session.execute(insert(Disbursement), _disbursement_rows(rng, projects))
    context = DemoContext(as_of=AS_OF, plan_year=2024, projects=projects, organisations=orgs, working_groups=groups)
    if with_extensions:
        for name in ("app.demo.treasury", "app.demo.monitoring", "app.demo.reconciliation", "app.demo.programme"):
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            await module.load(session, rng, context)
    # R14: 2023's unspent plan extended or lapsed, after every module wrote its 2023 disbursements (advances too)
    spent = dict((await session.execute(select(Disbursement.project_id, func.sum(Disbursement.net_vnd)).where(
        Disbursement.plan_year == 2023).group_by(Disbursement.project_id))).all())
    carried, extended_payments = plans.carry_over_rows(projects, {pid: int(v) for pid, v in spent.items()})
    await session.execute(insert(AllocationEntry), carried)
    await session.execute(insert(Disbursement), extended_payments)
    await _advance_sequences(session)
    await rebuild(session)
    from app.monitoring.indicator_store import rebuild_all  # the demo bypasses the change feed: fill the store

    await rebuild_all(session, AS_OF.year)
    return context
