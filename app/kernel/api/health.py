"""Liveness, readiness and metrics (no API key needed)."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.kernel.config import ROOT
from app.kernel.db import get_engine

router = APIRouter(tags=["health"])


def head_revisions() -> set[str]:
    config = Config(str(ROOT / "alembic.ini"))
    return set(ScriptDirectory.from_config(config).get_heads())


@router.get("/healthz", operation_id="getHealth", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", operation_id="getReadiness", summary="Readiness: database reachable, migrations at head",
            responses={503: {"description": "Not ready"}})
async def readyz() -> JSONResponse:
    try:
        async with get_engine().connect() as connection:
            current = set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
    except Exception as exc:  # any failure means "not ready"
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    heads = head_revisions()
    if current != heads:
        return JSONResponse({"status": "migrating", "database": sorted(current), "code": sorted(heads)},
                            status_code=503)
    return JSONResponse({"status": "ready", "revision": sorted(current)})


@router.get("/metrics", operation_id="getMetrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
