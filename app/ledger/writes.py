"""Step 3 of the posting pipeline: write the rows, the moved balance rows and their events, set-based.

PostgreSQL writes a few disbursements, their events and both balance tables in one statement (`_PG_WRITE`); a batch
(`COPY_FROM_ROWS` rows or more) takes its ids from the sequence in one statement, sends the rows and their events
by COPY on the session's own connection (the same transaction) and writes each balance table with one
`UPDATE … FROM unnest`. SQLite uses `executemany`. Every path writes what the pipeline decided and folded, nothing
else: no rule is computed here. Contract balances and advances follow; advances are re-allocated FIFO by the fold and a
recovery moves its R16 case through the state machine (`app.treasury.recovery_rules`), never by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.ledger.fold import ContractState, DisbursementInput, MemberState, PoolState, ProjectState
from app.models import (
    Advance,
    ContractBalance,
    ContractMember,
    Disbursement,
    Event,
    PoolBalance,
    ProjectBalance,
    RecoveryCase,
    RecoveryStep,
    snapshot,
)
from app.treasury import recovery_rules


@dataclass(slots=True)
class Recorded:
    """A written disbursement: the stored row's fields (no ORM object), plus R5 warnings for the response."""

    id: int
    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    budget_holder_id: int
    kind: DisbursementKind
    advance_kind: AdvanceKind | None
    contract_id: int | None
    amount_vnd: int
    advance_recovered_vnd: int
    net_vnd: int
    value_date: date
    document_number: str
    reverses_id: int | None
    note: str | None
    source: EntrySource
    origin: EntrySource
    owner_document_number: str | None
    known_on: date
    created_at: datetime
    created_by_key_id: int | None
    completes_supply: bool = False
    contract_member_id: int | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)


_D_COLUMNS = ("project_id", "plan_year", "capital_source", "budget_level", "budget_holder_id", "kind", "advance_kind",
              "contract_id",
              "amount_vnd", "advance_recovered_vnd", "net_vnd", "value_date", "document_number", "reverses_id", "note",
              "source", "origin", "owner_document_number", "completes_supply", "contract_member_id")
_D_TYPES = ("BIGINT", "INTEGER", "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT",
            "BIGINT",
            "DATE", "VARCHAR", "BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BOOLEAN", "BIGINT")
_POOL_SET = ("plan_vnd", "extended_vnd", "extended_until", "late_capital_vnd", "disbursed_vnd", "advanced_vnd",
             "advance_recovered_vnd", "paid_vnd", "late_disbursed_vnd", "last_value_date", "added_plan_vnd")
_POOL_TYPES = ("BIGINT", "BIGINT", "DATE", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "BIGINT", "DATE",
               "BIGINT")
_PROJECT_SET = ("planned_total_vnd", "disbursed_total_vnd", "advance_outstanding_vnd")
_POOL_UPDATE_PG = (
    f"UPDATE pool_balances AS p SET {', '.join(f'{c} = v.{c}' for c in _POOL_SET)}, updated_at = :now "
    f"FROM unnest(CAST(:pool_id AS BIGINT[]), "
    f"{', '.join(f'CAST(:pool_{c} AS {t}[])' for c, t in zip(_POOL_SET, _POOL_TYPES, strict=True))}) "
    f"AS v(id, {', '.join(_POOL_SET)}) WHERE p.id = v.id")
_PROJECT_UPDATE_PG = (
    f"UPDATE project_balances AS b SET {', '.join(f'{c} = v.{c}' for c in _PROJECT_SET)}, updated_at = :now "
    f"FROM unnest(CAST(:bal_id AS BIGINT[]), {', '.join(f'CAST(:bal_{c} AS BIGINT[])' for c in _PROJECT_SET)}) "
    f"AS v(id, {', '.join(_PROJECT_SET)}) WHERE b.project_id = v.id")
# PostgreSQL: the whole write in one statement. Rows come in as arrays (one bind per column, so the prepared
# statement is reused whatever the row count); the events are built from the inserted rows (ids in row order);
# the locked balance rows get their new figures.
_PG_WRITE = text(f"""
WITH d AS (
  INSERT INTO disbursements ({", ".join(_D_COLUMNS)}, known_on, created_at, created_by_key_id)
  SELECT {", ".join(f"v.{c}" for c in _D_COLUMNS)}, :known_on, :now, :key_id
  FROM unnest({", ".join(f"CAST(:{c} AS {t}[])" for c, t in zip(_D_COLUMNS, _D_TYPES, strict=True))})
       WITH ORDINALITY AS v({", ".join(_D_COLUMNS)}, n)
  ORDER BY v.n
  RETURNING id, project_id, plan_year, kind, amount_vnd, advance_recovered_vnd, net_vnd, value_date,
            document_number, reverses_id, source, origin, owner_document_number
), e AS (
  INSERT INTO events (type, entity_type, entity_id, project_id, payload, known_on, occurred_at)
  SELECT CASE WHEN d.reverses_id IS NULL THEN 'disbursement.recorded' ELSE 'disbursement.reversed' END,
         'disbursement', d.id::text, d.project_id,
         jsonb_build_object('id', d.id, 'project_id', d.project_id, 'plan_year', d.plan_year, 'kind', d.kind,
                            'amount_vnd', d.amount_vnd, 'advance_recovered_vnd', d.advance_recovered_vnd,
                            'net_vnd', d.net_vnd, 'value_date', to_char(d.value_date, 'YYYY-MM-DD'),
                            'document_number', d.document_number, 'reverses_id', d.reverses_id,
                            'source', d.source, 'origin', d.origin,
                            'owner_document_number', d.owner_document_number),
         :known_on, :now
  FROM d ORDER BY d.id
), pools AS ({_POOL_UPDATE_PG}
), balances AS ({_PROJECT_UPDATE_PG}
)
SELECT d.id, d.project_id, d.document_number FROM d
""")


def _pool_params(pools: Sequence[PoolState]) -> dict[str, list[Any]]:
    return {"pool_id": [p.id for p in pools], **{f"pool_{c}": [getattr(p, c) for p in pools] for c in _POOL_SET}}


def _project_params(projects: Sequence[ProjectState]) -> dict[str, list[Any]]:
    return {"bal_id": [b.project_id for b in projects],
            **{f"bal_{c}": [getattr(b, c) for b in projects] for c in _PROJECT_SET}}


async def write_balances(session: AsyncSession, pools: Iterable[PoolState], projects: Iterable[ProjectState],
                         now: datetime) -> None:
    """Write moved pool and project rows back, one statement each."""
    pool_rows, project_rows = list(pools), list(projects)
    if dialect_name(session) == "postgresql":
        if pool_rows:
            await session.execute(text(_POOL_UPDATE_PG), {"now": now, **_pool_params(pool_rows)})
        if project_rows:
            await session.execute(text(_PROJECT_UPDATE_PG), {"now": now, **_project_params(project_rows)})
        return
    pb, b = PoolBalance.__table__, ProjectBalance.__table__
    if pool_rows:
        await session.execute(update(pb).where(pb.c.id == bindparam("b_id")).values(
            updated_at=bindparam("b_now"), **{c: bindparam(f"b_{c}") for c in _POOL_SET}),
            [{"b_id": p.id, "b_now": now, **{f"b_{c}": getattr(p, c) for c in _POOL_SET}} for p in pool_rows])
    if project_rows:
        await session.execute(update(b).where(b.c.project_id == bindparam("b_id")).values(
            updated_at=bindparam("b_now"), **{c: bindparam(f"b_{c}") for c in _PROJECT_SET}),
            [{"b_id": r.project_id, "b_now": now, **{f"b_{c}": getattr(r, c) for c in _PROJECT_SET}}
             for r in project_rows])


def _event_payload(d: Recorded) -> dict[str, Any]:
    return {"id": d.id, "project_id": d.project_id, "plan_year": d.plan_year, "kind": d.kind.value,
            "amount_vnd": d.amount_vnd, "advance_recovered_vnd": d.advance_recovered_vnd, "net_vnd": d.net_vnd,
            "value_date": d.value_date.isoformat(), "document_number": d.document_number,
            "reverses_id": d.reverses_id, "source": d.source.value, "origin": d.origin.value,
            "owner_document_number": d.owner_document_number}


def _recorded(id_: int, r: DisbursementInput, today: date, now: datetime, key_id: int | None) -> Recorded:
    return Recorded(id=id_, project_id=r.project_id, plan_year=r.plan_year, capital_source=r.capital_source,
                    budget_level=r.budget_level, budget_holder_id=r.budget_holder_id or 0, kind=r.kind,
                    advance_kind=r.advance_kind, contract_id=r.contract_id,
                    amount_vnd=r.amount_vnd, advance_recovered_vnd=r.advance_recovered_vnd, net_vnd=r.net_vnd,
                    value_date=r.value_date, document_number=r.document_number, reverses_id=r.reverses_id,
                    note=r.note, source=r.source, origin=r.origin, owner_document_number=r.owner_document_number,
                    known_on=today, created_at=now, created_by_key_id=key_id, completes_supply=r.completes_supply,
                    contract_member_id=r.contract_member_id)


async def write_disbursements(session: AsyncSession, rows: Sequence[DisbursementInput], pools: Sequence[PoolState],
                              projects: Sequence[ProjectState], today: date, key_id: int | None) -> list[Recorded]:
    """Insert the rows and their events and write the moved pool and project rows back."""
    now = utcnow()
    if dialect_name(session) == "postgresql" and len(rows) >= COPY_FROM_ROWS:
        return await _copy_disbursements(session, rows, pools, projects, today, now, key_id)
    columns: dict[str, list[Any]] = {c: [] for c in _D_COLUMNS}
    for r in rows:
        for name, value in zip(_D_COLUMNS, _values(r), strict=True):
            columns[name].append(value)
    if dialect_name(session) == "postgresql":
        result = await session.execute(_PG_WRITE, {
            **columns, "known_on": today, "now": now, "key_id": key_id,
            **_pool_params(pools), **_project_params(projects)})
        ids = {(project_id, document): id_ for id_, project_id, document in result}
        return [_recorded(ids[(r.project_id, r.document_number)], r, today, now, key_id) for r in rows]
    table = Disbursement.__table__
    values = [{**{c: columns[c][i] for c in _D_COLUMNS}, "known_on": today, "created_at": now,
               "created_by_key_id": key_id} for i in range(len(rows))]
    result = await session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
    created = [_recorded(id_, r, today, now, key_id) for (id_,), r in zip(result.all(), rows, strict=True)]
    await session.execute(insert(Event.__table__), [
        {"type": _event_type(d), "entity_type": "disbursement", "entity_id": str(d.id), "project_id": d.project_id,
         "payload": _event_payload(d), "known_on": today, "occurred_at": now}
        for d in sorted(created, key=lambda d: d.id)
    ])
    await write_balances(session, pools, projects, now)
    return created


def _values(r: DisbursementInput) -> tuple[Any, ...]:
    """A row's values in `_D_COLUMNS` order, as stored."""
    return (r.project_id, r.plan_year, r.capital_source.value, r.budget_level.value, r.budget_holder_id, r.kind.value,
            r.advance_kind.value if r.advance_kind else None, r.contract_id, r.amount_vnd, r.advance_recovered_vnd,
            r.net_vnd, r.value_date, r.document_number, r.reverses_id, r.note, r.source.value, r.origin.value,
            r.owner_document_number, r.completes_supply, r.contract_member_id)


def _event_type(d: Recorded) -> str:
    return "disbursement.reversed" if d.reverses_id else "disbursement.recorded"


# From this many rows PostgreSQL takes the bulk path: ids drawn from the sequence in one statement, the rows and their
# events sent by COPY through the session's own connection (same transaction), each balance table in one UPDATE.
COPY_FROM_ROWS = 100
_EVENT_COLUMNS = ("type", "entity_type", "entity_id", "project_id", "payload", "known_on", "occurred_at")
_NEXT_IDS = text("SELECT nextval('disbursements_id_seq') FROM generate_series(1, :n)")


async def _copy_disbursements(session: AsyncSession, rows: Sequence[DisbursementInput], pools: Sequence[PoolState],
                              projects: Sequence[ProjectState], today: date, now: datetime,
                              key_id: int | None) -> list[Recorded]:
    ids = sorted((await session.scalars(_NEXT_IDS, {"n": len(rows)})).all())  # ascending: ids in row order
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        Disbursement.__tablename__, columns=("id", *_D_COLUMNS, "known_on", "created_at", "created_by_key_id"),
        records=[(id_, *_values(r), today, now, key_id) for id_, r in zip(ids, rows, strict=True)])
    created = [_recorded(id_, r, today, now, key_id) for id_, r in zip(ids, rows, strict=True)]
    await driver.copy_records_to_table(Event.__tablename__, columns=_EVENT_COLUMNS, records=[
        (_event_type(d), "disbursement", str(d.id), d.project_id, json.dumps(_event_payload(d)), today, now)
        for d in created])
    events.note_emitted(session)
    await write_balances(session, pools, projects, now)
    return created


async def write_contracts(session: AsyncSession, contracts: Iterable[ContractState],
                          members: Iterable[MemberState] = ()) -> None:
    """Write moved contract balance rows (and joint-venture members) back."""
    member_rows = [{"b_id": m.member_id, "b_a": m.advanced_vnd, "b_r": m.recovered_vnd, "b_o": m.outstanding_vnd,
                    "b_p": m.paid_vnd, "b_s": m.supply_completions, "b_now": utcnow()} for m in members]
    if member_rows:
        cm = ContractMember.__table__
        await session.execute(update(cm).where(cm.c.id == bindparam("b_id")).values(
            advanced_vnd=bindparam("b_a"), recovered_vnd=bindparam("b_r"), outstanding_vnd=bindparam("b_o"),
            paid_vnd=bindparam("b_p"), supply_completions=bindparam("b_s"), updated_at=bindparam("b_now")),
            member_rows)
    rows = [{"b_id": c.contract_id, "b_a": c.advanced_vnd, "b_r": c.recovered_vnd, "b_o": c.outstanding_vnd,
             "b_p": c.paid_vnd, "b_s": c.supply_completions, "b_now": utcnow()} for c in contracts]
    if rows:
        cb = ContractBalance.__table__
        await session.execute(update(cb).where(cb.c.contract_id == bindparam("b_id")).values(
            advanced_vnd=bindparam("b_a"), recovered_vnd=bindparam("b_r"), outstanding_vnd=bindparam("b_o"),
            paid_vnd=bindparam("b_p"), supply_completions=bindparam("b_s"), updated_at=bindparam("b_now")), rows)


@dataclass(slots=True)
class AdvanceChange:
    """An advance row whose figures the posting moved (`id` None: a new advance, inserted here)."""

    id: int | None
    disbursement_id: int
    project_id: int
    contract_id: int | None
    amount_vnd: int
    recovered_vnd: int
    recovered_delta_vnd: int


async def write_advances(session: AsyncSession, new: Sequence[tuple[Recorded, int]], changes: Sequence[AdvanceChange],
                         today: date) -> None:
    """Insert new advances (with the recovered part FIFO gave them), update moved ones, move their R16 cases."""
    now = utcnow()
    advances = [Advance(disbursement_id=d.id, project_id=d.project_id, contract_id=d.contract_id,
                        contract_member_id=d.contract_member_id, kind=d.advance_kind or AdvanceKind.contract,
                        plan_year=d.plan_year, capital_source=d.capital_source, budget_level=d.budget_level,
                        budget_holder_id=d.budget_holder_id, advanced_on=d.value_date,
                        amount_vnd=d.amount_vnd, recovered_vnd=recovered, outstanding_vnd=d.amount_vnd - recovered,
                        version=1, updated_at=now) for d, recovered in new]
    session.add_all(advances)
    await session.flush()  # one insert for the call's advances (a batch may carry thousands), then their events
    for advance in advances:
        events.emit(session, "advance.recorded", "advance", advance.id,
                    {"id": advance.id, "disbursement_id": advance.disbursement_id, "kind": advance.kind.value,
                     "contract_id": advance.contract_id, "amount_vnd": advance.amount_vnd,
                     "advanced_on": advance.advanced_on.isoformat()}, project_id=advance.project_id, known_on=today)
    if not changes:
        return
    a = Advance.__table__
    await session.execute(update(a).where(a.c.id == bindparam("b_id")).values(
        amount_vnd=bindparam("b_amount"), recovered_vnd=bindparam("b_rec"), outstanding_vnd=bindparam("b_out"),
        version=a.c.version + 1, updated_at=bindparam("b_now")),
        [{"b_id": c.id, "b_amount": c.amount_vnd, "b_rec": c.recovered_vnd, "b_out": c.amount_vnd - c.recovered_vnd,
          "b_now": now} for c in changes])
    for c in changes:
        snapshot.mark(session.sync_session, c.project_id)  # a Core write on a table the snapshot watches
        events.emit(session, "advance.updated", "advance", c.id or 0,
                    {"id": c.id, "recovered_vnd": c.recovered_vnd, "outstanding_vnd": c.amount_vnd - c.recovered_vnd},
                    project_id=c.project_id, known_on=today)
    await _move_recovery_cases(session, changes, today)  # recovered, or reversed (amount 0): the case follows


async def _move_recovery_cases(session: AsyncSession, changes: Sequence[AdvanceChange], today: date) -> None:
    """R16: a recovery from the ledger is a step of the advance's case; zero outstanding closes it, and a
    correction that makes a closed case's advance outstanding again reopens it."""
    by_advance = {c.id: c for c in changes}
    if not by_advance:
        return
    now = utcnow()
    cases = await session.scalars(select(RecoveryCase).where(RecoveryCase.advance_id.in_(list(by_advance)))
                                  .order_by(RecoveryCase.id).with_for_update())
    for case in cases:
        change = by_advance[case.advance_id]
        outstanding = change.amount_vnd - change.recovered_vnd
        state = recovery_rules.next_state(recovery_rules.CaseState(case.state), recovery_rules.Step(
            recovery_rules.StepKind.recovery, outstanding_after_vnd=outstanding))
        session.add(RecoveryStep(case_id=case.id, kind="recovery", amount_vnd=change.recovered_delta_vnd, at=now,
                                 note=f"recorded from the ledger; outstanding {outstanding:,} đồng"))
        case.state = state.value
        case.closed_on = today if state is recovery_rules.CaseState.closed else None
        case.version += 1
        case.updated_at = now
        events.emit(session, "recovery_case.closed" if state is recovery_rules.CaseState.closed
                    else "recovery_case.recovery", "recovery_case", case.id,
                    {"id": case.id, "advance_id": change.id, "recovered_vnd": change.recovered_delta_vnd,
                     "outstanding_vnd": outstanding, "state": case.state}, project_id=case.project_id, known_on=today)
