"""R17 inputs: monthly disbursement schedules (revisions kept), milestone curves, extra-need requests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import BudgetLevel, CapitalSource
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.errors import RuleViolation
from app.ledger import holders
from app.models import DisbursementSchedule, ExtraNeed, MilestonePoint, ScheduleMonth
from app.monitoring.forecast import deadline_for


async def register_schedule(
    session: AsyncSession,
    project_id: int,
    plan_year: int,
    months: dict[int, int],
    note: str | None,
    today: date,
    key_id: int | None,
) -> DisbursementSchedule:
    """R17: a new revision becomes current; earlier revisions (the first above all) stay readable."""
    if not months or any(not 1 <= m <= 13 for m in months):
        raise RuleViolation(
            "invalid_schedule_month",
            "Months are 1–12 of the plan year and 13 for January of the next year (the payment window).",
            pointer="/months",
        )
    last = await session.scalar(
        select(func.max(DisbursementSchedule.revision)).where(
            DisbursementSchedule.project_id == project_id, DisbursementSchedule.plan_year == plan_year
        )
    )
    await session.execute(
        update(DisbursementSchedule)
        .where(
            DisbursementSchedule.project_id == project_id,
            DisbursementSchedule.plan_year == plan_year,
            DisbursementSchedule.is_current.is_(True),
        )
        .values(is_current=False)
    )
    schedule = DisbursementSchedule(
        project_id=project_id,
        plan_year=plan_year,
        revision=(last or 0) + 1,
        is_current=True,
        total_vnd=sum(months.values()),
        note=note,
        known_on=today,
        created_at=utcnow(),
        created_by_key_id=key_id,
    )
    session.add(schedule)
    await session.flush()
    session.add_all([ScheduleMonth(schedule_id=schedule.id, month=m, amount_vnd=a) for m, a in sorted(months.items())])
    await session.flush()
    events.emit(
        session,
        "schedule.registered",
        "disbursement_schedule",
        schedule.id,
        {
            "id": schedule.id,
            "project_id": project_id,
            "plan_year": plan_year,
            "revision": schedule.revision,
            "total_vnd": schedule.total_vnd,
        },
        project_id=project_id,
        known_on=today,
    )
    return schedule


async def schedule_months(session: AsyncSession, schedule_ids: list[int]) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = {i: {} for i in schedule_ids}
    if schedule_ids:
        rows = await session.execute(
            select(ScheduleMonth.schedule_id, ScheduleMonth.month, ScheduleMonth.amount_vnd).where(
                ScheduleMonth.schedule_id.in_(schedule_ids)
            )
        )
        for sid, month, amount in rows.all():
            out[sid][month] = int(amount)
    return out


async def list_schedules(
    session: AsyncSession, project_id: int, plan_year: int | None, after: int, limit: int
) -> list[DisbursementSchedule]:
    query = select(DisbursementSchedule).where(
        DisbursementSchedule.project_id == project_id, DisbursementSchedule.id > after
    )
    if plan_year is not None:
        query = query.where(DisbursementSchedule.plan_year == plan_year)
    return list((await session.scalars(query.order_by(DisbursementSchedule.id).limit(limit))).all())


async def milestone_points(session: AsyncSession, plan_year: int) -> tuple[list[tuple[date, float]], bool]:
    """The curve the flags use (`indicators.milestone_curve`) and whether it is the default: the province's own
    previous-year shape brought to 95% at the deadline (R18), the national one without history."""
    from app.monitoring.indicators import milestone_curve  # indicators reads schedules' tables: import at use

    is_default = await session.scalar(select(MilestonePoint.plan_year).where(MilestonePoint.plan_year == plan_year)
                                      .limit(1)) is None
    curve = await milestone_curve(session, plan_year)
    return [(p.on(plan_year), p.fraction) for p in curve.points], is_default


async def set_milestones(session: AsyncSession, plan_year: int, points: list[tuple[date, float]]) -> None:
    dates = [d for d, _ in points]
    fractions = [f for _, f in points]
    if (
        dates != sorted(set(dates))
        or fractions != sorted(fractions)
        or any(
            not date(plan_year, 1, 1) <= d <= deadline_for(plan_year) + (date(2001, 12, 31) - date(2001, 1, 31))
            for d in dates
        )
    ):
        raise RuleViolation(
            "invalid_milestone_curve",
            "Points must have increasing dates within the plan year "
            "(or the following year) and non-decreasing targets.",
            pointer="/points",
        )
    await session.execute(delete(MilestonePoint).where(MilestonePoint.plan_year == plan_year))
    now = utcnow()
    session.add_all(
        [MilestonePoint(plan_year=plan_year, on_date=d, target_fraction=f, updated_at=now) for d, f in points]
    )
    await session.flush()
    events.emit(
        session,
        "milestone_curve.set",
        "milestone_curve",
        plan_year,
        {"plan_year": plan_year, "points": [[d.isoformat(), f] for d, f in points]},
    )


async def register_need(
    session: AsyncSession,
    project_id: int,
    plan_year: int,
    capital_source: CapitalSource,
    budget_level: BudgetLevel,
    amount_vnd: int,
    justification: str,
    spend_by: date,
    today: date,
    key_id: int | None,
    budget_holder_id: int | None = None,
) -> ExtraNeed:
    if spend_by < today:
        raise RuleViolation(
            "spend_by_in_past", "The date the capital could be spent by is already past.", pointer="/spend_by"
        )
    need = ExtraNeed(
        project_id=project_id,
        plan_year=plan_year,
        capital_source=capital_source,
        budget_level=budget_level,
        budget_holder_id=await holders.resolve_one(session, project_id, budget_level, budget_holder_id),
        amount_vnd=amount_vnd,
        justification=justification,
        spend_by=spend_by,
        status="registered",
        known_on=today,
        created_at=utcnow(),
        created_by_key_id=key_id,
    )
    session.add(need)
    await session.flush()
    events.emit(
        session,
        "extra_need.registered",
        "extra_need",
        need.id,
        {
            "id": need.id,
            "project_id": project_id,
            "plan_year": plan_year,
            "amount_vnd": amount_vnd,
            "spend_by": spend_by.isoformat(),
        },
        project_id=project_id,
        known_on=today,
    )
    return need


async def list_needs(
    session: AsyncSession, *, project_id: int | None, plan_year: int | None, after: int, limit: int
) -> list[ExtraNeed]:
    query = select(ExtraNeed).where(ExtraNeed.id > after)
    if project_id is not None:
        query = query.where(ExtraNeed.project_id == project_id)
    if plan_year is not None:
        query = query.where(ExtraNeed.plan_year == plan_year)
    return list((await session.scalars(query.order_by(ExtraNeed.id).limit(limit))).all())
