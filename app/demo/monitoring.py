"""Demo monitoring data (R17–R19): schedules, milestone curves, extra needs above đợt 3, open obstacles.

Called by `app.demo.province.load` with its random generator and context, in the same transaction. As of
2024-10-11 the province then shows slow, stalled, at-risk and absorbing projects, registered needs
exceeding the third tranche (≈1,000 tỷ), overdue obstacles, and a reallocation proposal a planner can run.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DisbursementSchedule, ExtraNeed, Obstacle, ObstacleChange, ScheduleMonth

TY = 1_000_000_000
# Owners' schedules are a little optimistic: the province's own shape a few points ahead, all of it by December
# (cumulative, month end; the 2023 shape is ≈ 53% at the end of September).
SCHEDULE_SHAPE = [0.04, 0.08, 0.14, 0.20, 0.27, 0.35, 0.42, 0.49, 0.57, 0.65, 0.75, 0.90, 1.0]
NEED_TARGET_VND = 1_500 * TY  # above the third tranche (đợt 3, ≈1,000 tỷ): needs left for a reallocation
CATEGORIES = [
    "site_clearance",
    "site_clearance",
    "fill_earth_dump_sites",
    "procedures",
    "capital",
    "contractor_capacity",
    "other",
]
TITLES = {
    "site_clearance": "Vướng mặt bằng: hộ dân chưa nhận tiền bồi thường",
    "fill_earth_dump_sites": "Thiếu nguồn đất đắp và bãi đổ thải",
    "procedures": "Chậm thủ tục điều chỉnh dự án",
    "capital": "Thiếu vốn đối ứng",
    "contractor_capacity": "Nhà thầu thi công chậm, thiếu nhân lực",
    "other": "Vướng mắc khác",
}


def _stamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def load(session: AsyncSession, rng: random.Random, context: Any) -> None:
    as_of: date = context.as_of
    year: int = context.plan_year
    # No milestone rows: R18's default (the province's own previous-year shape at 95%) applies.

    projects = [p for p in context.projects if p.plan_2024 > 0]
    # Schedules: most projects register one in February; some revise it in July (the first stays visible).
    schedule_rows, revisions = [], []
    for p in projects:
        if rng.random() < 0.12:
            continue  # no schedule: flagged no_schedule
        schedule_rows.append((p, 1, date(year, 2, rng.randint(5, 28))))
        if rng.random() < 0.25:
            revisions.append((p, 2, date(year, 7, rng.randint(1, 25))))
    next_id = (
        await session.scalar(select(DisbursementSchedule.id).order_by(DisbursementSchedule.id.desc()).limit(1))
    ) or 0
    heads, months = [], []
    all_rows = schedule_rows + revisions
    revised = {p.id for p, _, _ in revisions}
    for p, revision, known in all_rows:
        next_id += 1
        stretch = 1.0 if revision == 1 else rng.uniform(0.75, 0.95)  # revisions move work later
        cumulative = [min(1.0, f * stretch) if m < 12 else 1.0 for m, f in enumerate(SCHEDULE_SHAPE)]
        amounts, before = [], 0
        for f in cumulative:
            value = int(p.plan_2024 * f) // 1_000_000 * 1_000_000
            amounts.append(value - before)
            before = value
        heads.append(
            {
                "id": next_id,
                "project_id": p.id,
                "plan_year": year,
                "revision": revision,
                "is_current": revision == 2 or p.id not in revised,
                "total_vnd": before,
                "note": None,
                "known_on": known,
                "created_at": _stamp(known),
                "created_by_key_id": None,
            }
        )
        months += [{"schedule_id": next_id, "month": m, "amount_vnd": a} for m, a in enumerate(amounts, 1) if a]
    if heads:
        await session.execute(insert(DisbursementSchedule), heads)
        await session.execute(insert(ScheduleMonth), months)

    # Extra needs (nhu cầu bổ sung vốn). The third tranche answered registered needs: each recipient registered
    # one of at least its share between 20/08 and 04/10 (before the decision of 08/10), so R18 counts the fresh
    # capital as backed. Other fast and completed/settled projects registered more, above đợt 3 in total.
    recipients = [p for p in projects if p.tranche_3 > 0]
    others = [p for p in projects if p.tranche_3 == 0 and (p.profile == "fast" or p.stage in ("completed", "settled"))]
    rng.shuffle(others)
    needs, total = [], 0

    def need(p: Any, amount: int, known: date) -> None:
        needs.append(
            {
                "project_id": p.id,
                "plan_year": year,
                **p.pool(),
                "amount_vnd": amount,
                "justification": "Khối lượng hoàn thành đã nghiệm thu, chờ bố trí vốn thanh toán",
                "spend_by": date(year, 12, rng.choice((15, 20, 31))),
                "status": "registered",
                "known_on": known,
                "withdrawn_on": None,
                "created_at": _stamp(known),
                "created_by_key_id": None,
            }
        )

    for p in recipients:
        amount = -(-int(p.tranche_3 * rng.uniform(1.0, 1.2)) // TY) * TY  # whole tỷ, at least the tranche share
        need(p, amount, date(year, 8, 20) + timedelta(days=rng.randint(0, 45)))
        total += amount
    for p in others:
        if total >= NEED_TARGET_VND:
            break
        amount = max(1, int(p.plan_2024 * rng.uniform(0.25, 0.6)) // TY) * TY
        need(p, amount, as_of - timedelta(days=rng.randint(3, 40)))
        total += amount
    if needs:
        await session.execute(insert(ExtraNeed), needs)

    # Obstacles on slow and stalled projects; about a third past their deadline.
    next_obstacle = (await session.scalar(select(Obstacle.id).order_by(Obstacle.id.desc()).limit(1))) or 0
    obstacles, history = [], []
    for p in projects:
        if p.profile not in ("slow", "stalled", "not_started") or rng.random() < 0.3:
            continue
        next_obstacle += 1
        category = rng.choice(CATEGORIES)
        opened = date(year, rng.randint(3, 9), rng.randint(1, 28))
        deadline = opened + timedelta(days=rng.choice((30, 45, 60, 90, 120, 180)))
        status = "in_progress" if rng.random() < 0.4 else "open"
        row = {
            "id": next_obstacle,
            "project_id": p.id,
            "category": category,
            "title": TITLES[category],
            "description": None,
            "responsible_organisation_id": p.investor_id,
            "working_group_id": p.sector_group_id,  # the group following its sector (and the project, if any)
            "deadline": deadline,
            "status": status,
            "recommendation": "Đề nghị Tổ công tác đôn đốc, tháo gỡ dứt điểm",
            "opened_on": opened,
            "resolved_on": None,
            "version": 1,
            "created_at": _stamp(opened),
            "updated_at": _stamp(opened),
        }
        obstacles.append(row)
        history.append(
            {
                "obstacle_id": next_obstacle,
                "changed_on": opened,
                "changed_at": _stamp(opened),
                "key_id": None,
                "changes": {
                    k: [None, row[k].isoformat() if isinstance(row[k], date) else row[k]]
                    for k in ("category", "title", "deadline", "status")
                },
            }
        )
    if obstacles:
        await session.execute(insert(Obstacle), obstacles)
        await session.execute(insert(ObstacleChange), history)
    context.extra["monitoring"] = {
        "schedules": len(heads),
        "extra_needs": len(needs),
        "extra_need_total_vnd": total,
        "obstacles": len(obstacles),
    }
