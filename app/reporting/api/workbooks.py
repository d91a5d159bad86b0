"""Excel in (R20): the disbursement template per investor, and the import of a filled workbook.

The import is the batch endpoint's twin in what it checks: the same role (`disbursement.write`), the owner scope
per investor (`authorize_project`), the source from the caller's role (R15a) and the posting pipeline, all or
nothing. It is idempotent per file: without an `Idempotency-Key` the file's SHA-256 is the key, so the same file
sent twice is recorded once (the second answer is the first, replayed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from app.kernel.api.deps import IdempotencyDep, PrincipalDep, SessionDep, authorize_project, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.errors import Conflict, DomainError, NotFound
from app.kernel.schemas import IdParam, PlanYearParam, Schema
from app.kernel.security import source_of
from app.ledger import locks, posting
from app.models import Organisation
from app.reporting import excel_import, excel_template

router = APIRouter(tags=["disbursements"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class WorkbookImportResult(Schema):
    created: int = Field(description="Disbursements recorded from the workbook's rows")
    ids: list[int]
    file_sha256: str = Field(description="SHA-256 of the workbook: the import's natural idempotency key")


@router.get("/api/v1/organisations/{organisation_id}/disbursement-workbook", operation_id="getDisbursementWorkbook",
            summary="The disbursement template of an investor (.xlsx): its projects and pools, Vietnamese headers",
            response_class=Response, dependencies=[require("disbursement.write")],
            responses={200: {"content": {XLSX: {}}, "description": "Sheet 'Giải ngân' to fill; sheet 'Dự án' "
                             "lists the investor's projects and pools with plan, disbursed and remaining"},
                       **problem_responses(400, 401, 403, 404, 422)})
async def disbursement_workbook(organisation_id: IdParam, session: SessionDep, principal: PrincipalDep,
                                plan_year: Annotated[PlanYearParam | None, Query()] = None) -> Response:
    if await session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation_not_found", f"Organisation {organisation_id} does not exist.")
    authorize_project(principal, "disbursement.write", organisation_id)
    year = plan_year or today().year
    body = await excel_template.template(session, organisation_id, year)
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="giai-ngan-{organisation_id}-{year}.xlsx"'})


WORKBOOK_BODY: dict[str, Any] = {"requestBody": {"required": True, "description": "A filled template (.xlsx), at "
                                 "most 10,000 rows and the service's body limit", "content": {XLSX: {"schema": {
                                     "type": "string", "format": "binary", "maxLength": 8 * 1024 * 1024}}}}}


@router.post("/api/v1/disbursements/workbook", operation_id="importDisbursementWorkbook",
             summary="Record the disbursements of a filled workbook, all or nothing, with errors by cell",
             status_code=201, response_model=WorkbookImportResult, openapi_extra=WORKBOOK_BODY,
             responses=problem_responses(401, 403, 409, 413, 422), dependencies=[require("disbursement.write")])
async def import_workbook(request: Request, session: SessionDep, principal: PrincipalDep,
                          idem: IdempotencyDep) -> Response:
    """Every refused cell is listed (`errors`: sheet, row, column, header, the rule's `code` and the numbers
    allowed); nothing is written unless every row is accepted."""
    data = await request.body()
    digest = excel_import.file_hash(data)
    idem.key = idem.key or f"workbook-{digest}"
    if (replayed := await idem.replay()) is not None:
        return replayed
    reading = excel_import.read(data)
    rows = await excel_import.to_inputs(session, reading, source_of(principal.role))
    facts, locked = await locks.lock_projects(session, [r.project_id for r in rows])
    for investor_id in {p.investor_id for p in facts.values()}:
        authorize_project(principal, "disbursement.write", investor_id)
    try:
        created = await posting.post_disbursements(session, rows, today=today(), key_id=principal.key_id, batch=True,
                                                   projects=facts, balances=locked)
    except (posting.BatchRejected, Conflict) as exc:
        raise excel_import.cell_errors(reading, exc) from exc
    except DomainError as exc:  # a refusal of the whole call, e.g. a row's project vanished meanwhile
        if exc.extensions.get("errors") is None and exc.pointer is None:
            raise
        raise excel_import.cell_errors(reading, exc) from exc
    note_write(request, "disbursement.workbook", "disbursement", created[0].id, {"rows": len(created),
                                                                                  "file_sha256": digest})
    return idem.respond(201, WorkbookImportResult(created=len(created), ids=[d.id for d in created],
                                                  file_sha256=digest))
