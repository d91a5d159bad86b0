"""Jinja2 pages under a strict Content-Security-Policy: no script at all, styles only from our own file.

Every page is `no-store` (financial figures) and names its own CSP, which the security-headers middleware keeps.
Errors raised by the services become a Vietnamese page with the same status; no session → the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.kernel.errors import DomainError
from app.reporting import labels
from app.web.auth import SignInRequired

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store"}

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(("html",)),
                  trim_blocks=True, lstrip_blocks=True)
env.filters.update(
    ty=labels.billion_text,  # tỷ đồng
    trieu=lambda v: labels.number_text(labels.million(v), 2),
    dong=lambda v: labels.number_text(v),
    pct=lambda v: "—" if v is None else labels.number_text(v, 2),
    dmy=labels.date_text,
    source=lambda c: labels.label(labels.CAPITAL_SOURCES, c),
    level=lambda c: labels.label(labels.BUDGET_LEVELS, c),
    flag=lambda c: labels.label(labels.FLAGS, c),
    reason=lambda c: labels.label(labels.FLAG_REASONS, c),
    sector=lambda c: labels.label(labels.SECTORS, c),
    kind=lambda c: labels.label(labels.DISBURSEMENT_KINDS, c),
    advance_kind=lambda c: labels.label(labels.ADVANCE_KINDS, c),
    allocation_kind=lambda c: labels.label(labels.ALLOCATION_KINDS, c),
    origin=lambda c: labels.label(labels.SOURCES, c),
    proposal_status=lambda c: labels.label(labels.PROPOSAL_STATUSES, c),
    case_state=lambda c: labels.label(labels.CASE_STATES, c),
    dossier_status=lambda c: labels.label(labels.DOSSIER_STATUSES, c),
    rule=lambda c: labels.label(labels.OVERDUE_RULES, c),
    step=lambda c: labels.label(labels.RECOVERY_STEPS, c),
    group=lambda c: labels.label(labels.GROUPS, c),
    frequency=lambda c: labels.label(labels.FREQUENCIES, c),
)


def number_row(name: str, value: int | float) -> tuple[str, str]:
    """A flag's number in words and units (the flag's `numbers`, shown as the API gives them)."""
    word = labels.NUMBERS.get(name, name)
    if name.endswith("_vnd"):
        return word, f"{labels.billion_text(int(value))} tỷ đồng"
    if name.endswith(("_pct", "_pp")):
        return word, f"{labels.number_text(value, 2)} {'điểm %' if name.endswith('_pp') else '%'}"
    return word, labels.number_text(value)


env.globals.update(number_row=number_row, PREFIX=PREFIX)


def link(path: str, **query: Any) -> str:
    """A dashboard address with its query (None values left out), e.g. every page's `as_of`."""
    shown = {k: v.isoformat() if isinstance(v, date) else v for k, v in query.items() if v is not None}
    return f"{PREFIX}{path}" + (f"?{urlencode(shown)}" if shown else "")


env.globals["link"] = link


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(template).render(**context), status_code=status, headers=HEADERS)


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(link("/sign-in", next=target), status_code=303, headers=HEADERS)


class PageRoute(APIRoute):
    """Dashboard routes: a missing session redirects to sign-in; a service's refusal is a page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except DomainError as exc:
                return page("error.html", status=exc.status, title="Không thực hiện được", code=exc.code,
                            detail=exc.detail, principal=getattr(request.state, "principal", None))
            except RequestValidationError:
                return page("error.html", status=400, title="Tham số không hợp lệ", code="invalid_parameter",
                            detail="Kiểm tra lại ngày (yyyy-mm-dd), năm kế hoạch hoặc lựa chọn trên trang.",
                            principal=getattr(request.state, "principal", None))

        return guarded
