"""Treasury actions on one advance: marking it overdue for misuse (R9), recording money held for owners who refuse
or dispute compensation (R10) and an extension of an `other` advance (R11). Each feeds the overdue classification
and the snapshot ETag."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind
from app.kernel import feed as events
from app.kernel.errors import Conflict, NotFound, RuleViolation
from app.models.treasury import Advance


async def get(session: AsyncSession, advance_id: int, *, lock: bool = False) -> Advance:
    query = select(Advance).where(Advance.id == advance_id)
    advance = await session.scalar(query.with_for_update() if lock else query)
    if advance is None:
        raise NotFound("advance_not_found", f"Advance {advance_id} does not exist.")
    return advance


def _payload(advance: Advance) -> dict:
    return {"id": advance.id, "project_id": advance.project_id, "contract_id": advance.contract_id,
            "kind": AdvanceKind(advance.kind).value, "outstanding_vnd": advance.outstanding_vnd,
            "held_for_disputes_vnd": advance.held_for_disputes_vnd,
            "misuse_marked_on": advance.misuse_marked_on.isoformat() if advance.misuse_marked_on else None}


async def mark_misuse(session: AsyncSession, advance_id: int, *, marked_on: date, document_number: str,
                      today: date) -> Advance:
    """R9: the whole outstanding balance is overdue from `marked_on`, whatever the recovery date."""
    advance = await get(session, advance_id, lock=True)
    if marked_on > today:
        raise RuleViolation("marked_on_in_future", f"The marking date {marked_on} is after today ({today}).",
                            pointer="/marked_on", latest_allowed=today.isoformat())
    if advance.misuse_marked_on is not None:
        raise Conflict("already_marked_misuse", f"Advance {advance_id} was marked on {advance.misuse_marked_on}.")
    if advance.outstanding_vnd <= 0:
        raise Conflict("advance_recovered", f"Advance {advance_id} has nothing outstanding.")
    advance.misuse_marked_on, advance.misuse_document_number = marked_on, document_number
    advance.version += 1
    events.emit(session, "advance.marked_misuse", "advance", advance.id,
                {**_payload(advance), "document_number": document_number}, project_id=advance.project_id)
    return advance


async def set_held_for_disputes(session: AsyncSession, advance_id: int, *, amount_vnd: int,
                                document_number: str) -> Advance:
    """R10: money held for refusing or disputing owners is not overdue; it cannot exceed what is outstanding."""
    advance = await get(session, advance_id, lock=True)
    if AdvanceKind(advance.kind) is not AdvanceKind.site_clearance:
        raise RuleViolation("not_site_clearance", "Only a site-clearance (GPMB) advance holds money for owners.",
                            pointer="/amount_vnd")
    if amount_vnd > advance.outstanding_vnd:
        raise RuleViolation("held_exceeds_outstanding", f"R10: at most {advance.outstanding_vnd:,} đồng is "
                            "outstanding.", pointer="/amount_vnd", allowed_max_vnd=advance.outstanding_vnd)
    advance.held_for_disputes_vnd = amount_vnd
    advance.version += 1
    events.emit(session, "advance.held_for_disputes", "advance", advance.id,
                {**_payload(advance), "document_number": document_number}, project_id=advance.project_id)
    return advance


async def extend(session: AsyncSession, advance_id: int, *, extended_until: date, decision_number: str,
                 decided_on: date, today: date) -> Advance:
    """R11: an `other` advance's deadline moves to `extended_until` by a decision; an extension never shortens it."""
    advance = await get(session, advance_id, lock=True)
    if AdvanceKind(advance.kind) is not AdvanceKind.other:
        raise RuleViolation("not_other_advance", "R11: only an advance without a contract of kind `other` is "
                            "extended; contract and site-clearance advances follow R9 and R10.",
                            pointer="/extended_until")
    if decided_on > today:
        raise RuleViolation("decision_date_in_future", f"The decision date {decided_on} is after today ({today}).",
                            pointer="/decided_on", latest_allowed=today.isoformat())
    if advance.outstanding_vnd <= 0:
        raise Conflict("advance_recovered", f"Advance {advance_id} has nothing outstanding.")
    earliest = max(advance.extended_until or advance.advanced_on, today)
    if extended_until <= earliest:
        raise RuleViolation("extension_not_later", f"R11: an extension must end after {earliest} (today or the "
                            "current extension).", pointer="/extended_until", earliest_allowed=earliest.isoformat())
    advance.extended_until, advance.extension_decision_number = extended_until, decision_number
    advance.version += 1
    events.emit(session, "advance.extended", "advance", advance.id,
                {**_payload(advance), "extended_until": extended_until.isoformat(), "decision_number": decision_number,
                 "decided_on": decided_on.isoformat()}, project_id=advance.project_id)
    return advance
