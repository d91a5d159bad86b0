"""The application factory: routers, middleware, error handlers and background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

import structlog
from fastapi import Depends, FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from app.kernel import logging as app_logging
from app.kernel.api import audit, docs_pages, health
from app.kernel.api import feed as events
from app.kernel.api.problems import install as install_problem_handlers
from app.kernel.api.text_guard import refuse_control_characters
from app.kernel.conditional import ConditionalGetMiddleware
from app.kernel.config import get_settings, split_list
from app.kernel.feed import publish_committed
from app.kernel.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from app.kernel.notify import start_listener
from app.kernel.poll_shortcut import PollShortcutMiddleware
from app.ledger import api as disbursements
from app.ledger import medium_term_api
from app.monitoring.api import indicators as monitoring
from app.monitoring.api import obstacles, schedules
from app.programme.api import people, progress, watch_lists
from app.reallocation import api as reallocation
from app.registry.api import organisations, projects
from app.reporting.api import advances as reports_advances
from app.reporting.api import reports, workbooks
from app.rulesets import api as rulesets
from app.treasury.api import advances, contracts, dossiers, reconciliation, recovery
from app.treasury.api import poller as treasury
from app.web import pages as dashboard

log = structlog.get_logger()

DESCRIPTION = """
Monitors how public-investment capital (vốn đầu tư công) of a province is disbursed: capital plans,
disbursements, advances and their recovery with the State Treasury (Kho bạc Nhà nước), and proposals to
move capital from projects that cannot spend it to projects that can.

* **Auth**: `Authorization: Bearer <api key>`; roles admin, planner, approver, treasury, owner, viewer.
* **Money** is integer đồng (`…_vnd`). Dates are `YYYY-MM-DD` (Asia/Ho_Chi_Minh), timestamps RFC 3339 UTC.
* **Errors** are RFC 9457 `application/problem+json` with a stable `code`.
* **Lists** use `page_size` and an opaque `page_token`; the answer carries `next_page_token`.
* **Money POSTs** take `Idempotency-Key`.
"""


async def _publisher_loop(interval: float) -> None:
    """Publish committed events continuously so pollers see them within about a second."""
    while True:
        try:
            await publish_committed()
        except Exception:  # keep publishing after a transient database error
            log.exception("event_publisher_failed")
        await asyncio.sleep(interval)


async def _sweep_loop(interval: float) -> None:
    """The overdue sweep (R9–R12, R6, R16) every `sweep_interval_seconds`; one worker at a time."""
    from app.kernel.clock import today
    from app.treasury.sweep import run_sweep

    while True:
        try:
            await run_sweep(today())
        except Exception:  # keep sweeping after a transient database error
            log.exception("sweep_failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    listener = await start_listener()  # PostgreSQL: per-worker caches cleared on every worker's commit
    # Everything built at start-up (modules, the app, mappers) lives as long as the worker: out of the collector's
    # sight, a full collection walks only what requests allocate (a 10,000-row batch allocates hundreds of thousands
    # of objects, and walking the start-up heap each time cost a few hundred ms per batch).
    gc.collect()
    gc.freeze()
    tasks = [asyncio.create_task(_publisher_loop(1.0))] if app.state.background_jobs else []
    if app.state.background_jobs and get_settings().sweep_enabled:
        tasks.append(asyncio.create_task(_sweep_loop(float(get_settings().sweep_interval_seconds))))
    if app.state.background_jobs and get_settings().indicator_refresh_enabled:
        from app.monitoring.indicator_store import refresh_loop  # stored indicators, one worker at a time

        tasks.append(asyncio.create_task(refresh_loop(float(get_settings().indicator_refresh_seconds))))
    yield
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if listener is not None:
        await listener.stop()


def create_app(background_jobs: bool = True) -> FastAPI:
    settings = get_settings()
    app_logging.configure(settings.log_level, settings.log_json)
    app = FastAPI(
        title="Disbursement Monitor",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from local assets (docs_pages): no CDN
        redoc_url=None,
        redirect_slashes=False,  # a redirect would be built from the client's Host header: 404 instead
        dependencies=[Depends(refuse_control_characters)],  # no text field may carry NUL or C0 controls
        openapi_tags=[
            {"name": "projects", "description": "Projects (dự án), capital plans (kế hoạch vốn) and balances"},
            {"name": "disbursements", "description": "Disbursements (giải ngân): advances, payments, clearance"},
            {"name": "organisations", "description": "Organisations, working groups, API keys"},
            {"name": "events", "description": "Change feed for pollers"},
            {"name": "monitoring", "description": "Schedules, extra needs, indicators, flags, summaries (R17, R18)"},
            {"name": "reallocation", "description": "Capital reallocation proposals (điều chuyển vốn, R19)"},
            {"name": "obstacles", "description": "Obstacles (khó khăn, vướng mắc) and working-group follow-up"},
            {"name": "contracts", "description": "Contracts (hợp đồng) and their advance balances (R3–R8)"},
            {"name": "treasury", "description": "Overdue advances (tạm ứng quá hạn) and the overdue sweep (R9–R12)"},
            {"name": "recovery", "description": "Recovery cases for overdue advances (R16)"},
            {"name": "dossiers", "description": "Payment and advance dossiers (hồ sơ) and the Treasury SLA (R15)"},
            {"name": "reports", "description": "Reports (R20): monthly, TT 37 forms 01a–01d, watch-lists, quarterly "
             "advances (08.a, 08.b); JSON, .xlsx or CSV"},
            {"name": "rule-sets", "description": "Rule sets (nd99, nd254) and calendar days, administrators only"},
            {"name": "reconciliation", "description": "R15a: owner reports against the Treasury's record (đối chiếu)"},
            {"name": "watch-lists", "description": "Watch-lists of the action programme (Phụ lục 1–3) as data (R21)"},
            {"name": "people", "description": "Lead officials and working-group members as people (R21)"},
            {"name": "progress", "description": "Physical progress and milestones: start, completion, inauguration"},
            {"name": "health", "description": "Liveness, readiness, metrics"},
            {"name": "audit", "description": "The audit log of every write"},
        ],
    )
    app.state.background_jobs = background_jobs
    app.add_middleware(ConditionalGetMiddleware)  # inside the access log, so a 304 is logged as one
    app.add_middleware(PollShortcutMiddleware)  # an unchanged poll: 304 from memory, before routing (logged too)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes,
                       body_timeout_seconds=settings.body_timeout_seconds)
    if origins := split_list(settings.cors_allow_origins):  # off unless configured
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False, max_age=600,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                                          "If-None-Match", "X-Request-ID", "X-Read-After"],
                           expose_headers=["ETag", "Idempotency-Replayed", "X-Request-ID", "Retry-After",
                                          "X-Read-After"])
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=split_list(settings.trusted_hosts) or ["*"])
    docs_pages.install(app)
    install_problem_handlers(app)
    for module in (health, organisations, projects, medium_term_api, disbursements, events, schedules, monitoring,
                   reallocation, obstacles, reports,
                   contracts, treasury, advances, recovery, rulesets, audit, dossiers, reports_advances,
                   reconciliation, workbooks, watch_lists, people, progress, dashboard):
        app.include_router(module.router)
    return app
