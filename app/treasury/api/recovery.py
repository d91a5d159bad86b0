"""Recovery cases (R16): the Treasury's workflow for overdue advances."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from app.kernel.api.deps import IdempotencyDep, PrincipalDep, SessionDep, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import RuleViolation
from app.kernel.schemas import IdParam, Page, PageSize, after_id, split_page
from app.models import Advance, RecoveryCase
from app.treasury import recovery
from app.treasury.recovery_rules import CaseState, deadline_passed
from app.treasury.schemas import RecoveryCaseOut, RecoveryStepCreate, RecoveryStepOut

router = APIRouter(prefix="/api/v1/recovery-cases", tags=["recovery"])


async def _outs(session, cases: list[RecoveryCase]) -> list[RecoveryCaseOut]:
    steps = await recovery.steps(session, [c.id for c in cases])
    day = today()
    result = []
    for case in cases:
        advance = await session.get(Advance, case.advance_id)
        result.append(RecoveryCaseOut(
            id=case.id, advance_id=case.advance_id, project_id=case.project_id, contract_id=case.contract_id,
            state=CaseState(case.state), opened_on=case.opened_on, deadline=case.deadline,
            deadline_passed=deadline_passed(CaseState(case.state), case.deadline, day), closed_on=case.closed_on,
            outstanding_vnd=advance.outstanding_vnd if advance else 0, version=case.version,
            steps=[RecoveryStepOut.model_validate(s) for s in steps[case.id]]))
    return result


@router.get("", operation_id="listRecoveryCases", summary="Recovery cases (filter by state, project, passed deadline)",
            response_model=Page[RecoveryCaseOut], responses=problem_responses(400, 401, 403, 422),
            dependencies=[require("treasury.read")])
async def list_cases(session: SessionDep, state: CaseState | None = None, project_id: IdParam | None = None,
                     deadline_passed: bool = False, page_size: PageSize = 50,
                     page_token: str | None = None) -> Page[RecoveryCaseOut]:
    filters = {"state": state, "project_id": project_id, "deadline_passed": deadline_passed}
    after = after_id(page_token, filters)
    rows = await recovery.list_page(session, state=state.value if state else None, project_id=project_id,
                                    deadline_passed_on=today() if deadline_passed else None, after_id=after,
                                    limit=page_size + 1)
    rows, token = split_page(rows, page_size, filters)
    return Page[RecoveryCaseOut](items=await _outs(session, rows), next_page_token=token)


@router.get("/{case_id}", operation_id="getRecoveryCase", summary="A recovery case and its steps",
            response_model=RecoveryCaseOut, responses=problem_responses(401, 403, 404, 422),
            dependencies=[require("treasury.read")])
async def get_case(case_id: IdParam, session: SessionDep, response: Response) -> RecoveryCaseOut:
    case = await recovery.get(session, case_id)
    response.headers["ETag"] = recovery.etag(case)
    return (await _outs(session, [case]))[0]


@router.post("/{case_id}/steps", operation_id="addRecoveryStep",
             summary="Record a step: notice sent, investor commitment or escalation", status_code=201,
             response_model=RecoveryCaseOut, responses=problem_responses(401, 403, 404, 409, 412, 422),
             dependencies=[require("recovery.write")])
async def add_step(
    case_id: IdParam, body: RecoveryStepCreate, request: Request, session: SessionDep, principal: PrincipalDep,
    idem: IdempotencyDep,
    if_match: Annotated[str | None, Header(alias="If-Match", description="Optional: the case's ETag")] = None,
) -> Response:
    """Illegal transitions (e.g. a commitment before any notice, anything on a closed case) → 409
    `illegal_transition`. Recoveries are not posted here: they come from the disbursement ledger."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    if body.kind == "notice_sent" and body.deadline is None:
        raise RuleViolation("deadline_required", "A notice needs the deadline given to the investor.",
                            pointer="/deadline")
    if body.kind == "commitment" and (body.amount_vnd is None or body.committed_date is None):
        raise RuleViolation("commitment_incomplete", "A commitment needs amount_vnd and committed_date.",
                            pointer="/amount_vnd")
    if body.kind == "escalation" and body.escalation is None:
        raise RuleViolation("escalation_required", "Say which escalation: people_committee_report, "
                            "guarantee_claim or account_debit.", pointer="/escalation")
    case = await recovery.add_step(session, case_id, if_match, body.model_dump(), principal.key_id, today())
    note_write(request, f"recovery_case.{body.kind}", "recovery_case", case.id, body.model_dump(mode="json"))
    response = idem.respond(201, (await _outs(session, [case]))[0])
    response.headers["ETag"] = recovery.etag(case)
    return response
