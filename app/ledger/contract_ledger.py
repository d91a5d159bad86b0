"""Contract balances and advances in the disbursement write path (R3–R8, R16 auto-close).

Called by app.ledger.disbursements.record inside its transaction:
1. `lock_contracts` after the project and pool locks (lock order project → pools → contracts by id);
2. `check_contract_row` per row: R3, R4, R6, R7, R8 via advance_rules.check_movement; R5 floor warning;
3. `apply_contract_row` moves the in-memory contract balance;
4. `track_advances` after insert: one `advances` row per advance, recoveries applied oldest first
   (overdue.split_outstanding_fifo), recovery cases closed when the outstanding reaches zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, DisbursementKind
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.ledger import advance_rules
from app.models import Advance, Contract, ContractBalance, Disbursement, RecoveryCase, RecoveryStep, snapshot
from app.rulesets.model import RuleSet


async def lock_contracts(session: AsyncSession, ids: Iterable[int]) -> dict[int, tuple[Contract, ContractBalance]]:
    """Lock the balance rows of these contracts, in id order (after project and pools)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    balances = {row.contract_id: row for row in await session.scalars(
        select(ContractBalance).where(ContractBalance.contract_id.in_(wanted)).order_by(ContractBalance.contract_id)
        .with_for_update().execution_options(populate_existing=True))}
    contracts = {c.id: c for c in await session.scalars(select(Contract).where(Contract.id.in_(wanted)))}
    return {cid: (contracts[cid], balances[cid]) for cid in wanted if cid in contracts and cid in balances}


def _facts(contract: Contract, bal: ContractBalance) -> advance_rules.ContractBalances:
    return advance_rules.ContractBalances(
        contract_type=contract.contract_type, value_vnd=contract.value_vnd, advanced_vnd=bal.advanced_vnd,
        recovered_vnd=bal.recovered_vnd, paid_vnd=bal.paid_vnd,
        approved_advance_rate_pct=contract.approved_advance_rate_pct,
        approving_decision=contract.approving_decision, guarantee_vnd=contract.guarantee_vnd,
        guarantee_expires_on=contract.guarantee_expires_on)


def check_contract_row(row, locked: dict[int, tuple[Contract, ContractBalance]], rule_set: RuleSet
                       ) -> tuple[tuple[str, str, str | None, dict[str, Any]] | None, list[dict[str, Any]]]:
    """(error as (code, detail, pointer, numbers) or None, R5 warnings) for one row with a contract."""
    entry = locked.get(row.contract_id)
    if entry is None:
        return ("contract_not_found", f"Contract {row.contract_id} does not exist.", "/contract_id", {}), []
    contract, bal = entry
    if contract.project_id != row.project_id:
        return ("contract_not_in_project", f"Contract {contract.id} belongs to another project.",
                "/contract_id", {}), []
    if row.reverses_id is not None:
        return None, []  # a correction restores earlier balances; caps were checked on the original
    if row.kind is DisbursementKind.advance and row.advance_kind not in (None, AdvanceKind.contract):
        return ("advance_kind_mismatch", "An advance under a contract is a contract advance.", "/advance_kind",
                {}), []
    movement = advance_rules.Movement(kind=row.kind, amount_vnd=row.amount_vnd, value_date=row.value_date,
                                      advance_recovered_vnd=row.advance_recovered_vnd
                                      if row.kind is DisbursementKind.payment else 0)
    facts = _facts(contract, bal)
    violations = advance_rules.check_movement(facts, movement, rule_set)
    if violations:
        first = violations[0]
        pointer = "/advance_recovered_vnd" if first.rule_id in ("R7", "R8") else "/amount_vnd"
        return (first.code, f"{first.rule_id}: {first.detail}", pointer, first.extensions()), []
    warnings: list[dict[str, Any]] = []
    if row.kind is DisbursementKind.advance and bal.advanced_vnd == 0:
        warning = advance_rules.advance_floor_warning(contract.contract_type, contract.value_vnd, row.amount_vnd,
                                                      rule_set)
        if warning is not None:
            warnings.append({"code": warning.code, "rule": warning.rule_id, "detail": warning.detail,
                             "min_rate_pct": warning.min_rate_pct, "floor_vnd": warning.floor_vnd,
                             "attempted_vnd": warning.attempted_vnd})
    return None, warnings


def apply_contract_row(row, locked: dict[int, tuple[Contract, ContractBalance]]) -> None:
    _, bal = locked[row.contract_id]
    if row.kind is DisbursementKind.advance:
        bal.advanced_vnd += row.amount_vnd
    elif row.kind is DisbursementKind.payment:
        bal.paid_vnd += row.amount_vnd
    bal.recovered_vnd += row.advance_recovered_vnd
    bal.outstanding_vnd = bal.advanced_vnd - bal.recovered_vnd
    bal.updated_at = utcnow()


def _group(d: Disbursement) -> tuple[int, int | None, bool]:
    """Recoveries apply within (project, contract); without a contract a clearance settles site-clearance
    advances and a payment's recovery settles the project's other non-contract advances."""
    site_clearance = d.kind == DisbursementKind.clearance or d.advance_kind == AdvanceKind.site_clearance
    return d.project_id, d.contract_id, site_clearance if d.contract_id is None else False


async def track_advances(session: AsyncSession, created: Sequence[Disbursement], today: date) -> None:
    """Advances rows for new advances; FIFO recovery for the groups that moved; auto-close R16 cases."""
    now = utcnow()
    recovered_delta: dict[tuple[int, int | None, bool], int] = {}
    reversed_ids: list[int] = []
    for d in created:
        if d.contract_id is not None or d.kind == DisbursementKind.advance or d.advance_recovered_vnd:
            # explicit, so the Treasury's snapshot ETag moves even if these rows are ever written in Core
            snapshot.mark(session.sync_session, d.project_id)
        if d.kind == DisbursementKind.advance and d.reverses_id is None:
            kind = AdvanceKind(d.advance_kind) if d.advance_kind else AdvanceKind.contract
            advance = Advance(disbursement_id=d.id, project_id=d.project_id, contract_id=d.contract_id, kind=kind,
                              plan_year=d.plan_year, capital_source=d.capital_source, budget_level=d.budget_level,
                              advanced_on=d.value_date, amount_vnd=d.amount_vnd, recovered_vnd=0,
                              outstanding_vnd=d.amount_vnd, version=1, updated_at=now)
            session.add(advance)
            await session.flush()
            events.emit(session, "advance.recorded", "advance", advance.id,
                        {"id": advance.id, "disbursement_id": d.id, "kind": kind.value, "contract_id": d.contract_id,
                         "amount_vnd": d.amount_vnd, "advanced_on": d.value_date.isoformat()},
                        project_id=d.project_id, known_on=today)
        elif d.kind == DisbursementKind.advance:
            reversed_ids.append(d.reverses_id)
            recovered_delta.setdefault(_group(d), 0)
        if d.advance_recovered_vnd:
            key = _group(d)
            recovered_delta[key] = recovered_delta.get(key, 0) + d.advance_recovered_vnd
    if reversed_ids:
        for advance in await session.scalars(select(Advance).where(Advance.disbursement_id.in_(reversed_ids))):
            advance.amount_vnd = 0
            recovered_delta.setdefault((advance.project_id, advance.contract_id,
                                        advance.contract_id is None and advance.kind == AdvanceKind.site_clearance),
                                       0)
    for key in sorted(recovered_delta, key=lambda k: (k[0], k[1] or 0, k[2])):
        await _refifo(session, key, recovered_delta[key], today)


async def _refifo(session: AsyncSession, key: tuple[int, int | None, bool], delta: int, today: date) -> None:
    project_id, contract_id, site_clearance = key
    query = select(Advance).where(Advance.project_id == project_id).with_for_update()
    if contract_id is not None:
        query = query.where(Advance.contract_id == contract_id)
    else:
        query = query.where(Advance.contract_id.is_(None))
        query = query.where(Advance.kind == AdvanceKind.site_clearance) if site_clearance else query.where(
            Advance.kind != AdvanceKind.site_clearance)
    advances = sorted(await session.scalars(query), key=lambda a: (a.advanced_on, a.id))
    if not advances:
        return
    total = max(0, min(sum(a.recovered_vnd for a in advances) + delta, sum(a.amount_vnd for a in advances)))
    now = utcnow()
    changed: list[tuple[Advance, int]] = []
    left = total
    for advance in advances:
        applied = min(left, advance.amount_vnd)
        left -= applied
        if applied != advance.recovered_vnd or advance.outstanding_vnd != advance.amount_vnd - applied:
            changed.append((advance, applied - advance.recovered_vnd))
            advance.recovered_vnd, advance.outstanding_vnd = applied, advance.amount_vnd - applied
            advance.version += 1
            advance.updated_at = now
            events.emit(session, "advance.updated", "advance", advance.id,
                        {"id": advance.id, "recovered_vnd": applied, "outstanding_vnd": advance.outstanding_vnd},
                        project_id=project_id, known_on=today)
    if changed:
        await _record_recovery_steps(session, changed, today)


async def _record_recovery_steps(session: AsyncSession, changed: list[tuple[Advance, int]], today: date) -> None:
    """R16: a recovery from the ledger is a step of the advance's open case; zero outstanding closes it."""
    by_advance = {advance.id: (advance, delta) for advance, delta in changed}
    cases = await session.scalars(select(RecoveryCase).where(RecoveryCase.advance_id.in_(list(by_advance)),
                                                             RecoveryCase.state != "closed").with_for_update())
    now = utcnow()
    for case in cases:
        advance, delta = by_advance[case.advance_id]
        session.add(RecoveryStep(case_id=case.id, kind="recovery", amount_vnd=delta, at=now,
                                 note=f"recorded from the ledger; outstanding {advance.outstanding_vnd:,} đồng"))
        if advance.outstanding_vnd == 0:
            case.state, case.closed_on = "closed", today
        case.version += 1
        case.updated_at = now
        events.emit(session, "recovery_case.closed" if case.state == "closed" else "recovery_case.recovery",
                    "recovery_case", case.id, {"id": case.id, "advance_id": advance.id, "recovered_vnd": delta,
                                               "outstanding_vnd": advance.outstanding_vnd, "state": case.state},
                    project_id=case.project_id, known_on=today)
