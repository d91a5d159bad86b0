"""The posting pipeline: the one way money moves (docs/rules.md; CONTRIBUTING.md, "Adding a money movement").

Every movement — a disbursement of any kind, a batch, a reversal, an allocation entry of any kind, a
reallocation applied, a dossier paid — goes through the same three steps in one transaction:
1. lock (`app.ledger.locks`, one documented order) and read the balances it touches;
2. decide (`app.ledger.posting_rules`, pure) with the **effective** rule sets, row by row over the in-memory
   balances, which the fold (`app.ledger.fold`) moves as each row is accepted;
3. write (`app.ledger.writes`) the rows, the balance rows, the advances and their events.
All or nothing: any refused row refuses the call, with per-row errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import DisbursementKind
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import dialect_name
from app.kernel.errors import Conflict, DomainError, NotFound, RuleViolation, UnknownReference
from app.ledger import confirmations, holders, locks, medium_term, next_year_advances, writes
from app.ledger.fold import (
    AdvanceState,
    AllocationInput,
    DisbursementInput,
    ProjectState,
    Scope,
    allocate_fifo,
    fifo_order,
    fold_allocation,
    fold_disbursement,
)
from app.ledger.posting_rules import Locked, ProjectFacts, RowError, decide_allocation, decide_disbursement
from app.ledger.writes import AdvanceChange, Recorded
from app.models import AllocationEntry, Disbursement
from app.rulesets.model import ruleset_for
from app.rulesets.service import effective_rule_sets

_UNSAVED = 2**62  # placeholder disbursement ids of advances this call adds (above any BIGINT id in use)


class BatchRejected(DomainError):
    status = 422
    title = "Batch rejected"


@dataclass(slots=True)
class ScopeBook:
    """The advances of one recovery scope during a posting: locked rows plus the ones this call adds."""

    locked: list[locks.LockedAdvance]
    new: list[AdvanceState] = field(default_factory=list)

    def advances(self) -> list[AdvanceState]:
        return [a.state for a in self.locked] + self.new

    def recovered_vnd(self) -> int:
        return sum(a.recovered_vnd for a in self.advances())

    def outstanding_vnd(self, recovered_vnd: int) -> int:
        return sum(a.amount_vnd for a in self.advances()) - recovered_vnd

    def reallocate(self, recovered_vnd: int) -> None:
        """The one FIFO: spread the scope's recoveries over its advances, oldest first."""
        ordered = fifo_order(self.advances())
        for advance, share in zip(ordered, allocate_fifo([a.amount_vnd for a in ordered], recovered_vnd),
                                  strict=True):
            advance.recovered_vnd = share


def _scopes_needed(rows: Sequence[DisbursementInput], reversed_advances: dict[int, Scope]) -> list[Scope]:
    scopes: set[Scope] = set(reversed_advances.values())
    for r in rows:
        if r.kind is DisbursementKind.advance and r.reverses_id is None:
            scopes.add(r.advance_scope)
        elif r.advance_recovered_vnd and (scope := r.recovery_scope) is not None:
            scopes.add(scope)
    return sorted(scopes)


async def _existing_documents(session: AsyncSession, keys: list[tuple[int, str]]) -> set[tuple[int, str]]:
    if len(keys) == 1:
        [(project_id, document)] = keys
        found = await session.scalar(select(Disbursement.id).where(
            Disbursement.project_id == project_id, Disbursement.document_number == document))
        return set(keys) if found is not None else set()
    if dialect_name(session) == "postgresql":
        # One probe of the (project_id, document_number) unique index per key, the keys bound as two arrays.
        pairs = await session.execute(text(
            "SELECT d.project_id, d.document_number FROM disbursements AS d JOIN unnest(CAST(:p AS BIGINT[]), "
            "CAST(:n AS VARCHAR[])) AS k(p, n) ON d.project_id = k.p AND d.document_number = k.n"),
            {"p": [k[0] for k in keys], "n": [k[1] for k in keys]})
        return {(row[0], row[1]) for row in pairs}
    columns = (Disbursement.project_id, Disbursement.document_number)
    return {(r[0], r[1]) for r in await confirmations.select_in(session, select(*columns), columns, keys)}


def _duplicates(keys: list[tuple[int, str]], existing: set[tuple[int, str]]) -> list[RowError]:
    seen: set[tuple[int, str]] = set()
    out: list[RowError] = []
    for index, key in enumerate(keys):
        if key in existing or key in seen:
            out.append(RowError(index, "duplicate_document", f"Document {key[1]!r} is already recorded for "
                                f"project {key[0]}.", "/document_number"))
        seen.add(key)
    return out


def _row_pointer(error: RowError) -> dict[str, Any]:
    data = error.as_dict()
    data["pointer"] = f"/rows/{error.index}{error.pointer or ''}"
    return data


# A document already on the books answers 409 (the request conflicts with a recorded fact), a broken rule 422.
_CONFLICTS = frozenset({"duplicate_document", "recorded_by_treasury", "owner_document_confirmed"})


def _raise(errors: list[RowError], total: int, batch: bool) -> None:
    if not batch:
        first = errors[0]
        cls = Conflict if first.code in _CONFLICTS else RuleViolation
        raise cls(first.code, first.detail, pointer=first.pointer, **first.numbers)
    if all(e.code in _CONFLICTS for e in errors):
        raise Conflict(errors[0].code, f"{len(errors)} row(s) repeat recorded documents.",
                       errors=[_row_pointer(e) for e in errors])
    raise BatchRejected("batch_rejected", f"{len(errors)} of {total} row(s) were rejected; nothing was recorded.",
                        errors=[_row_pointer(e) for e in errors])


Row = TypeVar("Row", DisbursementInput, AllocationInput)


async def _with_holders(session: AsyncSession, rows: Sequence[Row], known: dict[int, ProjectFacts],
                        batch: bool) -> list[Row]:
    """Step 0 (R1): each row's budget holder, named and checked or defaulted (`app.ledger.holders`). A row of an unknown
    project keeps no holder check: the project's own error answers it."""
    resolved, errors = await holders.resolve(session, [(r.project_id, r.budget_level, r.budget_holder_id)
                                                       for r in rows],
                                             investors={p.id: p.investor_id for p in known.values()})
    errors = [e for e in errors if rows[e.index].project_id in known]
    if errors:
        if not batch and errors[0].code == "reference_not_found":
            raise UnknownReference(errors[0].code, errors[0].detail, pointer=errors[0].pointer, **errors[0].numbers)
        _raise(errors, len(rows), batch)
    return [r if r.budget_holder_id == h and h is not None else replace(r, budget_holder_id=h if h is not None else 0)
            for r, h in zip(rows, resolved, strict=True)]


async def post_disbursements(
    session: AsyncSession,
    rows: Sequence[DisbursementInput],
    *,
    today: date,
    key_id: int | None,
    batch: bool = False,
    projects: dict[int, ProjectFacts] | None = None,
    balances: dict[int, ProjectState] | None = None,
) -> list[Recorded]:
    """Lock → decide → write a call's disbursements and reversals; all or nothing.

    `projects`/`balances` come from `locks.lock_projects` when the caller has locked the project rows already
    (to authorise the owner in the same statement).
    """
    rule_sets = await effective_rule_sets(session)
    if projects is None or balances is None:
        projects, balances = await locks.lock_projects(session, (r.project_id for r in rows))
    rows = await _with_holders(session, rows, projects, batch)
    # R15a, under the project locks: a Treasury entry first supersedes the owner's report it pays.
    expanded = await confirmations.with_superseded_reports(session, rows)
    if expanded.errors and not batch:
        _raise(expanded.errors, len(rows), batch)
    caller_rows, rows = rows, expanded.rows
    pools = await locks.lock_pools(session, (r.pool for r in rows))
    contracts = await locks.lock_contracts(session, (r.contract_id for r in rows if r.contract_id))
    members = await locks.lock_members(session, contracts)
    joint_ventures = {terms.contract_id for terms, _ in members.values()}
    reversed_advances = {r.reverses_id: r.advance_scope
                         for r in rows if r.reverses_id is not None and r.kind is DisbursementKind.advance}
    books = {scope: ScopeBook(advances)
             for scope, advances in (await locks.lock_scopes(session, _scopes_needed(rows, reversed_advances))).items()}
    # Natural key (project + document number), under the project locks: two writers of one document cannot both pass.
    keys = [(r.project_id, r.document_number) for r in rows]
    duplicates = _duplicates(keys, await _existing_documents(session, keys))
    duplicates = [expanded.blame(duplicate.index, duplicate) for duplicate in duplicates]
    if duplicates and not batch:
        _raise(duplicates, len(caller_rows), batch)

    errors: list[RowError] = []
    warnings: dict[int, list[dict[str, Any]]] = {}
    recovered = {scope: book.recovered_vnd() for scope, book in books.items()}
    new_advances: dict[int, AdvanceState] = {}
    for index, row in enumerate(rows):
        contract = contracts.get(row.contract_id) if row.contract_id is not None else None
        scope = row.recovery_scope
        member = members.get(row.contract_member_id) if row.contract_member_id is not None else None
        locked = Locked(projects.get(row.project_id), balances.get(row.project_id), pools.get(row.pool), contract,
                        books[scope].outstanding_vnd(recovered[scope]) if scope in books else 0,
                        member=member, joint_venture=row.contract_id in joint_ventures)
        if row.reverses_id in reversed_advances:
            book = books[reversed_advances[row.reverses_id]]
            book.reallocate(recovered[reversed_advances[row.reverses_id]])
            locked.reversed_advance_recovered_vnd = next(
                (a.recovered_vnd for a in book.advances() if a.disbursement_id == row.reverses_id), 0)
        error, warnings[index] = decide_disbursement(row, locked, today, rule_sets)
        if error is not None:
            errors.append(expanded.blame(index, error))
            continue
        assert locked.pool is not None and locked.balance is not None
        fold_disbursement(row, locked.pool, locked.balance, contract[1] if contract else None,
                          ruleset_for(row.original_value_date or row.value_date, rule_sets),
                          member[1] if member else None)
        if row.kind is DisbursementKind.advance and row.reverses_id is None:
            own = row.advance_scope
            # Not yet inserted: a placeholder id above every stored one, in row order, so that FIFO orders it
            # exactly as the fold will once it has its id (oldest date first, then the later entry).
            new_advances[index] = AdvanceState(_UNSAVED + index, own, row.value_date, row.amount_vnd)
            books[own].new.append(new_advances[index])
        elif row.reverses_id in reversed_advances:
            for advance in books[reversed_advances[row.reverses_id]].advances():
                if advance.disbursement_id == row.reverses_id:
                    advance.amount_vnd = 0
        if scope is not None and row.advance_recovered_vnd:
            recovered[scope] += row.advance_recovered_vnd
    errors = sorted(errors + duplicates + expanded.errors, key=lambda e: e.index)
    if errors:
        _raise(errors, len(caller_rows), batch)
    for scope, book in books.items():
        book.reallocate(recovered[scope])

    created = await writes.write_disbursements(session, rows, list(pools.values()), list(balances.values()), today,
                                               key_id)
    await writes.write_contracts(session, (state for _, state in contracts.values()),
                                 (state for _, state in members.values()))
    changes = [AdvanceChange(a.id, a.state.disbursement_id, a.project_id, a.contract_id, a.state.amount_vnd,
                             a.state.recovered_vnd, a.state.recovered_vnd - a.stored_recovered_vnd)
               for book in books.values() for a in book.locked
               if (a.state.amount_vnd, a.state.recovered_vnd) != (a.stored_amount_vnd, a.stored_recovered_vnd)]
    await writes.write_advances(session, [(created[i], advance.recovered_vnd) for i, advance in new_advances.items()],
                                changes, today)
    for index, disbursement in enumerate(created):
        disbursement.warnings = warnings.get(index, [])  # R5: returned in the response, not stored
    return [row for row, generated in zip(created, expanded.generated, strict=True) if not generated]


async def post_allocations(session: AsyncSession, entries: Sequence[AllocationInput], *, today: date,
                           key_id: int | None) -> list[AllocationEntry]:
    """Lock → decide → write allocation entries atomically (a reallocation writes its paired entries together)."""
    rule_sets = await effective_rule_sets(session)
    projects, balances = await locks.lock_projects(session, (e.project_id for e in entries))
    for entry in entries:
        if entry.project_id not in projects:
            raise NotFound("project_not_found", f"Project {entry.project_id} does not exist.", pointer="/project_id")
    entries = await _with_holders(session, entries, projects, False)
    natural_keys = [(e.project_id, e.plan_year, e.capital_source.value, e.budget_level.value, e.budget_holder_id,
                     e.kind.value, e.decision_number) for e in entries]
    duplicate = await session.scalar(select(AllocationEntry.id).where(tuple_(
        AllocationEntry.project_id, AllocationEntry.plan_year, AllocationEntry.capital_source,
        AllocationEntry.budget_level, AllocationEntry.budget_holder_id, AllocationEntry.kind,
        AllocationEntry.decision_number,
    ).in_(natural_keys)).limit(1))
    if duplicate is not None or len(set(natural_keys)) < len(natural_keys):
        raise Conflict("duplicate_allocation", "This decision is already recorded for this pool and kind.",
                       pointer="/decision_number", existing_id=duplicate)
    await locks.ensure_pools(session, (e.pool for e in entries))
    pools = await locks.lock_pools(session, (e.pool for e in entries))
    expanded = await next_year_advances.with_repayments(session, entries)  # R1a, under the pools' locks
    # R1c, under the project locks (every writer of a plan or a ceiling takes them first)
    ceilings = await medium_term.states(session, (medium_term.key_of(e) for e, _ in expanded))
    for entry, generated in expanded:
        pool, balance, ceiling = pools[entry.pool], balances[entry.project_id], ceilings[medium_term.key_of(entry)]
        error = decide_allocation(entry, projects[entry.project_id], pool, balance, ceiling, today, rule_sets,
                                  generated=generated)
        if error is not None:
            raise RuleViolation(error.code, error.detail, pointer=error.pointer, **error.numbers)
        fold_allocation(entry, pool, balance, ruleset_for(entry.decision_date, rule_sets))
        ceiling.annual_plans_vnd += entry.plan_delta_vnd
    entries = [entry for entry, _ in expanded]
    now = utcnow()
    created = [AllocationEntry(
        project_id=e.project_id, plan_year=e.plan_year, capital_source=e.capital_source, budget_level=e.budget_level,
        budget_holder_id=e.budget_holder_id, kind=e.kind, amount_vnd=e.signed_vnd, added_vnd=e.added_delta_vnd,
        tranche=e.tranche,
        decision_number=e.decision_number,
        decision_date=e.decision_date, authority=e.authority, extended_until=e.extended_until,
        reallocation_proposal_id=e.reallocation_proposal_id, note=e.note, known_on=today, created_at=now,
        created_by_key_id=key_id) for e in entries]
    session.add_all(created)
    await session.flush()
    touched = sorted({e.project_id for e in entries})
    await writes.write_balances(session, pools.values(), (balances[pid] for pid in touched), now)
    for row in created:
        events.emit(session, "allocation.recorded", "allocation_entry", row.id, {
            "id": row.id, "project_id": row.project_id, "plan_year": row.plan_year,
            "capital_source": row.capital_source.value, "budget_level": row.budget_level.value,
            "budget_holder_id": row.budget_holder_id, "kind": row.kind.value,
            "amount_vnd": row.amount_vnd, "added_vnd": row.added_vnd, "decision_number": row.decision_number,
            "decision_date": row.decision_date.isoformat(),
        }, project_id=row.project_id, known_on=today)
    return created
