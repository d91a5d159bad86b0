"""`python -m app …`: serve, migrate, demo, create-key, verify, openapi."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import date
from pathlib import Path

import typer

from app.kernel.config import ROOT

cli = typer.Typer(help="Disbursement Monitor command line", no_args_is_help=True, add_completion=False)


def _run(coro):
    return asyncio.run(coro)


@cli.command()
def migrate() -> None:
    """Bring the database schema to the latest migration (alembic upgrade heads)."""
    from alembic import command
    from alembic.config import Config

    Path(ROOT / "var").mkdir(exist_ok=True)
    command.upgrade(Config(str(ROOT / "alembic.ini")), "heads")
    typer.echo("database migrated")


@cli.command("create-key")
def create_key(org: str = typer.Option(..., help="Organisation code"),
               role: str = typer.Option(..., help="admin|planner|approver|treasury|owner|viewer"),
               name: str = typer.Option("cli", help="A label for the key"),
               holder: str = typer.Option(None, help="The person the key is issued to (default: the label)")) -> None:
    """Issue an API key (no issuing key: the bootstrap); it is printed once and stored only as a hash."""
    from app.enums import Role
    from app.kernel.db import session_scope
    from app.registry import organisations

    async def go() -> str:
        async with session_scope() as session:
            organisation = await organisations.get_by_code(session, org)
            _, secret = await organisations.create_api_key(session, organisation_id=organisation.id,
                                                           role=Role(role), name=name, holder=holder)
            return secret

    typer.echo(_run(go()))


@cli.command()
def bootstrap(org: str = typer.Option("UBND", help="Code of the first organisation (created if missing)"),
              name: str = typer.Option("Ủy ban nhân dân tỉnh", help="Its name")) -> None:
    """On an empty database: the first organisation and an admin key, printed once (refused if one exists)."""
    from app.kernel.db import session_scope
    from app.kernel.errors import DomainError
    from app.registry.bootstrap import first_admin_key

    async def go() -> str:
        async with session_scope() as session:
            _, secret = await first_admin_key(session, code=org, name=name)
            return secret

    try:
        secret = _run(go())
    except DomainError as exc:
        typer.echo(f"refused ({exc.code}): {exc.detail}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"admin key for {org} (shown once, only its SHA-256 is stored):", err=True)
    typer.echo(secret)


DEMO_KEY_ORGS = {"admin": "STC", "planner": "SKHDT", "approver": "UBND-VP", "treasury": "KBNN-VP",
                 "owner": "BQL-GT", "viewer": "STC"}


@cli.command()
def demo(if_empty: bool = typer.Option(False, help="Do nothing if projects exist already"),
         keys_file: Path = typer.Option(ROOT / "var" / "demo-keys.json", help="Where to write demo API keys")) -> None:
    """Load the demo province (Vĩnh Phúc 2023–2024, as known on 2024-10-11) and write one key per role."""
    from sqlalchemy import select

    from app.demo import province
    from app.enums import Role
    from app.kernel.db import session_scope
    from app.models import Project
    from app.registry import organisations

    keys_written = keys_file.exists()

    async def go() -> dict[str, str] | None:
        async with session_scope() as session:
            loaded = await session.scalar(select(Project.id).limit(1)) is not None
            if loaded and if_empty:
                if keys_written:
                    return None
            elif loaded:
                raise typer.BadParameter("the database already holds projects")
            else:
                context = await province.load(session)
                typer.echo(f"demo province loaded: {len(context.projects)} projects")
            keys = {}
            for role, org in DEMO_KEY_ORGS.items():
                organisation = await organisations.get_by_code(session, org)
                _, keys[role] = await organisations.create_api_key(
                    session, organisation_id=organisation.id, role=Role(role), name=f"demo {role}")
            return keys

    keys = _run(go())
    if keys is None:
        typer.echo(f"demo already loaded; keys in {keys_file}")
        keys = json.loads(keys_file.read_text())
    else:
        keys_file.parent.mkdir(parents=True, exist_ok=True)
        keys_file.write_text(json.dumps(keys, indent=2) + "\n")
        os.chmod(keys_file, 0o600)
    for role, key in keys.items():
        typer.echo(f"  {role:9} {key}")


@cli.command()
def verify() -> None:
    """Check every fact derivable from the ledger against what is stored (exit 1 on any finding)."""
    from app.kernel.db import session_scope
    from app.ledger.verify import check_all

    async def go():
        async with session_scope() as session:
            return await check_all(session)

    findings = _run(go())
    for finding in findings:
        typer.echo(str(finding))
    typer.echo(f"{len(findings)} finding(s)")
    raise typer.Exit(1 if findings else 0)


@cli.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from app.main import create_app

    typer.echo(json.dumps(create_app(background_jobs=False).openapi(), indent=2, ensure_ascii=False))


@cli.command()
def serve(host: str = "127.0.0.1", port: int = typer.Option(int(os.environ.get("PORT", "8000"))),
          workers: int = 1) -> None:
    """Serve the API with uvicorn (uvloop + httptools)."""
    import uvicorn

    from app.kernel.config import get_settings
    from app.kernel.server import HeaderDeadlineProtocol

    settings = get_settings()
    # Slow clients: headers have HEADER_TIMEOUT_SECONDS (HeaderDeadlineProtocol), a body chunk
    # BODY_TIMEOUT_SECONDS (the app), an idle keep-alive connection KEEP_ALIVE_TIMEOUT_SECONDS (uvicorn).
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers, loop="uvloop",
                http=HeaderDeadlineProtocol, access_log=False,
                timeout_keep_alive=settings.keep_alive_timeout_seconds)



@cli.command()
def sweep(as_of: str = typer.Option(None, "--as-of", help="Business date YYYY-MM-DD (default: today)")) -> None:
    """Run the overdue sweep once (R6, R9–R12, R16): records transitions once, opens recovery cases."""
    from app.treasury.sweep import sweep_command

    sweep_command(as_of)


def main() -> None:
    cli()


__all__ = ["cli", "date", "main"]


@cli.command()
def backtest(plan_year: int = typer.Option(2023, help="A finished plan year (its 31/01 deadline has passed)")) -> None:
    """Replay the forecast at 30/06 and 30/09 against the actual 31/01 outcome (MAE in pp per cohort)."""
    from app.kernel.db import session_scope
    from app.monitoring.backtest import backtest as run

    async def go() -> dict:
        async with session_scope() as session:
            return await run(session, plan_year)

    data = _run(go())
    typer.echo(f"plan year {data['plan_year']}, outcome at {data['deadline']}")
    for cut in data["cutoffs"]:
        typer.echo(f"forecast made {cut['as_of']}: province {cut['province_forecast_rate_pct']}% forecast vs "
                   f"{cut['province_actual_rate_pct']}% actual")
        risk = cut["at_risk"]
        typer.echo(f"  at_risk flagged {risk['flagged']}, ended below 95% {risk['ended_below_target']}: "
                   f"precision {risk['precision']}, recall {risk['recall']}")
        for cohort, figures in cut["cohorts"].items():
            typer.echo(f"  {cohort:28} n={figures['projects']:4}  MAE {figures['mae_pp']:6.2f} pp")
