"""Pure ASGI middleware: request id, body-size limit (413), structured access log and metrics."""

from __future__ import annotations

import json
import time
import uuid

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject_too_large(send, request_id)
            status_holder["status"] = 413
        else:
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise _BodyTooLarge()
                return message

            try:
                await self.app(scope, limited_receive, send_wrapper)
            except _BodyTooLarge:
                await self._reject_too_large(send, request_id)
                status_holder["status"] = 413
        route = scope.get("route")
        route_path = getattr(route, "path", "unmatched")
        elapsed = time.perf_counter() - started
        REQUESTS.labels(scope["method"], route_path, str(status_holder["status"])).inc()
        LATENCY.labels(scope["method"], route_path).observe(elapsed)
        log.info("request", method=scope["method"], path=scope["path"], status=status_holder["status"],
                 ms=round(elapsed * 1000, 2))
        structlog.contextvars.clear_contextvars()

    async def _reject_too_large(self, send: Send, request_id: str) -> None:
        body = _problem(413, "payload_too_large", f"Request body exceeds {self.max_body_bytes} bytes.", request_id)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode())]})
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(HTTPException):
    # An HTTPException so FastAPI's body parser re-raises it (anything else becomes a 400).
    def __init__(self) -> None:
        super().__init__(413, "Request body too large.")
