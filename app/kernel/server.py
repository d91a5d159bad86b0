"""uvicorn's HTTP protocol with a deadline on request headers (slowloris).

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) and caps connections (`limit_concurrency`),
but never times out a client that opens a connection, or starts a request, and then trickles its headers:
each such connection is held open for ever. This protocol closes a connection whose request line and headers
are not complete `HEADER_TIMEOUT_SECONDS` after the connection opened or the request's first byte arrived.
A slow *body* is bounded in the app (`RequestContextMiddleware`, 408 after `BODY_TIMEOUT_SECONDS` of silence).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.kernel.config import get_settings


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(get_settings().header_timeout_seconds, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
