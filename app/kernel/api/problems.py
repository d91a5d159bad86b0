"""RFC 9457 problem+json for every error; rejected writes are audited in their own transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.kernel import throttle
from app.kernel.api.deps import WRITE_METHODS, audit_note
from app.kernel.audit import add_entry
from app.kernel.config import get_settings
from app.kernel.db import get_sessionmaker
from app.kernel.errors import DomainError
from app.kernel.schemas import replace_forbidden_characters

PROBLEM_JSON = "application/problem+json"
# Unique constraints (PostgreSQL names them; SQLite quotes the columns) → stable problem codes.
_UNIQUE_CODES = {
    "uq_disbursements_project_id": "duplicate_document",
    "disbursements.project_id, disbursements.document_number": "duplicate_document",
    "uq_allocation_entries_project_id": "duplicate_allocation",
    "uq_disbursements_reverses_id": "already_reversed",
    "disbursements.reverses_id": "already_reversed",
    "pk_idempotency_records": "idempotency_in_flight",
    "idempotency_records.api_key_id": "idempotency_in_flight",
}
log = structlog.get_logger()

_HTTP_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 412: "precondition_failed", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 428: "precondition_required",
    429: "too_many_requests",
}


class FieldError(BaseModel):
    pointer: str = Field(description="JSON Pointer to the offending field, e.g. `/amount_vnd` or `/rows/3/value_date`")
    detail: str
    code: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details. `code` is stable; extra members carry domain numbers (e.g. `remaining_vnd`)."""

    model_config = {"extra": "allow", "json_schema_extra": {"examples": [{
        "type": "https://disbursement-monitor.example/problems/plan_cap_exceeded",
        "title": "Business rule violated", "status": 422, "code": "plan_cap_exceeded",
        "detail": "R1: this disbursement exceeds the 2024 plan of the pool by 1,000,000 đồng.",
        "remaining_vnd": 4000000, "request_id": "3f1c…"}]}}

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(request: Request, status: int, code: str, title: str, detail: str,
                     errors: list[dict[str, Any]] | None = None, **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://disbursement-monitor.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
    }
    if errors:
        body["errors"] = errors
    body.update(extensions)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _audit_rejection(request: Request, status: int, code: str) -> None:
    if request.method not in WRITE_METHODS:
        return
    principal = getattr(request.state, "principal", None)
    if principal is None and not throttle.anonymous_audit.take(get_settings().audit_anonymous_per_minute):
        throttle.AUDIT_SKIPPED.inc()  # anonymous rejections past the budget are counted, not written
        return
    try:
        async with get_sessionmaker()() as session:
            add_entry(
                session,
                request_id=getattr(request.state, "request_id", "-"),
                method=request.method,
                path=replace_forbidden_characters(request.url.path),  # a path refused for its NUL is audited
                status_code=status,
                api_key_id=principal.key_id if principal else None,
                organisation_id=principal.organisation_id if principal else None,
                role=principal.role.value if principal else None,
                note=audit_note(request),
                code=code,
            )
            await session.commit()
    except Exception:  # the audit must never turn a 4xx into a 500
        log.exception("audit_write_failed", code=code)


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, rest = parts[0], parts[1:]
        return ("/" + "/".join(rest)) if where == "body" else f"{where}:" + "/".join(rest)
    return "/" + "/".join(parts)


def install(app: FastAPI) -> None:
    from app.kernel.api import openapi_doc

    openapi_doc.install(app)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        await _audit_rejection(request, exc.status, exc.code)
        extensions = dict(exc.extensions)
        errors = extensions.pop("errors", None)
        if errors is None and exc.pointer:
            errors = [{"pointer": exc.pointer, "detail": exc.detail, "code": exc.code}]
        response = problem_response(request, exc.status, exc.code, exc.title, exc.detail, errors, **extensions)
        if (retry := extensions.get("retry_after_seconds")) is not None:  # 429 (RFC 9110 §10.2.3)
            response.headers["Retry-After"] = str(retry)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"pointer": _pointer(tuple(e.get("loc", ()))), "detail": e.get("msg", "invalid"), "code": e.get("type")}
            for e in exc.errors()
        ]
        await _audit_rejection(request, 422, "validation_failed")
        return problem_response(request, 422, "validation_failed", "Invalid request",
                                f"{len(errors)} field(s) are invalid; see `errors`.", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        await _audit_rejection(request, exc.status_code, code)
        detail = exc.detail if isinstance(exc.detail, str) else "Request failed."
        response = problem_response(request, exc.status_code, code, detail, detail)
        for name, value in (exc.headers or {}).items():  # e.g. `Allow` on 405 (RFC 9110)
            response.headers[name] = value
        if exc.status_code == 405 and (methods := openapi_doc.allowed_methods(request.app, request.url.path)):
            response.headers["Allow"] = ", ".join(methods)
        return response

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent writer won a race on a natural key that our pre-checks had seen free.
        message = str(exc.orig)
        code = next((c for name, c in _UNIQUE_CODES.items() if name in message), "conflict")
        await _audit_rejection(request, 409, code)
        return problem_response(request, 409, code, "Conflict",
                                "The request conflicts with a record written at the same time; read and retry.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Reached only if the request-context middleware itself fails; it answers every other 500 itself.
        log_unhandled(exc)
        return problem_response(request, 500, "internal_error", "Internal error", INTERNAL_ERROR_DETAIL)


_APP_DIR = Path(__file__).resolve().parents[2]  # the `app` package
INTERNAL_ERROR_DETAIL = "The server failed to process the request; it has been logged."


def log_unhandled(exc: BaseException) -> None:
    """One log line for an unhandled error: its type, where it was raised in our code, and a message that
    never carries SQL or its parameters (a database error's text quotes both, and both can hold client data)."""
    if isinstance(exc, StatementError):
        message = f"database error {type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__}"
    else:
        message = (str(exc).splitlines() or [""])[0][:200]
    where = "?"
    tb = exc.__traceback__
    while tb is not None:  # the innermost frame in our own code
        code = tb.tb_frame.f_code
        if code.co_filename.startswith(f"{_APP_DIR}/"):
            where = f"{Path(code.co_filename).relative_to(_APP_DIR.parent)}:{tb.tb_lineno} in {code.co_name}"
        tb = tb.tb_next
    log.error("unhandled_error", error=type(exc).__name__, message=message, where=where)


# Documented on every operation (OpenAPI): the shared 4xx problem responses.
def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Malformed request (bad cursor, bad parameter)", 401: "Missing or invalid API key",
        403: "Role or organisation scope does not allow this", 404: "Not found",
        409: "Conflict (duplicate natural key, idempotency key in flight, illegal transition)",
        412: "If-Match does not match the current ETag", 413: "Request body too large",
        422: "Invalid input or business rule violated", 428: "If-Match header required",
    }
    return {
        status: {"model": Problem, "description": descriptions[status], "content": {PROBLEM_JSON: {}}}
        for status in statuses
    }
