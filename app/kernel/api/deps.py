"""Request-scoped dependencies: the unit of work, the caller, authorisation and idempotency."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import Role
from app.kernel import caches, feed, idempotency, replica, throttle
from app.kernel.audit import AuditNote, write_entry
from app.kernel.clock import today, utcnow
from app.kernel.config import get_settings
from app.kernel.db import get_sessionmaker
from app.kernel.errors import DomainError
from app.kernel.owner_scope import subunit_ids
from app.kernel.security import Principal, hash_key, parse_key
from app.models import ApiKey, Organisation

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Unauthenticated(DomainError):
    status = 401
    title = "Unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


def audit_note(request: Request) -> AuditNote:
    note = getattr(request.state, "audit", None)
    if note is None:
        note = request.state.audit = AuditNote()
    return note


def note_write(request: Request, action: str, entity_type: str, entity_id: str | int,
               detail: dict | None = None) -> None:
    """Say what this write did, for its audit line."""
    note = audit_note(request)
    note.action, note.entity_type, note.entity_id, note.detail = action, entity_type, str(entity_id), detail


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent (scope="function").

    A write's audit line goes into the same transaction, so an accepted write and its audit line
    are committed together; a rejected write is audited by the error handler in its own transaction.
    """
    async with get_sessionmaker()() as session:
        try:
            yield session
            if request.method in WRITE_METHODS:
                # A write may add events by any path (the posting pipeline inserts them in bulk): every worker
                # forgets the feed's head when it commits, and the write is answered once they all have.
                feed.note_emitted(session)
                principal: Principal | None = getattr(request.state, "principal", None)
                if principal is not None:
                    await confirm_key_live(session, principal)
                await write_entry(
                    session,
                    request_id=request.state.request_id,
                    method=request.method,
                    path=request.url.path,
                    status_code=getattr(request.state, "status_code", 200),
                    api_key_id=principal.key_id if principal else None,
                    organisation_id=principal.organisation_id if principal else None,
                    role=principal.role.value if principal else None,
                    note=audit_note(request),
                    idempotency_record=session.info.pop(idempotency.PENDING, None),
                )
            await session.commit()
            await caches.delivered(session)  # a cache-clearing change is answered once every worker cleared it
            if request.method in WRITE_METHODS:
                await replica.note_commit(session, request.scope.setdefault("state", {}))  # X-Read-After
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_read_session(
    session: SessionDep,
    read_after: Annotated[str | None, Header(
        alias=replica.HEADER, pattern=replica.LSN_PATTERN,
        description="The `X-Read-After` of your last write: the answer includes that write (read from the "
                    "replica once it has replayed it, else from the primary). Only with DATABASE_READ_URL.")] = None,
) -> AsyncIterator[AsyncSession]:
    """A read-only endpoint's session: on the streaming standby when DATABASE_READ_URL names one (app.kernel.replica),
    else the request's own session (one transaction per request: SQLite's BEGIN IMMEDIATE admits no second one), as
    when the standby has not yet replayed the caller's last write. A standby session never commits."""
    standby = await replica.standby_for_read(read_after)
    if standby is None:
        yield session
        return
    async with standby() as read_only:
        yield read_only


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


class TooManyFailures(DomainError):
    status = 429
    title = "Too many failed authentications"


async def get_principal(request: Request, session: SessionDep) -> Principal:
    """The caller, from its API key; an address past the failed-authentication limit is refused first (429),
    valid key or not, until its window slides (`AUTH_FAILURE_LIMIT` per `AUTH_FAILURE_WINDOW_SECONDS`)."""
    return await throttled(request, lambda: _identify(request, session))


async def throttled(request: Request, identify: Callable[[], Awaitable[Principal]]) -> Principal:
    """Authenticate with `identify` under the failed-authentication limit (also the dashboard's sign-in)."""
    settings = get_settings()
    address = request.client.host if request.client else "-"
    window = settings.auth_failure_window_seconds
    if (wait := throttle.auth_failures.retry_after(address, settings.auth_failure_limit, window)) is not None:
        throttle.AUTH_THROTTLED.inc()
        raise TooManyFailures("too_many_failed_authentications",
                              f"Too many failed authentications from this address; retry in {wait} s.",
                              retry_after_seconds=wait)
    try:
        return await identify()
    except Unauthenticated as exc:
        throttle.AUTH_FAILURES.labels(exc.code).inc()
        throttle.auth_failures.record(address, window)
        raise


async def _identify(request: Request, session: AsyncSession) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("missing_api_key", "Send an API key as 'Authorization: Bearer <key>'.")
    token = token.strip()
    # Per-worker cache keyed by the key's hash (never the key itself), cleared in every worker when a key is
    # revoked or an owner scope changes (caches.invalidate_on_commit, NOTIFY on PostgreSQL; CONTRIBUTING.md).
    # The epoch is taken before the read, so a revocation that lands meanwhile is not cached over.
    token_hash = hash_key(token)
    principal = _cached(token_hash)
    if principal is caches.MISSING:
        epoch = caches.principals.epoch
        principal = await _authenticate(session, token)
        caches.principals.put(token_hash, principal, epoch)
    else:  # a cached key never outlives its expiry nor its organisation
        _still_valid(principal, token_hash)
    request.state.principal = principal
    return principal


def _cached(token_hash: str) -> Any:
    """The cached principal (or `caches.MISSING`), unless its owner scope was read on another business date
    (successions take effect on their date)."""
    principal = caches.principals.get(token_hash)
    if principal is not caches.MISSING and principal.scope_on not in (None, today()):
        return caches.MISSING
    return principal


def _still_valid(principal: Principal, token_hash: str) -> None:
    if principal.expired(utcnow()):
        caches.principals.pop(token_hash)
        raise _expired()
    if principal.organisation_ended(today()):
        caches.principals.pop(token_hash)
        raise _organisation_ended(principal.organisation_valid_to)


def _organisation_ended(valid_to: date | None) -> Unauthenticated:
    return Unauthenticated("organisation_ended", f"The API key's organisation ceased on {valid_to} (its successor "
                           "took over); ask for a key of the successor organisation.")


def _expired() -> Unauthenticated:
    return Unauthenticated("expired_api_key", "The API key has expired; ask an administrator for a new one.")


async def _authenticate(session: AsyncSession, token: str) -> Principal:
    return await _authenticate_hashed(session, parse_key(token), hash_key(token))


async def identify_hashed(request: Request, session: AsyncSession, prefix: str | None, token_hash: str) -> Principal:
    """The caller behind a key known by its prefix and hash only: the dashboard's signed session cookie (app/web),
    which never holds the key. The same principal cache, revocation, expiry and owner scope as a Bearer key."""
    principal = _cached(token_hash)
    if principal is caches.MISSING:
        epoch = caches.principals.epoch
        principal = await _authenticate_hashed(session, prefix, token_hash)
        caches.principals.put(token_hash, principal, epoch)
    else:
        _still_valid(principal, token_hash)
    request.state.principal = principal
    return principal


async def _authenticate_hashed(session: AsyncSession, prefix: str | None, token_hash: str) -> Principal:
    key = None
    if prefix is not None:
        key = (await session.execute(
            select(ApiKey.id, ApiKey.role, ApiKey.organisation_id, ApiKey.key_hash, ApiKey.expires_at,
                   Organisation.valid_to).join(Organisation, Organisation.id == ApiKey.organisation_id)
            .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None)))).first()
    if key is None or not hmac.compare_digest(token_hash, key.key_hash):
        raise Unauthenticated("invalid_api_key", "The API key is unknown or revoked.")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise _expired()
    if key.valid_to is not None and key.valid_to <= today():
        raise _organisation_ended(key.valid_to)
    role = Role(key.role)
    scope = await subunit_ids(session, key.organisation_id) if role is Role.owner else frozenset()
    return Principal(key_id=key.id, role=role, organisation_id=key.organisation_id, scope_organisation_ids=scope,
                     expires_at=key.expires_at, organisation_valid_to=key.valid_to,
                     scope_on=today() if role is Role.owner else None)


async def confirm_key_live(session: AsyncSession, principal: Principal) -> None:
    """A write commits only if its key is still live *in its own transaction*, whatever a cache said.

    PostgreSQL: FOR KEY SHARE, which a revocation's FOR UPDATE waits for (and vice versa), so a write and the
    revocation of its key are serialised: either the write commits first or it sees the revocation. SQLite
    serialises writers anyway (BEGIN IMMEDIATE)."""
    valid_to = select(Organisation.valid_to).where(Organisation.id == ApiKey.organisation_id).scalar_subquery()
    row = (await session.execute(
        select(ApiKey.revoked_at, ApiKey.expires_at, valid_to.label("valid_to")).where(ApiKey.id == principal.key_id)
        .with_for_update(of=ApiKey, read=True, key_share=True))).first()
    if row is None or row.revoked_at is not None:
        caches.principals.invalidate()
        raise Unauthenticated("invalid_api_key", "The API key is unknown or revoked.")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise _expired()
    if row.valid_to is not None and row.valid_to <= today():  # a succession recorded while this write ran
        raise _organisation_ended(row.valid_to)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(action: str):
    """Dependency: the caller's role must allow `action` (app.kernel.security.POLICY)."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if not principal.may(action):
            raise Forbidden("forbidden", "Your API key's role may not perform this operation.")
        return principal

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return Depends(dependency)


def authorize_project(principal: Principal, action: str, investor_id: int) -> None:
    """Role and owner scope for a write on one project (the one place both are checked)."""
    if not principal.may_write_for_investor(action, investor_id):
        raise Forbidden("forbidden", "Your API key may not write for this project.")


def authorize_fact(principal: Principal, fact: str, whose: str, what: str) -> None:
    """Per-fact authority (app.kernel.security.FACT_AUTHORITY): who may change this fact, given whose it is."""
    if not principal.may_change(fact, whose):
        raise Forbidden("fact_authority", f"Your API key's role may not change {what}.")


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Unique key for this write (1–200 characters). A retry with the same key and body returns "
        "the first response with `Idempotency-Replayed: true`; another body → 422; still in flight → 409.",
        min_length=1,
        max_length=200,
    ),
]


class Idempotency:
    """Per-request idempotency for money POSTs."""

    def __init__(self, request: Request, session: AsyncSession, principal: Principal, key: str | None) -> None:
        self.request, self.session, self.principal, self.key = request, session, principal, key
        self.fingerprint = ""

    async def replay(self) -> Response | None:
        if self.key is None:
            return None
        body = await self.request.body()
        self.fingerprint = idempotency.request_fingerprint(self.request.method, self.request.url.path, body)
        record = await idempotency.claim(self.session, self.principal.key_id, self.key, self.fingerprint)
        if record is None:
            return None
        audit_note(self.request).action = "idempotent_replay"
        return Response(
            content=record.response_body,
            status_code=record.status_code,
            media_type="application/json",
            headers={"Idempotency-Replayed": "true"},
        )

    def respond(self, status: int, model: BaseModel) -> Response:
        body = model.model_dump_json()
        if self.key is not None:
            idempotency.store(self.session, self.principal.key_id, self.key, self.fingerprint, status, body)
        self.request.state.status_code = status
        return Response(content=body, status_code=status, media_type="application/json")


async def get_idempotency(
    request: Request, session: SessionDep, principal: PrincipalDep, key: IdempotencyKeyHeader = None
) -> Idempotency:
    return Idempotency(request, session, principal, key)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]


def json_created(request: Request, model: BaseModel, status: int = 201) -> Response:
    request.state.status_code = status
    return JSONResponse(model.model_dump(mode="json"), status_code=status)

