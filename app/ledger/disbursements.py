"""Disbursements (giải ngân): single and batch recording with caps R1, R2, R7 (project level), R14.

All rows of a call are validated against locked balances before anything is written; any failing
row rejects the whole call (all-or-nothing) with per-row errors. Rows are inserted set-based.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, DisbursementKind, ProjectStatus
from app.kernel.clock import utcnow
from app.kernel.errors import Conflict, DomainError, NotFound, RuleViolation
from app.ledger import contract_ledger
from app.ledger.balances import (
    LockedPool,
    LockedProject,
    PoolKey,
    lock_pool_rows,
    lock_project_rows,
    write_pools,
    write_projects,
)
from app.models import Disbursement, Event, Project, ProjectBalance
from app.rulesets.model import DEFAULT_RULE_SETS, RuleSet, ruleset_for
from app.rulesets.service import effective_rule_sets


@dataclass(frozen=True, slots=True)
class DisbursementInput:
    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    kind: DisbursementKind
    amount_vnd: int
    value_date: date
    document_number: str
    advance_kind: AdvanceKind | None = None
    advance_recovered_vnd: int = 0
    contract_id: int | None = None
    note: str | None = None
    reverses_id: int | None = None

    @property
    def pool(self) -> PoolKey:
        return PoolKey(self.project_id, self.plan_year, self.capital_source, self.budget_level)

    @property
    def net_vnd(self) -> int:
        """Cash paid out: counts against the plan and TMĐT. Recovery is not new cash (R13)."""
        return self.amount_vnd - self.advance_recovered_vnd


@dataclass(slots=True)
class RowError:
    index: int
    code: str
    detail: str
    pointer: str | None = None
    numbers: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "code": self.code, "detail": self.detail, "pointer": self.pointer,
                **self.numbers}


@dataclass(slots=True)
class Recorded:
    """A written disbursement: the stored row's fields (no ORM object), plus R5 warnings for the response."""

    id: int
    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
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
    known_on: date
    created_at: datetime
    created_by_key_id: int | None
    warnings: list[dict[str, Any]] = field(default_factory=list)


class BatchRejected(DomainError):
    status = 422
    title = "Batch rejected"


def _fmt(amount: int) -> str:
    return f"{amount:,} đồng"


def check_window(row: DisbursementInput, pool: LockedPool, rule_set: RuleSet) -> RowError | None:
    """R14: the value date must fall in the plan year's window, or within an extension / nd254 late capital."""
    year = row.plan_year
    if row.value_date < date(year, 1, 1):
        return RowError(0, "value_date_before_plan_year",
                        f"Value date {row.value_date} is before plan year {year} began.", "/value_date")
    site_clearance = row.advance_kind is AdvanceKind.site_clearance or row.kind is DisbursementKind.clearance
    if row.kind is DisbursementKind.advance:
        deadline = rule_set.advance_deadline_for(year, site_clearance=site_clearance)
    else:
        deadline = rule_set.payment_deadline_for(year)
    if row.value_date <= deadline:
        return None
    late_allowance = pool.extended_vnd if (pool.extended_until and row.value_date <= pool.extended_until) else 0
    if rule_set.late_capital_after is not None and row.value_date <= rule_set.extension_limit_for(year):
        late_allowance += pool.late_capital_vnd
    remaining_late = max(0, late_allowance - pool.late_disbursed_vnd)
    if row.net_vnd > remaining_late:
        return RowError(0, "outside_disbursement_window",
                        f"R14: plan year {year} capital may be disbursed until {deadline} "
                        f"({rule_set.code}); after it only extended capital, {_fmt(remaining_late)} left.",
                        "/value_date", {"deadline": deadline.isoformat(), "remaining_vnd": remaining_late})
    return None


def check_row(
    row: DisbursementInput,
    project: Any,
    pool: LockedPool | None,
    balance: LockedProject | None,
    today: date,
    rule_sets: tuple[RuleSet, ...] = DEFAULT_RULE_SETS,
) -> RowError | None:
    """Every ledger-level rule for one row against the (in-memory, locked) balances."""
    if project is None or balance is None:
        return RowError(0, "project_not_found", f"Project {row.project_id} does not exist.", "/project_id")
    if project.status is not ProjectStatus.active:
        return RowError(0, "project_not_active", f"Project {project.code} is {project.status.value}.", "/project_id")
    if row.value_date > today:
        return RowError(0, "value_date_in_future", f"Value date {row.value_date} is after today ({today}).",
                        "/value_date", {"latest_allowed": today.isoformat()})
    if row.kind is DisbursementKind.advance and row.advance_kind is None:
        return RowError(0, "advance_kind_required", "An advance must say its kind: contract, site_clearance or "
                        "other.", "/advance_kind")
    if row.kind is not DisbursementKind.advance and row.advance_kind is not None and row.reverses_id is None:
        return RowError(0, "advance_kind_not_allowed", "Only advances carry an advance kind.", "/advance_kind")
    if row.kind is DisbursementKind.advance and row.advance_recovered_vnd:
        return RowError(0, "recovery_not_allowed", "An advance cannot recover an advance.", "/advance_recovered_vnd")
    if row.advance_recovered_vnd > row.amount_vnd and row.reverses_id is None:
        return RowError(0, "recovery_exceeds_amount", "R7: the recovery cannot exceed the payment it is deducted from.",
                        "/advance_recovered_vnd", {"allowed_max_vnd": row.amount_vnd})
    if pool is None or pool.plan_vnd <= 0:
        return RowError(0, "plan_cap_exceeded", f"R1: project {project.code} has no {row.plan_year} plan for "
                        f"{row.capital_source.value}/{row.budget_level.value}.", "/amount_vnd", {"remaining_vnd": 0})
    window = check_window(row, pool, ruleset_for(row.value_date, rule_sets))
    if window is not None:
        return window
    remaining_plan = pool.plan_vnd - pool.disbursed_vnd
    if row.net_vnd > remaining_plan:
        return RowError(0, "plan_cap_exceeded", f"R1: exceeds the {row.plan_year} plan of this pool; "
                        f"{_fmt(remaining_plan)} left.", "/amount_vnd", {"remaining_vnd": remaining_plan})
    remaining_tmdt = project.total_investment_vnd - balance.disbursed_total_vnd
    if row.net_vnd > remaining_tmdt:
        return RowError(0, "tmdt_cap_exceeded", f"R2: exceeds the project's total investment (TMĐT); "
                        f"{_fmt(remaining_tmdt)} left.", "/amount_vnd", {"remaining_vnd": remaining_tmdt})
    outstanding_after = balance.advance_outstanding_vnd + _advanced(row) - row.advance_recovered_vnd
    if outstanding_after < 0:
        return RowError(0, "recovery_exceeds_outstanding", f"R7: the project's outstanding advance is "
                        f"{_fmt(balance.advance_outstanding_vnd)}.", "/advance_recovered_vnd",
                        {"outstanding_vnd": balance.advance_outstanding_vnd})
    return None


def _advanced(row: DisbursementInput) -> int:
    return row.amount_vnd if row.kind is DisbursementKind.advance else 0


def apply_row(row: DisbursementInput, pool: LockedPool, balance: LockedProject, rule_set: RuleSet) -> None:
    """Move one accepted row into the in-memory balances (flushed by the caller)."""
    pool.disbursed_vnd += row.net_vnd
    pool.advanced_vnd += _advanced(row)
    pool.advance_recovered_vnd += row.advance_recovered_vnd
    pool.paid_vnd += row.amount_vnd if row.kind is DisbursementKind.payment else 0
    site_clearance = row.advance_kind is AdvanceKind.site_clearance or row.kind is DisbursementKind.clearance
    deadline = (rule_set.advance_deadline_for(row.plan_year, site_clearance) if row.kind is DisbursementKind.advance
                else rule_set.payment_deadline_for(row.plan_year))
    if row.value_date > deadline:
        pool.late_disbursed_vnd += row.net_vnd
    if pool.last_value_date is None or row.value_date > pool.last_value_date:
        pool.last_value_date = row.value_date
    balance.disbursed_total_vnd += row.net_vnd
    balance.advance_outstanding_vnd += _advanced(row) - row.advance_recovered_vnd


async def get(session: AsyncSession, disbursement_id: int) -> Disbursement:
    row = await session.get(Disbursement, disbursement_id)
    if row is None:
        raise NotFound("disbursement_not_found", f"Disbursement {disbursement_id} does not exist.")
    return row


async def reversal_of(session: AsyncSession, original: Disbursement, *, document_number: str, value_date: date,
                      note: str) -> DisbursementInput:
    """A correction (bút toán đảo): the original's amounts negated, in its pool, kind and contract."""
    if original.reverses_id is not None:
        raise Conflict("cannot_reverse_reversal", "A reversing entry cannot itself be reversed; record anew.")
    if await session.scalar(select(Disbursement.id).where(Disbursement.reverses_id == original.id)) is not None:
        raise Conflict("already_reversed", f"Disbursement {original.id} is already reversed.")
    return DisbursementInput(
        project_id=original.project_id, plan_year=original.plan_year,
        capital_source=CapitalSource(original.capital_source), budget_level=BudgetLevel(original.budget_level),
        kind=DisbursementKind(original.kind), advance_kind=original.advance_kind, contract_id=original.contract_id,
        amount_vnd=-original.amount_vnd, advance_recovered_vnd=-original.advance_recovered_vnd,
        value_date=value_date, document_number=document_number, note=note, reverses_id=original.id)


async def lock_projects_for_write(session: AsyncSession, project_ids: Sequence[int]
                                  ) -> tuple[dict[int, Any], dict[int, LockedProject]]:
    """Lock the project balance rows (first in the lock order, by id) and read what the caps and the owner
    check need of each project (code, investor, status, TMĐT), in one statement. Missing projects are absent."""
    ids = sorted(set(project_ids))
    if not ids:
        return {}, {}
    b, p = ProjectBalance.__table__, Project.__table__
    query = (select(b.c.project_id, b.c.disbursed_total_vnd, b.c.advance_outstanding_vnd, p.c.code, p.c.investor_id,
                    p.c.status, p.c.total_investment_vnd)
             .join(p, p.c.id == b.c.project_id))
    query = query.where(b.c.project_id == ids[0]) if len(ids) == 1 else query.where(b.c.project_id.in_(ids))
    facts: dict[int, Any] = {}
    locked: dict[int, LockedProject] = {}
    for row in await session.execute(query.order_by(b.c.project_id).with_for_update(of=b)):
        facts[row.project_id] = row
        locked[row.project_id] = LockedProject(row.project_id, row.disbursed_total_vnd, row.advance_outstanding_vnd)
    return facts, locked


async def _projects(session: AsyncSession, project_ids: list[int]) -> dict[int, Any]:
    if len(project_ids) <= 4:
        # The router loaded these already: the identity map answers without a statement.
        found = {pid: await session.get(Project, pid) for pid in project_ids}
        return {pid: project for pid, project in found.items() if project is not None}
    query = select(Project.id, Project.code, Project.status, Project.total_investment_vnd)
    return {row.id: row for row in await session.execute(query.where(Project.id.in_(project_ids)))}


async def _existing_documents(session: AsyncSession, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    if len(keys) == 1:
        [(project_id, document)] = keys
        found = await session.scalar(select(Disbursement.id).where(
            Disbursement.project_id == project_id, Disbursement.document_number == document))
        return set(keys) if found is not None else set()
    if session.bind.dialect.name == "postgresql":
        # One probe of the (project_id, document_number) unique index per key, the keys bound as two arrays.
        found = await session.execute(text(
            "SELECT d.project_id, d.document_number FROM disbursements AS d JOIN unnest(CAST(:p AS BIGINT[]), "
            "CAST(:n AS VARCHAR[])) AS k(p, n) ON d.project_id = k.p AND d.document_number = k.n"),
            {"p": [k[0] for k in keys], "n": [k[1] for k in keys]})
        return {(row[0], row[1]) for row in found}
    existing: set[tuple[int, str]] = set()
    for start in range(0, len(keys), 5000):
        chunk = keys[start:start + 5000]
        existing |= set((await session.execute(
            select(Disbursement.project_id, Disbursement.document_number)
            .where(tuple_(Disbursement.project_id, Disbursement.document_number).in_(chunk))
        )).all())
    return existing


async def record(
    session: AsyncSession,
    rows: Sequence[DisbursementInput],
    *,
    today: date,
    key_id: int | None,
    batch: bool = False,
    projects: dict[int, Any] | None = None,
    locked_projects: dict[int, LockedProject] | None = None,
) -> list[Recorded]:
    """Validate and write disbursements; all or nothing. Emits `disbursement.recorded` events.

    `projects` and `locked_projects` come from `lock_projects_for_write` when the caller has locked the project
    balances already (to authorise the owner in the same statement).
    """
    errors: list[RowError] = []
    project_ids = sorted({r.project_id for r in rows})
    if projects is None:
        projects = await _projects(session, project_ids)

    rule_sets = await effective_rule_sets(session)
    # Lock order: project balances → pool balances → contract balances (each sorted): no deadlock.
    balances = locked_projects if locked_projects is not None else await lock_project_rows(session, project_ids)
    pools = await lock_pool_rows(session, (r.pool for r in rows))
    contracts = await contract_ledger.lock_contracts(session, (r.contract_id for r in rows if r.contract_id))
    # Natural key (project + voucher/document number), checked under the project locks so that two writers
    # of the same document cannot both pass: duplicates against the ledger and within the call.
    keys = [(r.project_id, r.document_number) for r in rows]
    existing = await _existing_documents(session, keys)
    seen: set[tuple[int, str]] = set()
    duplicates: list[RowError] = []
    for index, key in enumerate(keys):
        if key in existing or key in seen:
            duplicates.append(RowError(index, "duplicate_document", f"Document {key[1]!r} is already recorded for "
                                       f"project {key[0]}.", "/document_number"))
        seen.add(key)
    if duplicates and not batch:
        raise Conflict(duplicates[0].code, duplicates[0].detail, pointer=duplicates[0].pointer)

    warnings: dict[int, list[dict[str, Any]]] = {}
    for index, row in enumerate(rows):
        rule_set = ruleset_for(row.value_date, rule_sets)
        error = check_row(row, projects.get(row.project_id), pools.get(row.pool), balances.get(row.project_id), today,
                          rule_sets)
        if error is None and row.contract_id is not None:
            problem, warnings[index] = contract_ledger.check_contract_row(row, contracts, rule_set)
            if problem is not None:
                error = RowError(index, problem[0], problem[1], problem[2], problem[3])
        if error is not None:
            error.index = index
            errors.append(error)
            continue
        apply_row(row, pools[row.pool], balances[row.project_id], rule_set)
        if row.contract_id is not None:
            contract_ledger.apply_contract_row(row, contracts)
    errors = sorted(errors + duplicates, key=lambda e: e.index)
    if errors:
        if not batch:
            first = errors[0]
            raise RuleViolation(first.code, first.detail, pointer=first.pointer, **first.numbers)
        if all(e.code == "duplicate_document" for e in errors):
            raise Conflict("duplicate_document", f"{len(errors)} row(s) repeat recorded documents.",
                           errors=[_row_pointer(e) for e in errors])
        raise BatchRejected("batch_rejected", f"{len(errors)} of {len(rows)} row(s) were rejected; nothing was "
                            "recorded.", errors=[_row_pointer(e) for e in errors])
    created = await _write(session, rows, pools, balances, today, key_id)
    await contract_ledger.track_advances(session, created, today)
    for index, disbursement in enumerate(created):
        disbursement.warnings = warnings.get(index, [])  # R5: returned in the response, not stored
    return created


def _row_pointer(error: RowError) -> dict[str, Any]:
    data = error.as_dict()
    data["pointer"] = f"/rows/{error.index}{error.pointer or ''}"
    return data


_D_COLUMNS = ("project_id", "plan_year", "capital_source", "budget_level", "kind", "advance_kind", "contract_id",
              "amount_vnd", "advance_recovered_vnd", "net_vnd", "value_date", "document_number", "reverses_id", "note")
_D_TYPES = ("BIGINT", "INTEGER", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT", "BIGINT",
            "DATE", "VARCHAR", "BIGINT", "VARCHAR")
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
            document_number, reverses_id
), e AS (
  INSERT INTO events (type, entity_type, entity_id, project_id, payload, known_on, occurred_at)
  SELECT CASE WHEN d.reverses_id IS NULL THEN 'disbursement.recorded' ELSE 'disbursement.reversed' END,
         'disbursement', d.id::text, d.project_id,
         jsonb_build_object('id', d.id, 'project_id', d.project_id, 'plan_year', d.plan_year, 'kind', d.kind,
                            'amount_vnd', d.amount_vnd, 'advance_recovered_vnd', d.advance_recovered_vnd,
                            'net_vnd', d.net_vnd, 'value_date', to_char(d.value_date, 'YYYY-MM-DD'),
                            'document_number', d.document_number, 'reverses_id', d.reverses_id),
         :known_on, :now
  FROM d ORDER BY d.id
), pools AS (
  UPDATE pool_balances AS p SET disbursed_vnd = v.d, advanced_vnd = v.a, advance_recovered_vnd = v.r,
         paid_vnd = v.p, late_disbursed_vnd = v.l, last_value_date = v.lvd, updated_at = :now
  FROM unnest(CAST(:pool_id AS BIGINT[]), CAST(:pool_d AS BIGINT[]), CAST(:pool_a AS BIGINT[]),
              CAST(:pool_r AS BIGINT[]), CAST(:pool_p AS BIGINT[]), CAST(:pool_l AS BIGINT[]),
              CAST(:pool_lvd AS DATE[])) AS v(id, d, a, r, p, l, lvd)
  WHERE p.id = v.id
), balances AS (
  UPDATE project_balances AS b SET disbursed_total_vnd = v.d, advance_outstanding_vnd = v.o, updated_at = :now
  FROM unnest(CAST(:bal_id AS BIGINT[]), CAST(:bal_d AS BIGINT[]), CAST(:bal_o AS BIGINT[])) AS v(id, d, o)
  WHERE b.project_id = v.id
)
SELECT d.id, d.project_id, d.document_number FROM d
""")


def _event_payload(d: Recorded) -> dict[str, Any]:
    return {"id": d.id, "project_id": d.project_id, "plan_year": d.plan_year, "kind": d.kind.value,
            "amount_vnd": d.amount_vnd, "advance_recovered_vnd": d.advance_recovered_vnd, "net_vnd": d.net_vnd,
            "value_date": d.value_date.isoformat(), "document_number": d.document_number,
            "reverses_id": d.reverses_id}


async def _write(session: AsyncSession, rows: Sequence[DisbursementInput], pools: dict[PoolKey, LockedPool],
                 balances: dict[int, LockedProject], today: date, key_id: int | None) -> list[Recorded]:
    """Insert the rows and their events and write the moved balances back, set-based (no ORM objects)."""
    now = utcnow()
    columns: dict[str, list[Any]] = {c: [] for c in _D_COLUMNS}
    for r in rows:
        for name, value in (("project_id", r.project_id), ("plan_year", r.plan_year),
                            ("capital_source", r.capital_source.value), ("budget_level", r.budget_level.value),
                            ("kind", r.kind.value), ("advance_kind", r.advance_kind.value if r.advance_kind else None),
                            ("contract_id", r.contract_id), ("amount_vnd", r.amount_vnd),
                            ("advance_recovered_vnd", r.advance_recovered_vnd), ("net_vnd", r.net_vnd),
                            ("value_date", r.value_date), ("document_number", r.document_number),
                            ("reverses_id", r.reverses_id), ("note", r.note)):
            columns[name].append(value)
    if session.bind.dialect.name == "postgresql":
        moved_pools, moved_balances = list(pools.values()), list(balances.values())
        result = await session.execute(_PG_WRITE, {
            **columns, "known_on": today, "now": now, "key_id": key_id,
            "pool_id": [p.id for p in moved_pools], "pool_d": [p.disbursed_vnd for p in moved_pools],
            "pool_a": [p.advanced_vnd for p in moved_pools], "pool_r": [p.advance_recovered_vnd for p in moved_pools],
            "pool_p": [p.paid_vnd for p in moved_pools], "pool_l": [p.late_disbursed_vnd for p in moved_pools],
            "pool_lvd": [p.last_value_date for p in moved_pools],
            "bal_id": [b.project_id for b in moved_balances], "bal_d": [b.disbursed_total_vnd for b in moved_balances],
            "bal_o": [b.advance_outstanding_vnd for b in moved_balances]})
        ids = {(project_id, document): id_ for id_, project_id, document in result}
        return [_recorded(ids[(r.project_id, r.document_number)], r, today, now, key_id) for r in rows]
    table = Disbursement.__table__
    values = [{**{c: columns[c][i] for c in _D_COLUMNS}, "known_on": today, "created_at": now,
               "created_by_key_id": key_id} for i in range(len(rows))]
    result = await session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
    created = [_recorded(id_, r, today, now, key_id) for (id_,), r in zip(result.all(), rows, strict=True)]
    await session.execute(insert(Event.__table__), [
        {"type": "disbursement.reversed" if d.reverses_id else "disbursement.recorded",
         "entity_type": "disbursement", "entity_id": str(d.id), "project_id": d.project_id,
         "payload": _event_payload(d), "known_on": today, "occurred_at": now}
        for d in sorted(created, key=lambda d: d.id)
    ])
    await write_pools(session, pools.values(), now)
    await write_projects(session, balances.values(), now)
    return created


def _recorded(id_: int, r: DisbursementInput, today: date, now: datetime, key_id: int | None) -> Recorded:
    return Recorded(id=id_, project_id=r.project_id, plan_year=r.plan_year, capital_source=r.capital_source,
                    budget_level=r.budget_level, kind=r.kind, advance_kind=r.advance_kind, contract_id=r.contract_id,
                    amount_vnd=r.amount_vnd, advance_recovered_vnd=r.advance_recovered_vnd, net_vnd=r.net_vnd,
                    value_date=r.value_date, document_number=r.document_number, reverses_id=r.reverses_id,
                    note=r.note, known_on=today, created_at=now, created_by_key_id=key_id)
