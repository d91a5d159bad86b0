"""Domain errors raised by services; the API turns them into RFC 9457 problem+json.

Each error carries a stable `code` (documented in README's error table) and domain extensions
such as `remaining_vnd`, so a client can tell the user what would have been allowed.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 422
    title: str = "Request rejected"

    def __init__(self, code: str, detail: str, *, pointer: str | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.pointer = pointer
        self.extensions = extensions


class RuleViolation(DomainError):
    status = 422
    title = "Business rule violated"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class UnknownReference(DomainError):
    """A resource the request body names does not exist (`reference_not_found`, with the field's pointer).

    404 is kept for the resource the URL names: a client (or a crawler following links) must be able to tell
    "this URL is gone" from "this body points at nothing"."""

    status = 422
    title = "Unknown reference"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"


class BadRequest(DomainError):
    status = 400
    title = "Bad request"
