"""Contracts (hợp đồng) per project: create, read, update with optimistic concurrency (ETag)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.kernel import feed as events
from app.kernel.clock import today, utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, PreconditionFailed, RuleViolation
from app.kernel.security import CONTRACT_FACTS
from app.ledger.advance_rules import completion_base_vnd, r8_breached
from app.ledger.locks import lock_projects
from app.models import Advance, Contract, ContractBalance
from app.rulesets.model import ruleset_for
from app.rulesets.service import effective_rule_sets

CONTRACT_TYPES = ("consulting", "construction", "equipment", "epc", "turnkey", "other")


def etag(contract: Contract) -> str:
    return f'"contract-{contract.id}-v{contract.version}"'


def payload(contract: Contract) -> dict[str, Any]:
    return {"id": contract.id, "project_id": contract.project_id, "number": contract.number,
            "value_vnd": contract.value_vnd, "version": contract.version}


async def get(session: AsyncSession, contract_id: int) -> Contract:
    contract = await session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("contract_not_found", f"Contract {contract_id} does not exist.")
    return contract


async def balance(session: AsyncSession, contract_id: int) -> ContractBalance:
    row = await session.get(ContractBalance, contract_id)
    assert row is not None  # created with the contract
    return row


def _check(fields: dict[str, Any]) -> None:
    rate, decision = fields.get("approved_advance_rate_pct"), fields.get("approving_decision")
    if rate is not None and not decision:
        raise RuleViolation("approving_decision_required", "R4: a higher advance rate needs the approving decision "
                            "(số quyết định, ngày).", pointer="/approving_decision")
    if fields.get("guarantee_vnd") and fields.get("guarantee_expires_on") is None:
        raise RuleViolation("guarantee_expiry_required", "R6: a guarantee needs its expiry date.",
                            pointer="/guarantee_expires_on")


async def create(session: AsyncSession, project_id: int, fields: dict[str, Any]) -> Contract:
    _check(fields)
    now = utcnow()
    # R4: the value at signing is kept; amendments change `value_vnd` only.
    contract = Contract(project_id=project_id, version=1, created_at=now, updated_at=now,
                        value_at_signing_vnd=fields["value_vnd"], **fields)
    session.add(contract)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("duplicate_contract", f"Contract {fields['number']!r} already exists for this project.",
                       pointer="/number") from exc
    session.add(ContractBalance(contract_id=contract.id, updated_at=now))
    events.emit(session, "contract.created", "contract", contract.id, payload(contract), project_id=project_id)
    return contract


async def update_contract(session: AsyncSession, contract_id: int, if_match: str, changes: dict[str, Any],
                          authorize: Callable[[str, str, str], None]) -> Contract:
    """Change a contract. `authorize(fact, whose, field)` is called for every changed field under the lock on the
    contract's balance, so whether the contract has advances (whose Treasury controls they are) cannot change
    between the check and the write (R15a)."""
    project_id = await session.scalar(select(Contract.project_id).where(Contract.id == contract_id))
    if project_id is None:
        raise NotFound("contract_not_found", f"Contract {contract_id} does not exist.")
    # The posting pipeline's lock order: project first, then the contract's balance, then its advances.
    await lock_projects(session, [project_id])
    contract = await lock_row(session, select(Contract).where(Contract.id == contract_id))
    assert contract is not None  # contracts are never deleted
    if if_match.strip() != etag(contract):
        raise PreconditionFailed("etag_mismatch", "The contract changed since you read it; fetch it again.",
                                 current_etag=etag(contract))
    merged = {name: getattr(contract, name) for name in ("approved_advance_rate_pct", "approving_decision",
                                                          "guarantee_vnd", "guarantee_expires_on")}
    merged.update(changes)
    _check(merged)
    # The balance row is locked (lock order: it follows the project and pools a posting takes; this update takes
    # none of those) so a concurrent posting cannot slip between the check and the change.
    bal = await lock_row(session, select(ContractBalance).where(ContractBalance.contract_id == contract_id))
    assert bal is not None  # created with the contract
    for name in sorted(changes):
        fact = CONTRACT_FACTS[name]
        whose = ("with_advances" if bal.advanced_vnd else "without_advances") if fact == "contract.controls" else "any"
        authorize(fact, whose, name)
    if bal.advanced_vnd and "full_recovery_date" in changes and changes["full_recovery_date"] is None:
        raise RuleViolation("full_recovery_date_required", "R4a: a contract with advances keeps its full-recovery "
                            "date.", pointer="/full_recovery_date")
    rule_set = ruleset_for(today(), await effective_rule_sets(session))
    if "value_vnd" in changes and r8_breached(contract.contract_type, changes["value_vnd"], bal.outstanding_vnd,
                                              bal.paid_vnd, bal.supply_completions > 0, rule_set):
        pct = rule_set.completion_recovery_pct
        base = completion_base_vnd(bal.outstanding_vnd, bal.paid_vnd, rule_set)
        raise RuleViolation("completion_recovery_required", f"R8: at this value the value disbursed would reach {pct}% "
                            f"with {bal.outstanding_vnd:,} đồng of advance outstanding.", pointer="/value_vnd",
                            minimum_vnd=base * 100 // pct + 1)
    if changes.get("agreed_advance_rate_pct") is not None and \
            bal.advanced_vnd * 100 > contract.value_at_signing_vnd * changes["agreed_advance_rate_pct"]:
        raise RuleViolation("agreed_rate_below_advanced", f"R4: {bal.advanced_vnd:,} đồng is already advanced, above "
                            f"{changes['agreed_advance_rate_pct']}% of the value at signing.",
                            pointer="/agreed_advance_rate_pct",
                            minimum_pct=-(-bal.advanced_vnd * 100 // contract.value_at_signing_vnd))
    if "value_vnd" in changes:
        floor = bal.outstanding_vnd + bal.paid_vnd
        if changes["value_vnd"] < floor:
            raise RuleViolation("contract_value_below_disbursed", f"R3: the value cannot go below what was "
                                f"disbursed under the contract ({floor:,} đồng).", pointer="/value_vnd",
                                minimum_vnd=floor)
    for name, value in changes.items():
        setattr(contract, name, value)
    contract.version += 1
    contract.updated_at = utcnow()
    # Deadlines and guarantees of the contract's advances may have changed: their snapshot versions move.
    await session.execute(update(Advance).where(Advance.contract_id == contract_id)
                          .values(version=Advance.version + 1, updated_at=contract.updated_at))
    events.emit(session, "contract.updated", "contract", contract.id,
                {**payload(contract), "changed": sorted(changes)}, project_id=contract.project_id)
    return contract


async def list_for_project(session: AsyncSession, project_id: int, after_id: int, limit: int) -> list[Contract]:
    query = (select(Contract).where(Contract.project_id == project_id, Contract.id > after_id)
             .order_by(Contract.id).limit(limit))
    return list(await session.scalars(query))


async def balances_for(session: AsyncSession, ids: list[int]) -> dict[int, ContractBalance]:
    if not ids:
        return {}
    rows = await session.scalars(select(ContractBalance).where(ContractBalance.contract_id.in_(ids)))
    return {row.contract_id: row for row in rows}
