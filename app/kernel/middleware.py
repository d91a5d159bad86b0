"""Pure ASGI middleware: request id, body-size limit (413), slow-body timeout (408), structured access log and
metrics; security headers on every answer."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.kernel.api.problems import INTERNAL_ERROR_DETAIL, log_unhandled
from app.kernel.replica import STATE_KEY as READ_AFTER

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
log = structlog.get_logger("access")


def _problem(status: int, code: str, detail: str, request_id: str) -> bytes:
    return json.dumps({
        "type": f"https://disbursement-monitor.example/problems/{code}", "title": detail, "status": status,
        "detail": detail, "code": code, "request_id": request_id,
    }).encode()


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout_seconds: float = 30.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = 1
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
                if read_after := scope["state"].get(READ_AFTER):  # a write, with a standby serving reads
                    message["headers"].append((b"x-read-after", read_after.encode()))
            await send(message)

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(send, request_id, 413, "payload_too_large",
                               f"Request body exceeds {self.max_body_bytes} bytes.")
            status_holder["status"] = 413
        else:
            received = 0
            body_done = False

            async def limited_receive() -> Message:
                nonlocal received, body_done
                if body_done:  # after the body, the app only waits for a disconnect: no deadline
                    return await receive()
                try:  # a client that trickles its body holds a worker's connection: bounded
                    message = await asyncio.wait_for(receive(), self.body_timeout_seconds)
                except TimeoutError:
                    raise _BodyTimeout() from None
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    body_done = not message.get("more_body", False)
                    if received > self.max_body_bytes:
                        raise _BodyTooLarge()
                return message

            try:
                await self.app(scope, limited_receive, send_wrapper)
            except _BodyTooLarge:
                await self._reject(send, request_id, 413, "payload_too_large",
                                   f"Request body exceeds {self.max_body_bytes} bytes.")
                status_holder["status"] = 413
            except _BodyTimeout:
                await self._reject(send, request_id, 408, "request_timeout",
                                   f"The request body did not arrive within {self.body_timeout_seconds:g} s.")
                status_holder["status"] = 408
            except Exception as exc:  # answered here, so a 500 is logged once, counted and access-logged
                log_unhandled(exc)
                status_holder["status"] = 500
                if not status_holder.get("started"):
                    await self._reject(send, request_id, 500, "internal_error", INTERNAL_ERROR_DETAIL)
        route = scope.get("route")
        route_path = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - started
        REQUESTS.labels(scope["method"], route_path, str(status_holder["status"])).inc()
        LATENCY.labels(scope["method"], route_path).observe(elapsed)
        level = log.error if status_holder["status"] >= 500 else log.info
        level("request", method=scope["method"], path=scope["path"], status=status_holder["status"],
              ms=round(elapsed * 1000, 2))
        structlog.contextvars.clear_contextvars()

    async def _reject(self, send: Send, request_id: str, status: int, code: str, detail: str) -> None:
        await self._send_problem(send, status, _problem(status, code, detail, request_id), request_id)

    @staticmethod
    async def _send_problem(send: Send, status: int, body: bytes, request_id: str) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode())]})
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(HTTPException):
    # An HTTPException so FastAPI's body parser re-raises it (anything else becomes a 400).
    def __init__(self) -> None:
        super().__init__(413, "Request body too large.")


class _BodyTimeout(HTTPException):
    def __init__(self) -> None:
        super().__init__(408, "Request body timed out.")


# The API answers JSON only: nothing to frame, run or load. Pages (/docs, /redoc, the dashboard) load their
# own assets from this origin and nothing from elsewhere.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    """nosniff, no framing, no referrer on every answer; `Cache-Control: no-store` on API answers unless the
    route chose its own (they carry financial data and, on key creation, a secret)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        api = path.startswith("/api/") or path == "/openapi.json"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                                    (b"referrer-policy", b"no-referrer"),
                                    (b"content-security-policy", API_CSP if api else PAGE_CSP)):
                    if name not in present:
                        headers.append((name, value))
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)
