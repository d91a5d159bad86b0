"""One advance: read it, mark it overdue for misuse (R9), record money held for disputing owners (R10), extend an
`other` advance (R11)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.kernel.api.deps import SessionDep, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.schemas import IdParam
from app.models.treasury import Advance, Contract
from app.rulesets.service import effective_rule_sets
from app.treasury import advances, overdue
from app.treasury.schemas import AdvanceExtension, AdvanceOut, HeldForDisputes, MisuseMark
from app.treasury.view import facts_of

router = APIRouter(prefix="/api/v1/advances", tags=["treasury"])
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)


async def advance_out(session, advance: Advance) -> AdvanceOut:
    contract = await session.get(Contract, advance.contract_id) if advance.contract_id else None
    state = overdue.classify_on(facts_of(advance, contract), today(), await effective_rule_sets(session))
    return AdvanceOut(
        id=advance.id, project_id=advance.project_id, contract_id=advance.contract_id, kind=advance.kind,
        plan_year=advance.plan_year, advanced_on=advance.advanced_on, amount_vnd=advance.amount_vnd,
        recovered_vnd=advance.recovered_vnd, outstanding_vnd=advance.outstanding_vnd,
        held_for_disputes_vnd=advance.held_for_disputes_vnd, extended_until=advance.extended_until,
        extension_decision_number=advance.extension_decision_number,
        misuse_marked_on=advance.misuse_marked_on, misuse_document_number=advance.misuse_document_number,
        status=state.status.value, rule=state.rule_id, overdue_date=state.overdue_date,
        overdue_vnd=state.overdue_vnd)


@router.get("/{advance_id}", operation_id="getAdvance", summary="An advance and how it stands today",
            response_model=AdvanceOut, responses=problem_responses(401, 403, 404, 422),
            dependencies=[require("treasury.read")])
async def get_advance(advance_id: IdParam, session: SessionDep) -> AdvanceOut:
    return await advance_out(session, await advances.get(session, advance_id))


@router.post("/{advance_id}/misuse", operation_id="markAdvanceMisuse",
             summary="Mark an advance overdue for misuse (R9)", response_model=AdvanceOut,
             responses=WRITE_ERRORS, dependencies=[require("recovery.write")],
             openapi_extra={"x-money-post": False})
async def mark_misuse(advance_id: IdParam, body: MisuseMark, request: Request, session: SessionDep) -> AdvanceOut:
    advance = await advances.mark_misuse(session, advance_id, marked_on=body.marked_on,
                                         document_number=body.document_number, today=today())
    note_write(request, "advance.mark_misuse", "advance", advance.id, body.model_dump(mode="json"))
    return await advance_out(session, advance)


@router.put("/{advance_id}/held-for-disputes", operation_id="setAdvanceHeldForDisputes",
            summary="Record money held for owners who refuse or dispute compensation (R10)",
            response_model=AdvanceOut, responses=WRITE_ERRORS, dependencies=[require("recovery.write")])
async def set_held(advance_id: IdParam, body: HeldForDisputes, request: Request, session: SessionDep) -> AdvanceOut:
    advance = await advances.set_held_for_disputes(session, advance_id, amount_vnd=body.amount_vnd,
                                                   document_number=body.document_number)
    note_write(request, "advance.held_for_disputes", "advance", advance.id, body.model_dump(mode="json"))
    return await advance_out(session, advance)


@router.post("/{advance_id}/extension", operation_id="extendAdvance",
             summary="Extend an `other` advance's recovery deadline by a decision (R11)", response_model=AdvanceOut,
             responses=WRITE_ERRORS, dependencies=[require("recovery.write")],
             openapi_extra={"x-money-post": False})
async def extend(advance_id: IdParam, body: AdvanceExtension, request: Request, session: SessionDep) -> AdvanceOut:
    """R11: the Treasury records the competent authority's decision; the advance is not overdue until the new date
    (an extension never shortens the deadline)."""
    advance = await advances.extend(session, advance_id, extended_until=body.extended_until,
                                    decision_number=body.decision_number, decided_on=body.decided_on, today=today())
    note_write(request, "advance.extend", "advance", advance.id, body.model_dump(mode="json"))
    return await advance_out(session, advance)
