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
from app.models import Advance, Contract, ContractBalance, ContractMember
from app.rulesets.model import RuleSet, ruleset_for
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


def _check_shares(members: list[dict[str, Any]], value_vnd: int) -> None:
    """R8 (joint ventures): distinct members whose shares sum to the contract value."""
    names = [m["name"] for m in members]
    if len(set(names)) != len(names):
        raise RuleViolation("jv_member_duplicate", "A joint venture names each member once.", pointer="/members")
    total = sum(m["share_vnd"] for m in members)
    if total != value_vnd:
        raise RuleViolation("jv_shares_must_sum_to_value", f"R8: the members' shares sum to {total:,} đồng, the "
                            f"contract value is {value_vnd:,} đồng.", pointer="/members", shares_total_vnd=total,
                            value_vnd=value_vnd)


async def members_of(session: AsyncSession, contract_ids: list[int]) -> dict[int, list[ContractMember]]:
    """Joint-venture members by contract (empty: not a joint venture)."""
    out: dict[int, list[ContractMember]] = {cid: [] for cid in contract_ids}
    if contract_ids:
        for m in await session.scalars(select(ContractMember).where(ContractMember.contract_id.in_(contract_ids))
                                       .order_by(ContractMember.id)):
            out[m.contract_id].append(m)
    return out


async def create(session: AsyncSession, project_id: int, fields: dict[str, Any]) -> Contract:
    _check(fields)
    members = fields.pop("members", None) or []
    if members:
        _check_shares(members, fields["value_vnd"])
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
    session.add_all(ContractMember(contract_id=contract.id, name=m["name"], share_vnd=m["share_vnd"], created_at=now,
                                   updated_at=now) for m in members)
    await session.flush()
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
    members = list(await session.scalars(select(ContractMember).where(ContractMember.contract_id == contract_id)
                                         .order_by(ContractMember.id).with_for_update()))
    shares = _new_shares(members, changes, contract.value_vnd)
    rule_set = ruleset_for(today(), await effective_rule_sets(session))
    _check_r8_terms(contract, bal, members, shares, changes, rule_set)
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
    for member in members:
        member.share_vnd = shares.get(member.name, member.share_vnd)
    for name, value in changes.items():
        if name != "members":
            setattr(contract, name, value)
    contract.version += 1
    contract.updated_at = utcnow()
    # Deadlines and guarantees of the contract's advances may have changed: their snapshot versions move.
    await session.execute(update(Advance).where(Advance.contract_id == contract_id)
                          .values(version=Advance.version + 1, updated_at=contract.updated_at))
    events.emit(session, "contract.updated", "contract", contract.id,
                {**payload(contract), "changed": sorted(changes)}, project_id=contract.project_id)
    return contract


def _new_shares(members: list[ContractMember], changes: dict[str, Any], value_vnd: int) -> dict[str, int]:
    """The joint-venture shares after the change (by member name), checked: the same members, summing to the value.
    A joint venture's members are fixed once recorded; only their shares move (with an amendment of the value)."""
    given = changes.get("members")
    if given is not None and sorted(m["name"] for m in given) != sorted(m.name for m in members):
        raise RuleViolation("jv_members_fixed", "R8: a contract's joint-venture members are those it was signed "
                            "with; send new shares for exactly them.", pointer="/members",
                            members=[m.name for m in members])
    shares = {m["name"]: m["share_vnd"] for m in given} if given is not None else {m.name: m.share_vnd for m in members}
    if members and ("value_vnd" in changes or given is not None):
        _check_shares([{"name": n, "share_vnd": v} for n, v in shares.items()],
                      changes.get("value_vnd") or value_vnd)
    return shares


def _check_r8_terms(contract: Contract, bal: ContractBalance, members: list[ContractMember], shares: dict[str, int],
                    changes: dict[str, Any], rule_set: RuleSet) -> None:
    """R8 on the amended terms (value, type, shares): no advance may stay outstanding past the threshold they set —
    the contract's, or for a joint venture each member's on its share."""
    if not {"value_vnd", "contract_type", "members"} & set(changes):
        return
    kind = changes.get("contract_type") or contract.contract_type
    pct = rule_set.completion_recovery_pct
    parts: list[tuple[str | None, int, int, int, int]] = [
        (m.name, shares[m.name], m.outstanding_vnd, m.paid_vnd, m.supply_completions) for m in members] or [
        (None, changes.get("value_vnd") or contract.value_vnd, bal.outstanding_vnd, bal.paid_vnd,
         bal.supply_completions)]
    for name, value, outstanding, paid, completions in parts:
        if r8_breached(kind, value, outstanding, paid, completions > 0, rule_set):
            base = completion_base_vnd(outstanding, paid, rule_set)
            raise RuleViolation("completion_recovery_required", f"R8: on these terms the value disbursed "
                                f"{'of member ' + name + ' ' if name else ''}would reach {pct}% (or its supply be "
                                f"complete) with {outstanding:,} đồng of advance outstanding.",
                                pointer="/members" if name else "/value_vnd", minimum_vnd=base * 100 // pct + 1)


async def list_for_project(session: AsyncSession, project_id: int, after_id: int, limit: int) -> list[Contract]:
    query = (select(Contract).where(Contract.project_id == project_id, Contract.id > after_id)
             .order_by(Contract.id).limit(limit))
    return list(await session.scalars(query))


async def balances_for(session: AsyncSession, ids: list[int]) -> dict[int, ContractBalance]:
    if not ids:
        return {}
    rows = await session.scalars(select(ContractBalance).where(ContractBalance.contract_id.in_(ids)))
    return {row.contract_id: row for row in rows}
