"""R19 reallocation proposals: draft from the data, then submit → approve → apply | reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from app.kernel.api.deps import IdempotencyDep, PrincipalDep, SessionDep, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import PreconditionRequired
from app.kernel.schemas import IdParam, Page, PageSize, PlanYearParam, after_id, split_page
from app.ledger import holders
from app.models import ReallocationProposal
from app.reallocation import drafting, workflow
from app.reallocation.optimiser import ReallocationOptions
from app.reallocation.schemas import (
    ApproveIn,
    ProposalCreate,
    ProposalOut,
    ProposalSummary,
    RejectIn,
    TransferOut,
)

router = APIRouter(prefix="/api/v1/reallocation-proposals", tags=["reallocation"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
STEP_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The proposal's ETag from your last read")]


async def _out(session, p: ReallocationProposal) -> ProposalOut:
    rows = await workflow.transfers(session, p.id)
    data = {name: getattr(p, name) for name in ProposalOut.model_fields if name != "transfers"}
    return ProposalOut(**data, transfers=[TransferOut.model_validate(t) for t in rows])


def _need_if_match(if_match: str | None) -> str:
    if if_match is None:
        raise PreconditionRequired("if_match_required", "Send If-Match with the proposal's ETag.")
    return if_match


@router.post(
    "",
    operation_id="draftReallocationProposal",
    status_code=201,
    response_model=ProposalOut,
    summary="Draft a reallocation proposal from the data (R19 optimiser)",
    responses=problem_responses(401, 403, 409, 413, 422),
    dependencies=[require("proposal.draft")],
)
async def draft(body: ProposalCreate, request: Request, session: SessionDep, principal: PrincipalDep,
                idem: IdempotencyDep) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    o = body.options
    options = ReallocationOptions(
        minimum_transfer_vnd=o.minimum_transfer_vnd,
        safety_margin_vnd=o.safety_margin_vnd,
        safety_margin_pct=o.safety_margin_pct,
        protect_watch_lists=o.protect_watch_lists,
    )
    pools = ([(x.capital_source.value, x.budget_level.value, x.budget_holder_id) for x in body.pools]
             if body.pools else None)
    e = body.envelope
    envelope = drafting.Envelope(
        e.amount_vnd, e.capital_source.value, e.budget_level.value,
        await holders.resolve_one(session, None, e.budget_level, e.budget_holder_id, pointer_prefix="/envelope"),
        e.tranche, e.provenance.value) if e else None
    p = await drafting.draft(
        session,
        plan_year=body.plan_year,
        as_of=body.as_of or today(),
        pools=pools,
        options=options,
        title=body.title,
        key_id=principal.key_id,
        today=today(),
        envelope=envelope,
    )
    note_write(request, "proposal.draft", "reallocation_proposal", p.id)
    response = idem.respond(201, await _out(session, p))
    response.headers["ETag"] = workflow.etag(p)
    return response


@router.get(
    "",
    operation_id="listReallocationProposals",
    summary="List reallocation proposals",
    response_model=Page[ProposalSummary],
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def list_proposals(
    session: SessionDep,
    plan_year: PlanYearParam | None = None,
    status: str | None = None,
    page_size: PageSize = 50,
    page_token: str | None = None,
) -> Page[ProposalSummary]:
    from sqlalchemy import select

    filters = {"plan_year": plan_year, "status": status}
    after = after_id(page_token, filters)
    query = select(ReallocationProposal).where(ReallocationProposal.id > after)
    if plan_year is not None:
        query = query.where(ReallocationProposal.plan_year == plan_year)
    if status is not None:
        query = query.where(ReallocationProposal.status == status)
    rows = list((await session.scalars(query.order_by(ReallocationProposal.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, filters)
    return Page[ProposalSummary](
        items=[ProposalSummary.model_validate(r) for r in rows], next_page_token=token
    )


@router.get(
    "/{proposal_id}",
    operation_id="getReallocationProposal",
    summary="Read a proposal with its transfers",
    response_model=ProposalOut,
    responses=READ_ERRORS,
    dependencies=[require("read")],
)
async def get_proposal(proposal_id: IdParam, session: SessionDep, response: Response) -> ProposalOut:
    p = await workflow.get(session, proposal_id)
    response.headers["ETag"] = workflow.etag(p)
    return await _out(session, p)


async def _done(request: Request, session, response: Response, p: ReallocationProposal, step: str) -> ProposalOut:
    note_write(request, f"proposal.{step}", "reallocation_proposal", p.id)
    response.headers["ETag"] = workflow.etag(p)
    return await _out(session, p)


@router.post(
    "/{proposal_id}/submit",
    operation_id="submitReallocationProposal",
    response_model=ProposalOut,
    summary="Submit a draft for approval (needs If-Match)",
    responses=STEP_ERRORS,
    dependencies=[require("proposal.draft")],
)
async def submit(
    proposal_id: IdParam, request: Request, session: SessionDep, response: Response, if_match: IfMatch = None
) -> ProposalOut:
    p = await workflow.submit(session, proposal_id, _need_if_match(if_match), today())
    return await _done(request, session, response, p, "submit")


@router.post(
    "/{proposal_id}/approve",
    operation_id="approveReallocationProposal",
    response_model=ProposalOut,
    summary="Approve with the deciding authority, decision number and date (not by the drafter)",
    responses=STEP_ERRORS,
    dependencies=[require("proposal.approve")],
)
async def approve(
    proposal_id: IdParam,
    body: ApproveIn,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: PrincipalDep,
    if_match: IfMatch = None,
) -> ProposalOut:
    p = await workflow.approve(
        session,
        proposal_id,
        _need_if_match(if_match),
        authority=body.authority,
        decision_number=body.decision_number,
        decision_date=body.decision_date,
        key_id=principal.key_id,
        today=today(),
    )
    return await _done(request, session, response, p, "approve")


@router.post(
    "/{proposal_id}/reject",
    operation_id="rejectReallocationProposal",
    response_model=ProposalOut,
    summary="Reject a proposal with a reason",
    responses=STEP_ERRORS,
    dependencies=[require("proposal.approve")],
)
async def reject(
    proposal_id: IdParam,
    body: RejectIn,
    request: Request,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ProposalOut:
    p = await workflow.reject(session, proposal_id, _need_if_match(if_match), body.reason, today())
    return await _done(request, session, response, p, "reject")


@router.post(
    "/{proposal_id}/apply",
    operation_id="applyReallocationProposal",
    response_model=ProposalOut,
    summary="Apply an approved proposal: re-check, then paired zero-sum plan changes (all or nothing)",
    responses=STEP_ERRORS,
    dependencies=[require("proposal.apply")],
)
async def apply(
    proposal_id: IdParam,
    request: Request,
    session: SessionDep,
    response: Response,
    principal: PrincipalDep,
    if_match: IfMatch = None,
) -> ProposalOut:
    p = await workflow.apply(session, proposal_id, _need_if_match(if_match), key_id=principal.key_id, today=today())
    return await _done(request, session, response, p, "apply")
