"""The overdue sweep (DESIGN.md, Time-driven changes): R6, R9–R12, R16.

Advances turn due soon or overdue, and guarantees expiring or expired, because the calendar moves. The
sweep classifies every outstanding advance and contract guarantee on `as_of` with the pure rules
(app.treasury.overdue) and records each transition once: `sweep_transitions` has a unique
(subject_type, subject_id, kind) and rows are inserted with ON CONFLICT DO NOTHING, so a second run or a
concurrent worker records nothing twice. Each newly recorded transition emits its event in the same
transaction; a newly overdue advance opens a recovery case.

One worker at a time: `pg_try_advisory_xact_lock` on PostgreSQL (a busy lock means another worker is
sweeping: this one returns at once), an asyncio.Lock in-process on SQLite (which serialises writers anyway).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.ledger.locks import lock_projects
from app.models import Advance, Contract, ContractBalance, RecoveryCase, SweepTransition, snapshot
from app.rulesets.model import ruleset_for
from app.rulesets.service import effective_rule_sets
from app.treasury import overdue, recovery
from app.treasury.view import outstanding_advances

SWEEP_LOCK_KEY = 7_301_002
_local_lock = asyncio.Lock()


@dataclass(slots=True)
class SweepResult:
    as_of: date
    ran: bool = True  # False: another worker held the lock
    recorded: dict[str, int] = field(default_factory=dict)
    cases_opened: int = 0


def _insert(session: AsyncSession):
    return pg_insert if dialect_name(session) == "postgresql" else sqlite_insert


async def _record(session: AsyncSession, subject_type: str, subject_id: int, kind: str, project_id: int,
                  as_of: date, detail: dict) -> bool:
    """Insert the transition unless already recorded; True when this call recorded it."""
    stmt = (_insert(session)(SweepTransition)
            .values(subject_type=subject_type, subject_id=subject_id, kind=kind, project_id=project_id, as_of=as_of,
                    detail=detail, recorded_at=utcnow())
            .on_conflict_do_nothing(index_elements=["subject_type", "subject_id", "kind"])
            .returning(SweepTransition.id))
    recorded = (await session.execute(stmt)).scalar_one_or_none() is not None
    if recorded:
        snapshot.mark(session.sync_session, project_id)  # a no-op insert leaves pollers' ETags alone
    return recorded


async def sweep(session: AsyncSession, as_of: date) -> SweepResult:
    """Run one sweep in the caller's transaction (the caller commits)."""
    if dialect_name(session) == "postgresql":
        got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY})
        if not got:
            return SweepResult(as_of, ran=False)
        return await _sweep(session, as_of)
    async with _local_lock:
        return await _sweep(session, as_of)


async def _sweep(session: AsyncSession, as_of: date) -> SweepResult:
    result = SweepResult(as_of)
    rule_sets = await effective_rule_sets(session)
    # The posting pipeline's first lock, on every project with an outstanding advance, in its order: the sweep then
    # reads outstanding under the lock (a recovery cannot slip between the check and the case it opens) and never
    # deadlocks with a posting (both lock project → advances, and postings take no sweep lock).
    await lock_projects(session, await session.scalars(
        select(Advance.project_id).where(Advance.outstanding_vnd > 0).distinct()))
    rows = await outstanding_advances(session)
    has_case = set(await session.scalars(select(RecoveryCase.advance_id).where(
        RecoveryCase.advance_id.in_([r.advance.id for r in rows]))))
    for row in rows:
        c = overdue.classify_on(row.facts, as_of, rule_sets)  # R9: under the advance's own rule set
        if c.status not in (overdue.AdvanceStatus.due_soon, overdue.AdvanceStatus.overdue):
            continue
        kind = c.status.value
        advance = row.advance
        detail = {"advance_id": advance.id, "rule": c.rule_id, "rule_set": c.rule_set_code,
                  "deadline": c.overdue_date.isoformat() if c.overdue_date else None,
                  "outstanding_vnd": advance.outstanding_vnd, "overdue_vnd": c.overdue_vnd,
                  "days_overdue": c.days_overdue, "days_to_overdue": c.days_to_overdue}
        if not await _record(session, "advance", advance.id, kind, advance.project_id, as_of, detail):
            continue
        result.recorded[kind] = result.recorded.get(kind, 0) + 1
        events.emit(session, f"advance.{kind}", "advance", advance.id, {**detail, "as_of": as_of.isoformat()},
                    project_id=advance.project_id, known_on=as_of)
        if kind == "overdue" and advance.id not in has_case:
            await _open_case(session, advance, as_of, detail)
            result.cases_opened += 1
    await _sweep_guarantees(session, as_of, ruleset_for(as_of, rule_sets), result)  # R6 warnings: today's terms
    return result


async def _open_case(session: AsyncSession, advance: Advance, as_of: date, detail: dict) -> None:
    case = recovery.open_case(session, advance, as_of)
    await session.flush()
    events.emit(session, "recovery_case.opened", "recovery_case", case.id,
                {**recovery.case_payload(case), "rule": detail["rule"], "overdue_vnd": detail["overdue_vnd"]},
                project_id=advance.project_id, known_on=as_of)
    await session.execute(
        Advance.__table__.update().where(Advance.id == advance.id).values(version=Advance.version + 1))


async def _sweep_guarantees(session: AsyncSession, as_of: date, rule_set, result: SweepResult) -> None:
    """R6: contracts whose advance guarantee expires soon, or expired, while an advance is outstanding."""
    query = (select(Contract, ContractBalance).join(ContractBalance, ContractBalance.contract_id == Contract.id)
             .where(ContractBalance.outstanding_vnd > 0, Contract.guarantee_expires_on.is_not(None))
             .order_by(Contract.id))
    for contract, bal in (await session.execute(query)).all():
        facts = overdue.AdvanceFacts(
            kind=AdvanceKind.contract, advanced_on=contract.signed_on, advanced_vnd=bal.advanced_vnd,
            outstanding_vnd=bal.outstanding_vnd, full_recovery_date=contract.full_recovery_date,
            guarantee_vnd=contract.guarantee_vnd, guarantee_expires_on=contract.guarantee_expires_on)
        status = overdue.guarantee_status(facts, as_of, rule_set)
        if status not in (overdue.GuaranteeStatus.expiring, overdue.GuaranteeStatus.expired):
            continue
        kind = f"guarantee_{status.value}"
        assert contract.guarantee_expires_on is not None  # the query keeps only contracts with an expiry
        detail = {"contract_id": contract.id, "rule": "R6", "guarantee_vnd": contract.guarantee_vnd,
                  "expires_on": contract.guarantee_expires_on.isoformat(), "outstanding_vnd": bal.outstanding_vnd}
        if await _record(session, "contract", contract.id, kind, contract.project_id, as_of, detail):
            result.recorded[kind] = result.recorded.get(kind, 0) + 1
            events.emit(session, f"contract.{kind}", "contract", contract.id, {**detail, "as_of": as_of.isoformat()},
                        project_id=contract.project_id, known_on=as_of)


async def run_sweep(as_of: date) -> SweepResult:
    """One sweep in a transaction of its own (background loop and CLI)."""
    from app.kernel.db import session_scope  # local: services stay importable without an engine

    async with session_scope() as session:
        return await sweep(session, as_of)


def sweep_command(as_of: str | None = None) -> None:
    """`python -m app sweep --as-of DATE` body, for the CLI (prints what was recorded)."""
    from app.kernel.clock import today

    day = date.fromisoformat(as_of) if as_of else today()
    result = asyncio.run(run_sweep(day))
    print({"as_of": day.isoformat(), "ran": result.ran, "recorded": result.recorded,
           "cases_opened": result.cases_opened})
