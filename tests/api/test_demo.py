"""The demo province matches DOMAIN.md §6 figures and obeys the ledger's caps."""

from __future__ import annotations

from datetime import date

from pytest import approx
from sqlalchemy import func, select

from app.demo import province
from app.enums import AllocationKind
from app.kernel.db import session_scope
from app.ledger.balances import pool_figures
from app.ledger.verify import check_all as verify
from app.models import AllocationEntry, Disbursement, Project
from tests.conftest import truncate_all

TY = 1_000_000_000


async def test_demo_province_figures_and_invariants():
    async with session_scope() as session:
        context = await province.load(session)
    assert 600 <= len(context.projects) <= 900
    async with session_scope() as session:
        sep30 = await pool_figures(session, plan_year=2024, as_of=date(2024, 9, 30))
        plan = sum(f.plan_vnd for f in sep30.values())
        disbursed = sum(f.disbursed_vnd for f in sep30.values())
        assert abs(plan - 7_895 * TY) <= 0.02 * 7_895 * TY
        assert abs(disbursed - 3_998 * TY) <= 0.02 * 3_998 * TY
        central = sum(f.plan_vnd for k, f in sep30.items() if k.capital_source == "central")
        assert abs(central - 443 * TY) <= 0.02 * 443 * TY
        now = await pool_figures(session, plan_year=2024)
        advanced = await session.scalar(select(func.sum(AllocationEntry.amount_vnd)).where(
            AllocationEntry.kind == AllocationKind.next_year_advance))  # R1a ứng trước, decided on 02/10/2024
        assert advanced and advanced > 0
        tranche_3 = sum(f.plan_vnd for f in now.values()) - plan - advanced
        assert abs(tranche_3 - 1_000 * TY) <= 0.02 * 1_000 * TY
        # R14: 2023's unspent plan was extended (ongoing projects) or lapsed (the others), and extended capital
        # was spent in 2024 within its window
        kinds = dict((await session.execute(select(AllocationEntry.kind, func.count()).where(
            AllocationEntry.plan_year == 2023).group_by(AllocationEntry.kind))).all())
        assert kinds[AllocationKind.extension] > 0 and kinds[AllocationKind.lapse] > 0
        late = await session.scalar(select(func.sum(Disbursement.net_vnd)).where(
            Disbursement.plan_year == 2023, Disbursement.value_date > date(2024, 1, 31)))
        assert late and late > 0
        final_2023 = await pool_figures(session, plan_year=2023, as_of=date(2024, 1, 31))
        rate_2023 = sum(f.disbursed_vnd for f in final_2023.values()) / sum(f.plan_vnd for f in final_2023.values())
        assert 0.95 <= rate_2023 <= 0.99
        # R1 in every pool, R2 for every project, and balances equal to the ledger.
        assert all(f.disbursed_vnd <= f.plan_vnd for f in now.values())
        assert await verify(session) == []
        assert await session.scalar(select(func.count()).select_from(Disbursement)) > 10_000
        assert await session.scalar(select(func.max(Disbursement.value_date))) < date(2024, 10, 11)
        locations = set((await session.scalars(select(Project.location).distinct())).all())
        assert len(locations) == 9


async def test_demo_is_deterministic():
    async with session_scope() as session:
        first = await province.load(session, with_extensions=False)
    await truncate_all()
    async with session_scope() as session:
        second = await province.load(session, with_extensions=False)
    assert [(p.code, p.plan_2024, p.tmdt) for p in second.projects] == [
        (p.code, p.plan_2024, p.tmdt) for p in first.projects]


async def test_r17_forecasts_use_the_provinces_own_previous_year_shape():
    from app.monitoring.forecast import DEFAULT_SEASONAL_CURVE
    from app.monitoring.indicators import seasonal_curve

    async with session_scope() as session:
        await province.load(session, with_extensions=False)
        own = await seasonal_curve(session, 2024)
        none_before = await seasonal_curve(session, 2023)  # no 2022 in the ledger
    assert none_before is DEFAULT_SEASONAL_CURVE
    assert 0.95 <= own.final <= 0.99  # the demo's 2023 outcome at 31/01/2024, not the national 90%
    assert own.fraction_at(date(2023, 6, 30), 2023) < own.fraction_at(date(2023, 9, 30), 2023) < own.final


async def test_backtest_scores_the_at_risk_flag_against_the_real_outcome():
    from collections import defaultdict

    from app.monitoring.backtest import backtest

    async with session_scope() as session:
        await province.load(session, with_extensions=False)
        result = await backtest(session, 2023)
        final = await pool_figures(session, plan_year=2023, as_of=date(2024, 1, 31))
    plans: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for key, figures in final.items():
        plans[key.project_id][0] += figures.plan_vnd
        plans[key.project_id][1] += figures.disbursed_vnd
    # By hand: the projects whose 31/01/2024 outcome is below 95% of their plan.
    below = sum(1 for plan, disbursed in plans.values() if plan > 0 and disbursed < 0.95 * plan)
    for cut in result["cutoffs"]:
        risk = cut["at_risk"]
        assert risk["ended_below_target"] == below > 0
        assert 0 < risk["precision"] <= 1 and 0 < risk["recall"] <= 1
        assert risk["flagged"] * risk["precision"] == approx(below * risk["recall"], abs=1)  # both count the hits


async def test_demo_r1_budget_holders_and_r19_no_transfer_across_them(client):
    """R1: district-level capital is held by the project's own district government; the third tranche (đợt 3, local
    capital decided by the province) sits entirely in local pools held by the province's people's committee.
    R19: a proposal drafted through the API as of 11/10/2024 moves nothing across budget holders."""
    from app.enums import Role
    from app.models import AllocationEntry, Organisation, PoolBalance
    from app.registry import organisations

    async with session_scope() as session:
        await province.load(session)
        orgs = {o.id: o for o in await session.scalars(select(Organisation))}
        investor = dict((await session.execute(select(Project.id, Project.investor_id))).all())
        planner = next(o.id for o in orgs.values() if o.code == "SKHDT")
        _, key = await organisations.create_api_key(session, organisation_id=planner, role=Role.planner, name="t")
        province_id = next(o.id for o in orgs.values() if o.code == "UBND-VP")
        tranche = (await session.execute(select(AllocationEntry.capital_source, AllocationEntry.budget_level,
                                                AllocationEntry.budget_holder_id, func.sum(AllocationEntry.amount_vnd))
                                         .where(AllocationEntry.tranche == 3)
                                         .group_by(AllocationEntry.capital_source, AllocationEntry.budget_level,
                                                   AllocationEntry.budget_holder_id))).all()
        assert {(level, holder) for _, level, holder, _ in tranche} == {("province", province_id)}
        assert "central" not in {source for source, *_ in tranche}
        assert abs(sum(amount for *_, amount in tranche) - 1_000 * TY) <= 0.02 * 1_000 * TY
        pools = {(p.project_id, p.capital_source.value, p.budget_level.value, p.budget_holder_id)
                 for p in await session.scalars(select(PoolBalance).where(PoolBalance.plan_year == 2024))}
    for pid, _, level, holder in pools:
        if level == "district":  # the district government above the project's board
            assert orgs[holder].kind.value == "district" and orgs[investor[pid]].parent_id == holder
    response = await client.post("/api/v1/reallocation-proposals", json={"plan_year": 2024, "as_of": "2024-10-11"},
                                 headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.text
    transfers = response.json()["transfers"]
    district = [t for t in transfers if t["budget_level"] == "district"]
    assert len(district) > 10  # district budgets do move — inside each district
    across = [t for t in transfers if not all(
        (pid, t["capital_source"], t["budget_level"], t["budget_holder_id"]) in pools
        for pid in (t["donor_project_id"], t["recipient_project_id"]))]
    assert across == []
    assert {orgs[investor[t["donor_project_id"]]].parent_id == orgs[investor[t["recipient_project_id"]]].parent_id
            for t in district} == {True}


async def test_r18_demo_flags_single_out_the_laggards_and_spare_the_third_tranche(client):
    """R18 on the demo as of 11/10/2024 through the API: at most a quarter of the projects are "slow" (alert
    fatigue was 471 of 780), at most a tenth of the third tranche's recipients are "at risk" three days after it
    landed (their registered needs back it), and a reallocation drafted then takes nothing back from them."""
    from app.enums import Role
    from app.models import AllocationEntry, Organisation
    from app.registry import organisations

    async with session_scope() as session:
        await province.load(session)
        planner = await session.scalar(select(Organisation.id).where(Organisation.code == "SKHDT"))
        _, key = await organisations.create_api_key(session, organisation_id=planner, role=Role.planner, name="t")
        recipients = set(await session.scalars(select(AllocationEntry.project_id).where(AllocationEntry.tranche == 3)))
    headers = {"Authorization": f"Bearer {key}"}
    items, token = [], None
    while True:
        params = {"plan_year": 2024, "as_of": "2024-10-11", "page_size": 500} | ({"page_token": token} if token else {})
        page = (await client.get("/api/v1/indicators", params=params, headers=headers)).json()
        items += page["items"]
        if not (token := page.get("next_page_token")):
            break
    flagged = {code: {i["project_id"] for i in items if code in {f["code"] for f in i["flags"]}}
               for code in ("slow", "at_risk")}
    assert len(items) == 780 and len(flagged["slow"]) <= 0.25 * len(items)
    assert len(recipients) == 110 and len(flagged["at_risk"] & recipients) <= 0.10 * len(recipients)
    proposal = await client.post("/api/v1/reallocation-proposals", json={"plan_year": 2024, "as_of": "2024-10-11"},
                                 headers=headers)
    assert proposal.status_code == 201, proposal.text
    assert {t["donor_project_id"] for t in proposal.json()["transfers"]} & recipients == set()


async def test_after_the_demo_an_owner_writes_obstacles_and_schedules(client):
    """The demo writes obstacles and schedules with explicit ids; on PostgreSQL their sequences must move past them
    (the first obstacle written through the API collided with demo obstacle 1)."""
    from app.enums import Role
    from app.models import Obstacle
    from app.registry import organisations

    async with session_scope() as session:
        context = await province.load(session)
        project = context.projects[0]
        _, key = await organisations.create_api_key(session, organisation_id=project.investor_id, role=Role.owner,
                                                    name="t")
        group = next(iter(context.working_groups.values()))
        before = await session.scalar(select(func.max(Obstacle.id)))
        # the demo's obstacles sit with their project's working group (they were assigned by id % 3)
        pairs = (await session.execute(select(Obstacle.working_group_id, Project.working_group_id).join(
            Project, Project.id == Obstacle.project_id).where(Project.working_group_id.is_not(None)))).all()
        assert pairs and all(mine == theirs for mine, theirs in pairs)
    owner = {"Authorization": f"Bearer {key}"}
    obstacle = await client.post(f"/api/v1/projects/{project.id}/obstacles", headers=owner, json={
        "category": "site_clearance", "title": "Vướng GPMB 3 hộ", "working_group_id": group,
        "responsible_organisation_id": project.investor_id, "deadline": "2024-11-15"})
    assert obstacle.status_code == 201, obstacle.text
    assert obstacle.json()["id"] > before
    schedule = await client.post(f"/api/v1/projects/{project.id}/schedules", headers=owner,
                                 json={"plan_year": 2024, "months": [{"month": 12, "amount_vnd": TY}]})
    assert schedule.status_code == 201, schedule.text
