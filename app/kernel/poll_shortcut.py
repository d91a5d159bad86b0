"""The pollers' short path: an unchanged poll answered 304 before routing, from this worker's memory.

A poll endpoint whose ETag is computed from a remembered version (`caches.snapshot_versions`, `caches.feed_heads`)
calls `remember(request, etag, cache, since)`, `since` being the cache's epoch taken before the version was read.
The exact request — path, query string, the caller's key (by its hash), the business date — is then known to
answer that ETag for as long as the cache keeps its entry under that epoch: any commit that changes the version
clears the cache in every worker (NOTIFY, acknowledged before the writer is answered; app.kernel.notify), the
cache is bypassed while the worker cannot hear notifications, and its TTL bounds the rest.

`PollShortcutMiddleware` answers such a request carrying a matching If-None-Match with 304 at once: no routing,
no dependency, no session. Only what the full path would also have allowed: the key must sit in the principal
cache (cleared on revocation or scope change), unexpired, and the address must not be past the failed-
authentication limit. The query is matched byte for byte, so it was validated by the full path when remembered.
Anything else goes the full way (which may well answer 304 too).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.kernel import caches, throttle
from app.kernel.clock import today, utcnow
from app.kernel.conditional import etag_matches
from app.kernel.config import get_settings
from app.kernel.security import hash_key

MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Known:
    etag: str
    cache: caches.TtlCache
    key: Hashable
    since: int  # the cache's epoch when the version behind `etag` was read
    route: object  # the route that answered, for the access log and metrics of the short answer


_known: dict[tuple, _Known] = {}


def _request_key(scope: Scope, token_hash: str) -> tuple:
    return scope["path"], scope.get("query_string", b""), token_hash, today()


def _bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def remember(request: Request, etag: str, cache: caches.TtlCache, key: Hashable, since: int) -> None:
    """This request answers `etag` while `cache[key]` stays as read at epoch `since` (see the module docstring)."""
    token = _bearer(request.headers)
    if token is None or cache.epoch != since or cache.get(key) is caches.MISSING:
        return
    if len(_known) >= MAX_ENTRIES:
        _known.clear()
    _known[_request_key(request.scope, hash_key(token))] = _Known(etag, cache, key, since, request.scope.get("route"))


def clear() -> None:
    _known.clear()


def _still_valid(known: _Known) -> bool:
    return known.cache.epoch == known.since and known.cache.get(known.key) is not caches.MISSING


class PollShortcutMiddleware:
    """A GET whose exact request was remembered, with a matching If-None-Match and a cached live key: 304."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and _known:
            known = self._unchanged(scope)
            if known is not None:
                scope["route"] = known.route
                await send({"type": "http.response.start", "status": 304,
                            "headers": [(b"etag", known.etag.encode("latin-1"))]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _unchanged(scope: Scope) -> _Known | None:
        headers = Headers(scope=scope)
        if_none_match, token = headers.get("if-none-match"), _bearer(headers)
        if not if_none_match or token is None:
            return None
        token_hash = hash_key(token)
        known = _known.get(_request_key(scope, token_hash))
        if known is None or not _still_valid(known) or not etag_matches(if_none_match, known.etag):
            return None
        principal = caches.principals.get(token_hash)
        if principal is caches.MISSING or principal.expired(utcnow()):
            return None
        settings = get_settings()
        client = scope.get("client")
        address = client[0] if client else "-"
        if throttle.auth_failures.retry_after(address, settings.auth_failure_limit,
                                              settings.auth_failure_window_seconds) is not None:
            return None
        return known
