"""Rule sets as data (issue #3 §1): defaults from app.rulesets.model, administrator overrides from the
`rule_set_overrides` table, and the working calendar with the administrator's extra days.

`effective_rule_sets(session)` is what every write and sweep passes to `ruleset_for`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import caches
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import NotFound, PreconditionFailed, RuleViolation
from app.models import CalendarDay, RuleSetOverride
from app.rulesets.calendar import DayKind, WorkingCalendar
from app.rulesets.model import DEFAULT_RULE_SETS, RuleSet

DEFAULTS = {rule_set.code: rule_set for rule_set in DEFAULT_RULE_SETS}


def etag(code: str, version: int) -> str:
    return f'"ruleset-{code}-v{version}"'


async def effective_rule_sets(session: AsyncSession) -> tuple[RuleSet, ...]:
    """The default rule sets with the administrator's overrides applied, in effective-date order.

    Cached per worker for `caches.RULE_SETS_TTL_SECONDS`; `update` clears this worker's cache at once and again
    after its commit, so other workers apply an override within that bound (CONTRIBUTING.md).
    """
    cached = caches.rule_sets.get("effective")
    if cached is not caches.MISSING:
        return cached
    stored = {code: overrides for code, overrides in
              (await session.execute(select(RuleSetOverride.code, RuleSetOverride.overrides))).all()}
    result = []
    for rule_set in DEFAULT_RULE_SETS:
        overrides = stored.get(rule_set.code)
        result.append(rule_set.with_overrides(overrides) if overrides else rule_set)
    effective = tuple(result)
    caches.rule_sets.put("effective", effective)
    return effective


async def read(session: AsyncSession, code: str) -> tuple[RuleSet, dict[str, Any], int]:
    """(effective rule set, the overrides, version) of one rule set."""
    if code not in DEFAULTS:
        raise NotFound("rule_set_not_found", f"Rule set {code!r} does not exist.")
    row = await session.get(RuleSetOverride, code)
    overrides = dict(row.overrides) if row else {}
    version = row.version if row else 1
    return DEFAULTS[code].with_overrides(overrides), overrides, version


async def update(session: AsyncSession, code: str, if_match: str, changes: dict[str, Any],
                 key_id: int | None) -> tuple[RuleSet, dict[str, Any], int]:
    """Merge `changes` into the stored overrides (a null value removes an override). Audited by the caller."""
    if code not in DEFAULTS:
        raise NotFound("rule_set_not_found", f"Rule set {code!r} does not exist.")
    row = await lock_row(session, select(RuleSetOverride).where(RuleSetOverride.code == code))
    version = row.version if row else 1
    if if_match.strip() != etag(code, version):
        raise PreconditionFailed("etag_mismatch", "The rule set changed since you read it; fetch it again.",
                                 current_etag=etag(code, version))
    merged = dict(row.overrides) if row else {}
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    try:
        effective = DEFAULTS[code].with_overrides(merged)
    except (TypeError, ValueError) as exc:
        raise RuleViolation("invalid_rule_set_override", f"The override is not valid: {exc}",
                            pointer="/overrides") from exc
    now = utcnow()
    caches.invalidate_on_commit(session, caches.rule_sets)
    if row is None:
        row = RuleSetOverride(code=code, overrides=merged, version=2, updated_at=now, updated_by_key_id=key_id)
        session.add(row)
    else:
        row.overrides, row.version, row.updated_at, row.updated_by_key_id = merged, row.version + 1, now, key_id
    events.emit(session, "rule_set.updated", "rule_set", code, {"code": code, "changed": sorted(changes)})
    return effective, merged, row.version


async def working_calendar(session: AsyncSession) -> WorkingCalendar:
    """The Vietnamese working calendar with the administrator's extra days off / working days."""
    rows = list(await session.scalars(select(CalendarDay)))
    return WorkingCalendar(
        extra_days_off=[r.day for r in rows if r.kind == DayKind.day_off],
        extra_working_days=[r.day for r in rows if r.kind == DayKind.working_day],
    )


async def list_days(session: AsyncSession, year: int | None = None) -> list[CalendarDay]:
    query = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(await session.scalars(query))


async def put_day(session: AsyncSession, day: date, kind: DayKind, description: str) -> CalendarDay:
    row = await session.get(CalendarDay, day)
    if row is None:
        row = CalendarDay(day=day, kind=kind.value, description=description, created_at=utcnow())
        session.add(row)
    else:
        row.kind, row.description = kind.value, description
    events.emit(session, "calendar_day.set", "calendar_day", day.isoformat(),
                {"day": day.isoformat(), "kind": kind.value, "description": description})
    return row


async def delete_day(session: AsyncSession, day: date) -> None:
    row = await session.get(CalendarDay, day)
    if row is None:
        raise NotFound("calendar_day_not_found", f"No administrator calendar day on {day.isoformat()}.")
    await session.delete(row)
    events.emit(session, "calendar_day.deleted", "calendar_day", day.isoformat(), {"day": day.isoformat()})
