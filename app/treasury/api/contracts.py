"""Contracts (hợp đồng) per project, with their advance balances (R3–R8)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

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
from app.kernel.errors import PreconditionRequired
from app.kernel.schemas import IdParam, Page, PageSize, after_id, split_page
from app.kernel.security import CONTRACT_FACTS
from app.models import Contract, ContractBalance, ContractMember
from app.registry import projects
from app.treasury import contracts
from app.treasury.schemas import ContractCreate, ContractMemberOut, ContractOut, ContractUpdate

router = APIRouter(tags=["contracts"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)


def contract_out(contract: Contract, bal: ContractBalance | None, members: list[ContractMember]) -> ContractOut:
    data = {name: getattr(contract, name) for name in ContractOut.model_fields if hasattr(contract, name)}
    for name in ("advanced_vnd", "recovered_vnd", "outstanding_vnd", "paid_vnd"):
        data[name] = getattr(bal, name) if bal is not None else 0
    data["supply_complete"] = bal is not None and bal.supply_completions > 0
    data["members"] = [ContractMemberOut.model_validate(m) for m in members] or None
    return ContractOut(**data)


async def _out(session: SessionDep, contract: Contract) -> ContractOut:
    members = await contracts.members_of(session, [contract.id])
    return contract_out(contract, await contracts.balance(session, contract.id), members[contract.id])


@router.post("/api/v1/projects/{project_id}/contracts", operation_id="createContract",
             summary="Register a contract under a project", status_code=201, response_model=ContractOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require("contract.write")])
async def create_contract(project_id: IdParam, body: ContractCreate, request: Request, session: SessionDep,
                          principal: PrincipalDep, idem: IdempotencyDep) -> Response:
    if (replayed := await idem.replay()) is not None:
        return replayed
    project = await projects.get(session, project_id)
    authorize_project(principal, "contract.write", project.investor_id)
    for name in sorted(body.model_dump(exclude_defaults=True)):  # a new contract has no advances yet
        fact = CONTRACT_FACTS[name]
        authorize_fact(principal, fact, "without_advances" if fact == "contract.controls" else "any",
                       f"a contract's {name}")
    contract = await contracts.create(session, project_id, body.model_dump())
    note_write(request, "contract.create", "contract", contract.id)
    response = idem.respond(201, await _out(session, contract))
    response.headers["ETag"] = contracts.etag(contract)
    return response


@router.get("/api/v1/projects/{project_id}/contracts", operation_id="listContracts",
            summary="A project's contracts with their balances", response_model=Page[ContractOut],
            responses=READ_ERRORS, dependencies=[require("read")])
async def list_contracts(project_id: IdParam, session: SessionDep, page_size: PageSize = 50,
                         page_token: str | None = None) -> Page[ContractOut]:
    await projects.get(session, project_id)
    filters = {"project_id": project_id}
    after = after_id(page_token, filters)
    rows = await contracts.list_for_project(session, project_id, after, page_size + 1)
    rows, token = split_page(rows, page_size, filters)
    balances = await contracts.balances_for(session, [c.id for c in rows])
    members = await contracts.members_of(session, [c.id for c in rows])
    return Page[ContractOut](items=[contract_out(c, balances.get(c.id), members[c.id]) for c in rows],
                             next_page_token=token)


@router.get("/api/v1/contracts/{contract_id}", operation_id="getContract", summary="Read a contract",
            response_model=ContractOut, responses=READ_ERRORS, dependencies=[require("read")])
async def get_contract(contract_id: IdParam, session: SessionDep, response: Response) -> ContractOut:
    contract = await contracts.get(session, contract_id)
    response.headers["ETag"] = contracts.etag(contract)
    return await _out(session, contract)


@router.patch("/api/v1/contracts/{contract_id}", operation_id="updateContract",
              summary="Change a contract (needs If-Match)", response_model=ContractOut,
              responses=problem_responses(401, 403, 404, 409, 412, 422, 428), dependencies=[require("contract.write")])
async def update_contract(
    contract_id: IdParam, body: ContractUpdate, request: Request, session: SessionDep, response: Response,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The ETag from your last read")] = None,
) -> ContractOut:
    contract = await contracts.get(session, contract_id)
    project = await projects.get(session, contract.project_id)
    authorize_project(principal, "contract.write", project.investor_id)
    if if_match is None:
        raise PreconditionRequired("if_match_required", "Send If-Match with the contract's ETag.")
    changes = body.model_dump(exclude_unset=True)
    contract = await contracts.update_contract(
        session, contract_id, if_match, changes,
        lambda fact, whose, name: authorize_fact(principal, fact, whose, f"a contract's {name}"
                                                 + (" once it has advances" if whose == "with_advances" else "")))
    note_write(request, "contract.update", "contract", contract.id, body.model_dump(mode="json", exclude_unset=True))
    response.headers["ETag"] = contracts.etag(contract)
    return await _out(session, contract)
