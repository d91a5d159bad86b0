"""Disbursements: single, batch, reversal and reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from app.enums import EntrySource
from app.kernel.api.deps import (
    IdempotencyDep,
    PrincipalDep,
    SessionDep,
    authorize_fact,
    authorize_project,
    note_write,
    require,
)
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import NotFound
from app.kernel.schemas import IdParam, Page, PageSize, PlanYearParam, after_id, split_page
from app.kernel.security import Principal, source_of
from app.ledger import disbursements, locks, posting
from app.ledger.fold import DisbursementInput
from app.ledger.schemas import (
    BatchResult,
    DisbursementBatch,
    DisbursementCreate,
    DisbursementOut,
    ReversalCreate,
)
from app.models import Disbursement
from app.registry import projects

router = APIRouter(tags=["disbursements"])
WRITE_ERRORS: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 404, 409, 413, 422)
# OpenAPI links (clients and Schemathesis' stateful run): a recorded disbursement → its reversal, its project.
CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "The recorded disbursement", "links": {
    "ReverseDisbursement": {"operationId": "reverseDisbursement",
                            "parameters": {"disbursement_id": "$response.body#/id"}},
    "ListDisbursements": {"operationId": "listDisbursements",
                          "parameters": {"project_id": "$response.body#/project_id"}},
    "GetProjectBalances": {"operationId": "getProjectBalances",
                           "parameters": {"project_id": "$response.body#/project_id"}},
}}}


def _authorize_confirmation(principal: Principal, owner_documents: list[str | None]) -> None:
    """R15a: only the Treasury's entry may name (and so supersede) an owner's report."""
    if any(owner_documents):
        authorize_fact(principal, "ledger_entry.confirm", EntrySource.owner.value, "an owner's report (only the "
                       "Treasury's entry names the owner's document it pays)")


@router.post("/api/v1/projects/{project_id}/disbursements", operation_id="createDisbursement",
             summary="Record a disbursement (advance, payment or clearance)", status_code=201,
             response_model=DisbursementOut, responses={**WRITE_ERRORS, **CREATED},
             dependencies=[require("disbursement.write")])
async def create_disbursement(project_id: IdParam, body: DisbursementCreate, request: Request, session: SessionDep,
                              principal: PrincipalDep, idem: IdempotencyDep) -> Response:
    """Checks R1 (plan), R2 (TMĐT), R7 (recovery ≤ outstanding) and R14 (windows) against locked balances."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    # One statement: lock the project's balance row (first in the lock order) and read the project.
    facts, locked = await locks.lock_projects(session, [project_id])
    if project_id not in facts:
        raise NotFound("project_not_found", f"Project {project_id} does not exist.")
    authorize_project(principal, "disbursement.write", facts[project_id].investor_id)
    _authorize_confirmation(principal, [body.owner_document_number])
    [row] = await posting.post_disbursements(
        session, [DisbursementInput(project_id=project_id, source=source_of(principal.role), **body.model_dump())],
        today=today(),
        key_id=principal.key_id, projects=facts, balances=locked)
    note_write(request, "disbursement.create", "disbursement", row.id)
    return idem.respond(201, DisbursementOut.model_validate(row))


@router.post("/api/v1/disbursements/batch", operation_id="createDisbursementBatch",
             summary="Record up to 10,000 disbursements, all or nothing", status_code=201,
             response_model=BatchResult, responses=WRITE_ERRORS, dependencies=[require("disbursement.write")])
async def create_batch(body: DisbursementBatch, request: Request, session: SessionDep, principal: PrincipalDep,
                       idem: IdempotencyDep) -> Response:
    """Every row is checked like a single POST; any failing row rejects the batch with errors by row index."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    facts, locked = await locks.lock_projects(session, [r.project_id for r in body.rows])
    for investor_id in {p.investor_id for p in facts.values()}:
        authorize_project(principal, "disbursement.write", investor_id)
    _authorize_confirmation(principal, [r.owner_document_number for r in body.rows])
    created = await posting.post_disbursements(
        session, [DisbursementInput(source=source_of(principal.role), **r.model_dump()) for r in body.rows],
        today=today(), key_id=principal.key_id,
        batch=True, projects=facts, balances=locked)
    note_write(request, "disbursement.batch", "disbursement", created[0].id, {"rows": len(created)})
    return idem.respond(201, BatchResult(created=len(created), ids=[d.id for d in created]))


@router.post("/api/v1/disbursements/{disbursement_id}/reversal", operation_id="reverseDisbursement",
             summary="Correct a disbursement with a reversing entry", status_code=201, response_model=DisbursementOut,
             responses=WRITE_ERRORS, dependencies=[require("disbursement.write")])
async def reverse_disbursement(disbursement_id: IdParam, body: ReversalCreate, request: Request, session: SessionDep,
                               principal: PrincipalDep, idem: IdempotencyDep) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    original = await disbursements.get(session, disbursement_id)
    facts, locked = await locks.lock_projects(session, [original.project_id])
    authorize_project(principal, "disbursement.write", facts[original.project_id].investor_id)
    # R15a: the Treasury's record is corrected only by the Treasury; an owner's report by its owner too.
    authorize_fact(principal, "ledger_entry.correct", original.source,
                   f"a ledger entry recorded by the {original.source}")
    reversal = await disbursements.reversal_of(session, original, source=source_of(principal.role),
                                               **body.model_dump())
    [row] = await posting.post_disbursements(session, [reversal], today=today(), key_id=principal.key_id,
                                             projects=facts, balances=locked)
    note_write(request, "disbursement.reverse", "disbursement", row.id, {"reverses_id": original.id})
    return idem.respond(201, DisbursementOut.model_validate(row))


@router.get("/api/v1/projects/{project_id}/disbursements", operation_id="listDisbursements",
            summary="A project's disbursements", response_model=Page[DisbursementOut],
            responses=problem_responses(400, 401, 403, 404, 422), dependencies=[require("read")])
async def list_disbursements(
    project_id: IdParam, session: SessionDep, plan_year: PlanYearParam | None = None,
    page_size: PageSize = 50, page_token: Annotated[str | None, Query()] = None,
) -> Page[DisbursementOut]:
    await projects.get(session, project_id)
    filters = {"project_id": project_id, "plan_year": plan_year}
    after = after_id(page_token, filters)
    query = select(Disbursement).where(Disbursement.project_id == project_id, Disbursement.id > after)
    if plan_year is not None:
        query = query.where(Disbursement.plan_year == plan_year)
    rows = list((await session.scalars(query.order_by(Disbursement.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, filters)
    return Page[DisbursementOut](items=[DisbursementOut.model_validate(r) for r in rows],
                                 next_page_token=token)
