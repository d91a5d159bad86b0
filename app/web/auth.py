"""The dashboard's sign-in: an access key in, a signed session cookie out — never the key itself.

The cookie carries the key's lookup prefix, its SHA-256 (what the database stores) and the time it was issued,
signed with HMAC-SHA256 under `DASHBOARD_SESSION_SECRET` (or a random secret kept in var/). Every page
authenticates it with the API's own code (`deps.identify_hashed`: the principal cache, revocation, expiry,
owner scope), so a revoked key signs the browser out as it refuses the API. A stolen database alone cannot forge
a cookie (the hash is signed), and a stolen cookie is bounded by `SESSION_SECONDS`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel.api.deps import SessionDep, Unauthenticated, identify_hashed, throttled
from app.kernel.config import ROOT, get_settings
from app.kernel.security import Principal, hash_key, parse_key

COOKIE = "dm_session"
SESSION_SECONDS = 8 * 3600  # a working day


@lru_cache
def _secret() -> bytes:
    configured = get_settings().dashboard_session_secret
    if configured:
        return configured.encode()
    path = ROOT / "var" / "dashboard-secret"  # every worker of one host signs with the same secret
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()


def _sign(payload: str) -> str:
    return hmac.new(_secret(), payload.encode(), hashlib.sha256).hexdigest()


def cookie_for(token: str, now: float | None = None) -> str:
    prefix = parse_key(token) or "-"
    payload = f"{prefix}.{hash_key(token)}.{int(now if now is not None else time.time())}"
    return base64.urlsafe_b64encode(f"{payload}.{_sign(payload)}".encode()).decode()


def read_cookie(value: str, now: float | None = None) -> tuple[str, str] | None:
    """(prefix, key hash) of a cookie this service signed and that has not expired, else None."""
    try:
        prefix, key_hash, issued, signature = base64.urlsafe_b64decode(value.encode()).decode().split(".")
        age = (now if now is not None else time.time()) - int(issued)
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        return None
    if not hmac.compare_digest(signature, _sign(f"{prefix}.{key_hash}.{issued}")) or not 0 <= age <= SESSION_SECONDS:
        return None
    return prefix, key_hash


async def sign_in(request: Request, session: AsyncSession, token: str) -> Principal:
    """The key's principal, under the API's failed-authentication limit; raises Unauthenticated/TooManyFailures."""
    token = token.strip()

    async def identify() -> Principal:
        if not token:
            raise Unauthenticated("missing_api_key", "Nhập mã truy cập (API key).")
        return await identify_hashed(request, session, parse_key(token), hash_key(token))

    return await throttled(request, identify)


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""


async def web_principal(request: Request, session: SessionDep) -> Principal:
    held = read_cookie(request.cookies.get(COOKIE, ""))
    if held is None:
        raise SignInRequired()
    try:
        return await identify_hashed(request, session, *held)
    except Unauthenticated as exc:  # revoked or expired since sign-in
        raise SignInRequired() from exc


WebPrincipal = Annotated[Principal, Depends(web_principal)]
