"""The action programme's follow-up in the demo (R21): fictional people and the 3 working groups, the three
appendices as watch-lists set on the programme's date, Appendix 1's non-budget projects (industrial parks, social
housing, an urban area) with their obstacles and the agencies unblocking them, lead officials (some replaced in
August), physical progress at each quarter's end and milestones (start, completion, inauguration).

Deterministic, with its own random stream, so the province's figures do not move.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.names import (
    DISTRICTS,
    LEAD_OFFICIALS,
    NON_BUDGET_PROJECTS,
    PROGRAMME,
    PROGRAMME_DUTY,
    PROGRAMME_LISTS,
    WORKING_GROUPS,
)
from app.demo.province import TY, DemoContext
from app.enums import OrganisationKind
from app.models import (
    MilestoneReport,
    Obstacle,
    ObstacleChange,
    Organisation,
    Person,
    ProgressReport,
    Project,
    ProjectLead,
    WatchList,
    WatchListChange,
    WorkingGroupChange,
)

PROGRAMME_DAY = date(2024, 10, 11)  # the programme's date in the seed (and the demo's business date)
GROUPS_SINCE = date(2024, 1, 2)
LEADS_CHANGED = date(2024, 8, 1)
QUARTER_ENDS = (date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30))
AGENCIES = [("BQL-KCN", "Ban Quản lý các khu công nghiệp tỉnh Vĩnh Phúc"),
            ("STNMT", "Sở Tài nguyên và Môi trường tỉnh Vĩnh Phúc"), ("SXD", "Sở Xây dựng tỉnh Vĩnh Phúc")]
# Appendix 1's obstacles: (title, category, agency code or "district", recommendation)
NON_BUDGET_OBSTACLES = [
    ("Chưa hoàn thành bồi thường, GPMB phần diện tích còn lại", "site_clearance", "district",
     "Đề nghị UBND huyện tập trung GPMB, bàn giao mặt bằng cho nhà đầu tư"),
    ("Chậm giao đất, cho thuê đất theo Luật Đất đai 2024", "procedures", "STNMT",
     "Đề nghị Sở Tài nguyên và Môi trường hướng dẫn thủ tục giao đất theo quy định mới"),
    ("Thiếu nguồn đất đắp san nền", "fill_earth_dump_sites", "STNMT",
     "Đề nghị khoanh định và đấu giá mỏ đất san lấp"),
    ("Chậm điều chỉnh quy hoạch chi tiết 1/500", "procedures", "SXD",
     "Đề nghị Sở Xây dựng thẩm định điều chỉnh quy hoạch"),
]


def _stamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def _add(session: AsyncSession, row):
    session.add(row)
    await session.flush()
    return row


async def load(session: AsyncSession, province_rng: random.Random, context: DemoContext) -> None:
    """`province_rng` is left alone: this loader draws from its own stream."""
    rng = random.Random(20241011_21)
    orgs = dict(context.organisations)
    for code, name in AGENCIES:
        orgs[code] = (await _add(session, Organisation(code=code, name=name, kind=OrganisationKind.department,
                                                       parent_id=orgs["UBND-VP"], valid_from=date(2008, 8, 1),
                                                       created_at=_stamp(GROUPS_SINCE)))).id
    leads = [await _add(session, Person(full_name=name, title=title, organisation_id=orgs.get(org) if org else None,
                                        created_at=_stamp(GROUPS_SINCE))) for title, name, org in LEAD_OFFICIALS]
    for code, _, leader, others in WORKING_GROUPS:
        group = context.working_groups[code]
        session.add(WorkingGroupChange(working_group_id=group, person_id=leads[leader].id, action="join",
                                       role="leader", effective_on=GROUPS_SINCE, recorded_at=_stamp(GROUPS_SINCE)))
        for n, (title, name, org) in enumerate(others):
            member = await _add(session, Person(full_name=name, title=title, created_at=_stamp(GROUPS_SINCE),
                                                organisation_id=orgs.get(org) if org else None))
            session.add(WorkingGroupChange(working_group_id=group, person_id=member.id, action="join",
                                           role="deputy" if n == 0 else "member", effective_on=GROUPS_SINCE,
                                           recorded_at=_stamp(GROUPS_SINCE)))
    lists = {code: await _add(session, WatchList(
        code=code, name=name, decision_ref=f"{PROGRAMME}, Phụ lục số {n}", decided_on=PROGRAMME_DAY,
        project_funding=funding, reporter="Các sở, ban, ngành, UBND các huyện, thành phố, chủ đầu tư",
        report_frequency="ad_hoc", report_to_organisation_id=orgs["SKHDT"], report_duty=PROGRAMME_DUTY,
        created_at=_stamp(PROGRAMME_DAY))) for n, (code, name, funding) in enumerate(PROGRAMME_LISTS, start=1)}
    non_budget = await _non_budget_projects(session, rng, orgs, leads)
    members = [(p.id, code) for p in context.projects for code in p.watch_lists] + [(pid, "app1") for pid in non_budget]
    session.add_all(WatchListChange(watch_list_id=lists[code].id, project_id=pid, action="join",
                                    effective_on=PROGRAMME_DAY, decision_ref=PROGRAMME[:100],
                                    recorded_at=_stamp(PROGRAMME_DAY)) for pid, code in members)
    lead_rows = []
    for p in context.projects:
        lead_rows.append({"project_id": p.id, "person_id": leads[p.lead].id, "effective_on": GROUPS_SINCE,
                          "recorded_at": _stamp(GROUPS_SINCE)})
        if p.watch_lists and rng.random() < 0.2:  # a new lead from August: past reports keep the old one
            lead_rows.append({"project_id": p.id, "person_id": leads[(p.lead + 1) % len(leads)].id,
                              "effective_on": LEADS_CHANGED, "recorded_at": _stamp(LEADS_CHANGED)})
    await session.execute(insert(ProjectLead), lead_rows)
    await session.execute(insert(ProgressReport), _progress_rows(rng, context))
    await session.execute(insert(MilestoneReport), _milestone_rows(rng, context))
    await session.flush()


async def _non_budget_projects(session: AsyncSession, rng: random.Random, orgs: dict[str, int],
                               leads: list[Person]) -> list[int]:
    ids = []
    next_obstacle = (await session.scalar(select(func.max(Obstacle.id)))) or 0
    for n, (name, sector, district, capital_ty, investor) in enumerate(NON_BUDGET_PROJECTS, start=1):
        company = await _add(session, Organisation(code=f"NDT-{n:02d}", name=investor, kind=OrganisationKind.other,
                                                   valid_from=date(2015, 1, 1), created_at=_stamp(GROUPS_SINCE)))
        project = await _add(session, Project(
            code=f"VP-NNS-{n:03d}", name=name, investor_id=company.id, sector=sector, location=DISTRICTS[district][0],
            group="A" if capital_ty >= 1_000 else "B", stage="ongoing", total_investment_vnd=capital_ty * TY,
            decision_ref=f"{rng.randint(100, 3999)}/QĐ-UBND (chủ trương đầu tư)", decision_date=date(2022, n, 15),
            start_year=2022, end_year=rng.choice((2025, 2026)), funding="non_budget", is_key_project=False,
            working_group_id=None, status="active", version=1, created_at=_stamp(GROUPS_SINCE),
            updated_at=_stamp(GROUPS_SINCE)))
        ids.append(project.id)
        done = rng.uniform(20, 45)
        session.add_all(ProgressReport(project_id=project.id, reported_on=day, physical_pct=round(done + 3 * q, 1),
                                       recorded_at=_stamp(day)) for q, day in enumerate(QUARTER_ENDS))
        started = date(2022, rng.randint(6, 12), 15)
        session.add_all(MilestoneReport(**_milestone(project.id, milestone, planned, actual, QUARTER_ENDS[0]))
                        for milestone, planned, actual in (("start", started, started),
                                                           ("completion", date(project.end_year, 12, 31), None)))
        session.add(ProjectLead(project_id=project.id, person_id=leads[n % 2].id, effective_on=GROUPS_SINCE,
                                recorded_at=_stamp(GROUPS_SINCE)))
        for k, (title, category, agency, advice) in enumerate(rng.sample(NON_BUDGET_OBSTACLES, 2)):
            opened = date(2024, 4 + 2 * k, rng.randint(1, 28))
            responsible = orgs[f"UBND-{district}"] if agency == "district" else orgs[agency]
            next_obstacle += 1  # explicit ids, as app.demo.monitoring writes them (the sequence is not moved)
            obstacle = await _add(session, Obstacle(
                id=next_obstacle, project_id=project.id, category=category, title=title, description=None,
                responsible_organisation_id=responsible, working_group_id=None, deadline=date(2024, 12, 31),
                status="in_progress", recommendation=advice, opened_on=opened, resolved_on=None, version=1,
                created_at=_stamp(opened), updated_at=_stamp(opened)))
            session.add(ObstacleChange(obstacle_id=obstacle.id, changed_on=opened, changed_at=_stamp(opened),
                                       key_id=None, changes={"title": [None, title], "status": [None, "in_progress"]}))
    return ids


def _progress_rows(rng: random.Random, context: DemoContext) -> list[dict]:
    """Every public project's physical progress at each quarter's end, rising with its disbursement profile."""
    pace = {"fast": 1.3, "normal": 1.0, "slow": 0.6, "stalled": 0.3, "not_started": 0.0}
    rows = []
    for p in context.projects:
        if p.stage in ("completed", "settled"):
            start, gain = 100.0, 0.0
        else:
            start, gain = (0.0 if p.stage == "new" else rng.uniform(15, 60)), rng.uniform(4, 12) * pace[p.profile]
        for q, day in enumerate(QUARTER_ENDS, start=1):
            rows.append({"project_id": p.id, "reported_on": day, "physical_pct": round(min(100.0, start + gain * q), 1),
                         "note": None, "recorded_at": _stamp(day)})
    return rows


def _milestone_rows(rng: random.Random, context: DemoContext) -> list[dict]:
    """Start for every project; planned completion for those still building; inauguration for Appendix 3 (2025,
    before the provincial Party Congress), with one slip reported in September for some of them."""
    rows = []
    for p in context.projects:
        started = date(2024 if p.stage == "new" else 2022, rng.randint(1, 9), rng.randint(1, 28))
        known = QUARTER_ENDS[0] if started <= QUARTER_ENDS[0] else QUARTER_ENDS[-1]
        rows.append(_milestone(p.id, "start", started, started if started <= known else None, known))
        if p.stage in ("new", "ongoing"):
            finish = date(2025, rng.randint(4, 8), 30) if "app3" in p.watch_lists else date(2025 + (p.tmdt > 300 * TY),
                                                                                            12, 31)
            rows.append(_milestone(p.id, "completion", finish, None, QUARTER_ENDS[0]))
            if "app3" in p.watch_lists:
                rows.append(_milestone(p.id, "inauguration", date(2025, 9, rng.randint(1, 20)), None, QUARTER_ENDS[0]))
                if rng.random() < 0.3:  # a slip reported at the end of September
                    rows.append(_milestone(p.id, "completion", date(2025, 8, 31), None, QUARTER_ENDS[-1]))
    return rows


def _milestone(project_id: int, milestone: str, planned: date, actual: date | None, known: date) -> dict:
    return {"project_id": project_id, "milestone": milestone, "planned_on": planned, "actual_on": actual,
            "reported_on": known, "note": None, "recorded_at": _stamp(known)}
