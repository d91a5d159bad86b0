"""Conditional GET (RFC 9110 §13.1.2): `If-None-Match` against an `ETag`, in one place for every endpoint.

If-None-Match uses the *weak* comparison: `W/"x"` matches `"x"` (a proxy that weakens our strong tags must
not defeat every 304), and `*` matches any current representation. `etag_matches` is the one comparison;
`ConditionalGetMiddleware` applies it to every GET answered 200 with an ETag, and an endpoint that can tell
"unchanged" before doing the work (the Treasury's overdue snapshot) calls it itself to stop early.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_TAG = re.compile(r'(?:W/)?"([^"]*)"')
# A 304 has no content: the 200's headers about its body go (RFC 9110 §15.4.5), the rest (ETag, Vary…) stay.
_DROPPED = {b"content-length", b"content-type", b"content-encoding", b"transfer-encoding"}


def _opaque(tag: str) -> str | None:
    found = _TAG.fullmatch(tag.strip())
    return found.group(1) if found else None


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """True when `If-None-Match` names this ETag under weak comparison, or is `*`."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    current = _opaque(etag)
    return current is not None and current in _TAG.findall(if_none_match)


class ConditionalGetMiddleware:
    """A GET/HEAD answered 200 with an ETag that If-None-Match names becomes 304 without a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        if_none_match = Headers(scope=scope).get("if-none-match")
        if not if_none_match:
            await self.app(scope, receive, send)
            return
        not_modified = False

        async def send_wrapper(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                etag = Headers(raw=message.get("headers", [])).get("etag")
                if etag is not None and etag_matches(if_none_match, etag):
                    not_modified = True
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _DROPPED]
                    await send({"type": "http.response.start", "status": 304, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
            if not_modified:
                return  # the 200's body is dropped
            await send(message)

        await self.app(scope, receive, send_wrapper)
