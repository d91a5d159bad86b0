"""Payment and advance dossiers (R15): filing, Treasury processing, SLA watch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.kernel.api.deps import (
    IdempotencyDep,
    PrincipalDep,
    SessionDep,
    authorize_project,
    note_write,
    require,
)
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import RuleViolation
from app.kernel.schemas import IdParam, Page, PageSize, after_id, split_page
from app.ledger import posting
from app.ledger.fold import DisbursementInput
from app.models import Dossier
from app.registry import projects
from app.treasury import contracts, dossiers, sla
from app.treasury.dossier_schemas import DelayReason, DossierAction, DossierCreate, DossierOut, DossierPayment

router = APIRouter(tags=["dossiers"])
ACT_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)


def dossier_out(d: Dossier) -> DossierOut:
    data = {name: getattr(d, name) for name in DossierOut.model_fields if hasattr(d, name)}
    return DossierOut(**data, pending_without_reason=sla.is_pending_without_reason(
        sla.DossierStatus(d.status), d.sla_due, today(), d.delay_reason))


@router.post("/api/v1/projects/{project_id}/dossiers", operation_id="submitDossier",
             summary="File a payment or advance dossier", status_code=201, response_model=DossierOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require("dossier.submit")])
async def submit_dossier(project_id: IdParam, body: DossierCreate, request: Request, session: SessionDep,
                         principal: PrincipalDep, idem: IdempotencyDep) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    project = await projects.get(session, project_id)
    authorize_project(principal, "dossier.submit", project.investor_id)
    if body.contract_id is not None and (await contracts.get(session, body.contract_id)).project_id != project_id:
        raise RuleViolation("contract_not_in_project", "The contract belongs to another project.",
                            pointer="/contract_id")
    dossier = await dossiers.submit(session, project_id, body.model_dump(), today())
    note_write(request, "dossier.submit", "dossier", dossier.id)
    return idem.respond(201, dossier_out(dossier))


@router.get("/api/v1/dossiers", operation_id="listDossiers",
            summary="Dossiers; `pending_without_reason=true` lists those past SLA with no reason (R15)",
            response_model=Page[DossierOut], responses=problem_responses(400, 401, 403, 422),
            dependencies=[require("read")])
async def list_dossiers(session: SessionDep, project_id: IdParam | None = None, status: sla.DossierStatus | None = None,
                        pending_without_reason: bool = False, page_size: PageSize = 50,
                        page_token: str | None = None) -> Page[DossierOut]:
    filters = {"project_id": project_id, "status": status, "pending_without_reason": pending_without_reason}
    after = after_id(page_token, filters)
    rows = await dossiers.list_page(session, project_id=project_id, status=status.value if status else None,
                                    pending_without_reason_on=today() if pending_without_reason else None,
                                    after_id=after, limit=page_size + 1)
    rows, token = split_page(rows, page_size, filters)
    return Page[DossierOut](items=[dossier_out(d) for d in rows], next_page_token=token)


@router.get("/api/v1/dossiers/{dossier_id}", operation_id="getDossier", summary="Read a dossier",
            response_model=DossierOut, responses=problem_responses(401, 403, 404, 422),
            dependencies=[require("read")])
async def get_dossier(dossier_id: IdParam, session: SessionDep, response: Response) -> DossierOut:
    dossier = await dossiers.get(session, dossier_id)
    response.headers["ETag"] = dossiers.etag(dossier)
    return dossier_out(dossier)


IfMatch = Annotated[str | None, Header(alias="If-Match", description="Optional: the dossier's ETag")]


async def _act(dossier_id: int, action: sla.DossierAction, body: DossierAction, request: Request,
               session, response: Response, if_match: str | None) -> DossierOut:
    dossier = await dossiers.act(session, dossier_id, action, on=body.on or today(), reason=body.reason,
                                 if_match=if_match)
    note_write(request, f"dossier.{action.value}", "dossier", dossier.id, body.model_dump(mode="json"))
    response.headers["ETag"] = dossiers.etag(dossier)
    return dossier_out(dossier)


@router.post("/api/v1/dossiers/{dossier_id}/complete", operation_id="completeDossier",
             summary="Accept a dossier as complete: the SLA clock starts", response_model=DossierOut,
             responses=ACT_ERRORS, dependencies=[require("dossier.process")])
async def complete(dossier_id: IdParam, body: DossierAction, request: Request, session: SessionDep,
                   response: Response, if_match: IfMatch = None) -> DossierOut:
    return await _act(dossier_id, sla.DossierAction.complete, body, request, session, response, if_match)


@router.post("/api/v1/dossiers/{dossier_id}/pay", operation_id="payDossier",
             summary="Pay a dossier: posts the Treasury's disbursement", response_model=DossierOut,
             responses=ACT_ERRORS, dependencies=[require("dossier.pay")])
async def pay(dossier_id: IdParam, body: DossierPayment, request: Request, session: SessionDep, principal: PrincipalDep,
              idem: IdempotencyDep, if_match: IfMatch = None) -> Response:
    """R15/R15a: the payment is recorded in the ledger as the Treasury's entry, linked to the dossier, through the
    posting pipeline: a payment the rules refuse (R1–R8, R14) is refused with their code, and nothing changes."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    on = body.on or today()

    async def post(dossier: Dossier) -> int:
        advance = dossier.kind == sla.DossierKind.advance.value
        kind = body.advance_kind or (AdvanceKind.contract if dossier.contract_id else AdvanceKind.other)
        row = DisbursementInput(
            project_id=dossier.project_id, plan_year=dossier.plan_year,
            capital_source=CapitalSource(dossier.capital_source), budget_level=BudgetLevel(dossier.budget_level),
            budget_holder_id=dossier.budget_holder_id,
            kind=DisbursementKind.advance if advance else DisbursementKind.payment, amount_vnd=dossier.amount_vnd,
            value_date=on, document_number=body.voucher_number or f"KB-{dossier.document_number}",
            advance_kind=kind if advance else None, advance_recovered_vnd=0 if advance else body.advance_recovered_vnd,
            contract_id=dossier.contract_id, contract_member_id=body.contract_member_id, note=f"dossier {dossier.id}",
            source=EntrySource.treasury,
            owner_document_number=dossier.document_number)
        [recorded] = await posting.post_disbursements(session, [row], today=today(), key_id=principal.key_id)
        return recorded.id

    dossier = await dossiers.act(session, dossier_id, sla.DossierAction.pay, on=on, reason=body.reason,
                                 if_match=if_match, post=post)
    note_write(request, "dossier.pay", "dossier", dossier.id, body.model_dump(mode="json"))
    answer = idem.respond(200, dossier_out(dossier))
    answer.headers["ETag"] = dossiers.etag(dossier)
    return answer


@router.post("/api/v1/dossiers/{dossier_id}/return", operation_id="returnDossier",
             summary="Return a dossier with its reason", response_model=DossierOut, responses=ACT_ERRORS,
             dependencies=[require("dossier.process")])
async def return_(dossier_id: IdParam, body: DossierAction, request: Request, session: SessionDep,
                  response: Response, if_match: IfMatch = None) -> DossierOut:
    return await _act(dossier_id, sla.DossierAction.return_, body, request, session, response, if_match)


@router.post("/api/v1/dossiers/{dossier_id}/delay-reason", operation_id="setDossierDelayReason",
             summary="Record why a pending dossier is late (R15)", response_model=DossierOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require("dossier.process")])
async def delay_reason(dossier_id: IdParam, body: DelayReason, request: Request, session: SessionDep) -> DossierOut:
    dossier = await dossiers.set_delay_reason(session, dossier_id, body.reason, today())
    note_write(request, "dossier.delay_reason", "dossier", dossier.id)
    return dossier_out(dossier)
