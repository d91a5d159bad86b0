"""Recovery cases (R16): opening (by the sweep), steps recorded by the Treasury, reads."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, PreconditionFailed
from app.models import Advance, RecoveryCase, RecoveryStep
from app.treasury.recovery_rules import (
    CaseState,
    Escalation,
    IllegalTransition,
    Step,
    StepKind,
    next_deadline,
    next_state,
)


def etag(case: RecoveryCase) -> str:
    return f'"recovery-case-{case.id}-v{case.version}"'


def case_payload(case: RecoveryCase) -> dict:
    return {"id": case.id, "advance_id": case.advance_id, "state": case.state,
            "deadline": case.deadline.isoformat() if case.deadline else None}


def open_case(session: AsyncSession, advance: Advance, today: date) -> RecoveryCase:
    now = utcnow()
    case = RecoveryCase(advance_id=advance.id, project_id=advance.project_id, contract_id=advance.contract_id,
                        state=CaseState.open.value, opened_on=today, version=1, created_at=now, updated_at=now)
    session.add(case)
    return case


async def get(session: AsyncSession, case_id: int, *, lock: bool = False) -> RecoveryCase:
    query = select(RecoveryCase).where(RecoveryCase.id == case_id)
    case = await (lock_row(session, query) if lock else session.scalar(query))
    if case is None:
        raise NotFound("recovery_case_not_found", f"Recovery case {case_id} does not exist.")
    return case


async def steps(session: AsyncSession, case_ids: list[int]) -> dict[int, list[RecoveryStep]]:
    result: dict[int, list[RecoveryStep]] = {cid: [] for cid in case_ids}
    if case_ids:
        rows = await session.scalars(select(RecoveryStep).where(RecoveryStep.case_id.in_(case_ids))
                                     .order_by(RecoveryStep.id))
        for row in rows:
            result[row.case_id].append(row)
    return result


async def add_step(session: AsyncSession, case_id: int, if_match: str | None, fields: dict, key_id: int | None,
                   today: date) -> RecoveryCase:
    """Record a Treasury step (notice, commitment, escalation); 409 `illegal_transition` when not allowed."""
    case = await get(session, case_id, lock=True)
    if if_match is not None and if_match.strip() != etag(case):
        raise PreconditionFailed("etag_mismatch", "The case changed since you read it; fetch it again.",
                                 current_etag=etag(case))
    kind = StepKind(fields["kind"])
    deadline = fields.get("deadline") if kind is StepKind.notice_sent else fields.get("committed_date")
    step = Step(kind, deadline=deadline)
    try:
        state = next_state(CaseState(case.state), step)
    except IllegalTransition as exc:
        raise Conflict("illegal_transition", str(exc), state=case.state, step=kind.value) from exc
    escalation = Escalation(fields["escalation"]) if fields.get("escalation") else None
    session.add(RecoveryStep(
        case_id=case.id, kind=kind.value, escalation=escalation.value if escalation else None,
        document_number=fields.get("document_number"), document_date=fields.get("document_date"),
        deadline=deadline, amount_vnd=fields.get("amount_vnd"), note=fields.get("note"), actor_key_id=key_id,
        at=utcnow()))
    case.state = state.value
    case.deadline = next_deadline(case.deadline, step)
    case.version += 1
    case.updated_at = utcnow()
    events.emit(session, f"recovery_case.{kind.value}", "recovery_case", case.id,
                {**case_payload(case), "document_number": fields.get("document_number"),
                 "escalation": escalation.value if escalation else None}, project_id=case.project_id,
                known_on=today)
    return case


async def list_page(session: AsyncSession, *, state: str | None, project_id: int | None, deadline_passed_on: date |
                    None, after_id: int, limit: int) -> list[RecoveryCase]:
    query = select(RecoveryCase).where(RecoveryCase.id > after_id)
    if state is not None:
        query = query.where(RecoveryCase.state == state)
    if project_id is not None:
        query = query.where(RecoveryCase.project_id == project_id)
    if deadline_passed_on is not None:
        query = query.where(RecoveryCase.state != "closed", RecoveryCase.deadline < deadline_passed_on)
    return list(await session.scalars(query.order_by(RecoveryCase.id).limit(limit)))
