"""Obstacles (khó khăn, vướng mắc) per project, with history; overdue obstacles per working group."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import NotFound, PreconditionFailed, RuleViolation, UnknownReference
from app.models import Obstacle, ObstacleChange, Organisation, WorkingGroup


class ObstacleCategory(StrEnum):
    site_clearance = "site_clearance"  # GPMB
    fill_earth_dump_sites = "fill_earth_dump_sites"  # đất đắp, bãi đổ thải
    procedures = "procedures"  # thủ tục
    capital = "capital"  # vốn
    contractor_capacity = "contractor_capacity"  # năng lực nhà thầu
    other = "other"


class ObstacleStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    resolved = "resolved"


TRACKED = (
    "category",
    "title",
    "description",
    "responsible_organisation_id",
    "working_group_id",
    "deadline",
    "status",
    "recommendation",
)


def etag(o: Obstacle) -> str:
    return f'"obstacle-{o.id}-v{o.version}"'


async def _check_refs(session: AsyncSession, fields: dict[str, Any]) -> None:
    org = fields.get("responsible_organisation_id")
    if org is not None and await session.get(Organisation, org) is None:
        raise UnknownReference("reference_not_found", f"Organisation {org} does not exist.",
                               pointer="/responsible_organisation_id", resource="organisation")
    group = fields.get("working_group_id")
    if group is not None and await session.get(WorkingGroup, group) is None:
        raise UnknownReference("reference_not_found", f"Working group {group} does not exist.",
                               pointer="/working_group_id", resource="working_group")


def _raw(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value.value if isinstance(value, StrEnum) else value


async def create(
    session: AsyncSession, project_id: int, fields: dict[str, Any], today: date, key_id: int | None
) -> Obstacle:
    await _check_refs(session, fields)
    now = utcnow()
    status = fields.pop("status", None) or ObstacleStatus.open
    o = Obstacle(
        project_id=project_id,
        **{k: _raw(v) for k, v in fields.items()},
        status=_raw(status),
        opened_on=today,
        resolved_on=today if status == ObstacleStatus.resolved else None,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(o)
    await session.flush()
    session.add(
        ObstacleChange(
            obstacle_id=o.id,
            changed_on=today,
            changed_at=now,
            key_id=key_id,
            changes={k: [None, _jsonable(getattr(o, k))] for k in TRACKED if getattr(o, k) is not None},
        )
    )
    events.emit(
        session,
        "obstacle.opened",
        "obstacle",
        o.id,
        {"id": o.id, "project_id": project_id, "category": o.category, "status": o.status},
        project_id=project_id,
        known_on=today,
    )
    return o


async def get(session: AsyncSession, obstacle_id: int) -> Obstacle:
    o = await session.get(Obstacle, obstacle_id)
    if o is None:
        raise NotFound("obstacle_not_found", f"Obstacle {obstacle_id} does not exist.")
    return o


async def update(
    session: AsyncSession, o: Obstacle, if_match: str, fields: dict[str, Any], today: date, key_id: int | None
) -> Obstacle:
    locked = await lock_row(session, select(Obstacle).where(Obstacle.id == o.id))
    assert locked is not None  # obstacles are never deleted
    o = locked  # compared under the lock: of N concurrent PATCHes with one ETag exactly one wins
    if if_match != etag(o):
        raise PreconditionFailed(
            "etag_mismatch", "The obstacle changed since you read it; read it again.", current_etag=etag(o)
        )
    for name in ("category", "title", "status"):
        if name in fields and fields[name] is None:
            raise RuleViolation("field_required", f"{name} cannot be null.", pointer=f"/{name}")
    await _check_refs(session, fields)
    changes = {}
    for name, value in fields.items():
        value = _raw(value)
        if getattr(o, name) != value:
            changes[name] = [_jsonable(getattr(o, name)), _jsonable(value)]
            setattr(o, name, value)
    if not changes:
        return o
    if "status" in changes:
        o.resolved_on = today if o.status == ObstacleStatus.resolved else None
    o.version += 1
    o.updated_at = utcnow()
    session.add(
        ObstacleChange(obstacle_id=o.id, changed_on=today, changed_at=o.updated_at, key_id=key_id, changes=changes)
    )
    events.emit(
        session,
        "obstacle.changed",
        "obstacle",
        o.id,
        {"id": o.id, "project_id": o.project_id, "changes": changes},
        project_id=o.project_id,
        known_on=today,
    )
    return o


async def history(session: AsyncSession, obstacle_id: int) -> list[ObstacleChange]:
    return list(
        (
            await session.scalars(
                select(ObstacleChange).where(ObstacleChange.obstacle_id == obstacle_id).order_by(ObstacleChange.id)
            )
        ).all()
    )


async def list_page(
    session: AsyncSession,
    *,
    project_id: int | None = None,
    status: str | None = None,
    working_group_id: int | None = None,
    overdue_on: date | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[Obstacle]:
    query = select(Obstacle).where(Obstacle.id > after)
    if project_id is not None:
        query = query.where(Obstacle.project_id == project_id)
    if status is not None:
        query = query.where(Obstacle.status == status)
    if working_group_id is not None:
        query = query.where(Obstacle.working_group_id == working_group_id)
    if overdue_on is not None:
        query = query.where(Obstacle.status != ObstacleStatus.resolved.value, Obstacle.deadline < overdue_on)
    return list((await session.scalars(query.order_by(Obstacle.id).limit(limit))).all())


async def overdue_by_working_group(session: AsyncSession, as_of: date) -> list[dict[str, Any]]:
    """Unresolved obstacles past their deadline on `as_of`, grouped by working group (none: null)."""
    rows = (
        await session.execute(
            select(Obstacle, WorkingGroup.name)
            .outerjoin(WorkingGroup, WorkingGroup.id == Obstacle.working_group_id)
            .where(
                Obstacle.deadline < as_of,
                Obstacle.opened_on <= as_of,
                (Obstacle.status != ObstacleStatus.resolved.value) | (Obstacle.resolved_on > as_of),
            )
            .order_by(Obstacle.working_group_id, Obstacle.deadline, Obstacle.id)
        )
    ).all()
    groups: dict[int | None, dict[str, Any]] = {}
    for o, name in rows:
        g = groups.setdefault(
            o.working_group_id,
            {"working_group_id": o.working_group_id, "name": name, "overdue_count": 0, "obstacles": []},
        )
        g["overdue_count"] += 1
        assert o.deadline is not None  # the query keeps deadlines before as_of only
        g["obstacles"].append((o, (as_of - o.deadline).days))
    return list(groups.values())
