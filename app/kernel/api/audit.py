"""The audit log (read-only, administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from app.kernel.api.deps import SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.schemas import IdParam, Page, PageSize, Schema, after_id, split_page
from app.models import AuditEntry

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditOut(Schema):
    id: int
    at: datetime
    request_id: str
    api_key_id: int | None
    organisation_id: int | None
    role: str | None
    method: str
    path: str
    status_code: int
    action: str | None
    entity_type: str | None
    entity_id: str | None
    code: str | None
    detail: dict[str, Any] | None


@router.get("/audit-log", operation_id="listAuditLog", summary="Who wrote what, when (accepted and rejected)",
            response_model=Page[AuditOut], responses=problem_responses(400, 401, 403, 422),
            dependencies=[require("audit.read")])
async def list_audit_log(session: SessionDep, entity_type: str | None = None, entity_id: str | None = None,
                         request_id: str | None = None, api_key_id: IdParam | None = None, page_size: PageSize = 50,
                         page_token: str | None = None) -> Page[AuditOut]:
    filters = {"entity_type": entity_type, "entity_id": entity_id, "request_id": request_id, "api_key_id": api_key_id}
    after = after_id(page_token, filters)
    query = select(AuditEntry).where(AuditEntry.id > after)
    for column, value in ((AuditEntry.entity_type, entity_type), (AuditEntry.entity_id, entity_id),
                          (AuditEntry.request_id, request_id), (AuditEntry.api_key_id, api_key_id)):
        if value is not None:
            query = query.where(column == value)
    rows = list((await session.scalars(query.order_by(AuditEntry.id).limit(page_size + 1))).all())
    rows, token = split_page(rows, page_size, filters)
    return Page[AuditOut](items=[AuditOut.model_validate(r) for r in rows], next_page_token=token)
