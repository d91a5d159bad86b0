"""Payment and advance dossiers (hồ sơ thanh toán / tạm ứng), R15.

submitted → complete → paid | returned (reason required). The SLA clock starts at receipt: the Treasury accepts
the dossier as complete or returns it within the same working-day limit (`sla_due` from `submitted_on`), then pays
or returns it within the limit from completion (`sla_due` moves to that day). Both under the rule set in force that
day, on the working calendar with the administrator's days. A dossier past its SLA without a recorded delay
reason is "pending without reason". Paying posts the Treasury's disbursement through the posting pipeline.
A dossier asks for no more than its pool (and contract) could still receive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import BudgetLevel, CapitalSource
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, NotFound, PreconditionFailed, RuleViolation
from app.ledger import holders
from app.ledger.balances import PoolKey
from app.models import Contract, ContractBalance, Dossier, PoolBalance
from app.rulesets.model import ruleset_for
from app.rulesets.service import effective_rule_sets, working_calendar
from app.treasury import sla


def etag(dossier: Dossier) -> str:
    return f'"dossier-{dossier.id}-v{dossier.version}"'


def _payload(d: Dossier) -> dict[str, Any]:
    return {"id": d.id, "project_id": d.project_id, "kind": d.kind, "status": d.status, "amount_vnd": d.amount_vnd,
            "sla_due": d.sla_due.isoformat() if d.sla_due else None}


async def get(session: AsyncSession, dossier_id: int, *, lock: bool = False) -> Dossier:
    query = select(Dossier).where(Dossier.id == dossier_id)
    dossier = await (lock_row(session, query) if lock else session.scalar(query))
    if dossier is None:
        raise NotFound("dossier_not_found", f"Dossier {dossier_id} does not exist.")
    return dossier


async def _due(session: AsyncSession, start: date, kind: str) -> date:
    rule_sets = await effective_rule_sets(session)
    return sla.sla_due(start, sla.DossierKind(kind), ruleset_for(start, rule_sets), await working_calendar(session))


async def _receivable_vnd(session: AsyncSession, project_id: int, fields: dict[str, Any]) -> int:
    """What the pool (and the contract) could still receive: the most a dossier may ask for."""
    pool = await session.scalar(select(PoolBalance).where(
        PoolBalance.project_id == project_id, PoolBalance.plan_year == fields["plan_year"],
        PoolBalance.capital_source == fields["capital_source"], PoolBalance.budget_level == fields["budget_level"],
        PoolBalance.budget_holder_id == fields["budget_holder_id"]))
    room = pool.plan_vnd - pool.disbursed_vnd if pool is not None else 0
    contract = await session.get(Contract, fields["contract_id"]) if fields.get("contract_id") else None
    bal = await session.get(ContractBalance, contract.id) if contract is not None else None
    if contract is not None and bal is not None:
        if fields["kind"] is sla.DossierKind.advance:  # R3: new cash under the contract
            room = min(room, contract.value_vnd - bal.outstanding_vnd - bal.paid_vnd)
        else:  # a payment may recover the outstanding advance, so it may ask up to the unpaid value
            room = min(room + bal.outstanding_vnd, contract.value_vnd - bal.paid_vnd)
    return max(0, room)


async def submit(session: AsyncSession, project_id: int, fields: dict[str, Any], today: date) -> Dossier:
    fields["budget_holder_id"] = await holders.resolve_one(session, project_id, fields["budget_level"],
                                                           fields.get("budget_holder_id"))
    room = await _receivable_vnd(session, project_id, fields)
    if fields["amount_vnd"] > room:
        raise RuleViolation("dossier_exceeds_receivable", f"R1/R3: the pool (and contract) can still receive "
                            f"{room:,} đồng; a dossier cannot ask for more.", pointer="/amount_vnd",
                            allowed_max_vnd=room)
    now = utcnow()
    submitted_on = fields.pop("submitted_on", None) or today
    if submitted_on > today:
        raise RuleViolation("submitted_on_in_future", f"Submitted on {submitted_on}, after today ({today}).",
                            pointer="/submitted_on", latest_allowed=today.isoformat())
    dossier = Dossier(project_id=project_id, status=sla.DossierStatus.submitted.value, version=1,
                      created_at=now, updated_at=now, submitted_on=submitted_on,
                      sla_due=await _due(session, submitted_on, fields["kind"].value),  # R15: the clock runs at receipt
                      **{**fields, "kind": fields["kind"].value})
    session.add(dossier)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("duplicate_dossier", f"Dossier {fields['document_number']!r} is already filed.",
                       pointer="/document_number") from exc
    events.emit(session, "dossier.submitted", "dossier", dossier.id, _payload(dossier), project_id=project_id,
                known_on=today)
    return dossier


async def act(session: AsyncSession, dossier_id: int, action: sla.DossierAction, *, on: date, reason: str | None,
              if_match: str | None, post: Callable[[Dossier], Awaitable[int]] | None = None) -> Dossier:
    """complete / pay / return a dossier; illegal → 409 `illegal_transition`, no reason → 422. Paying calls
    `post(dossier)`, which posts the Treasury's disbursement through the posting pipeline (its rules refuse the
    payment as they refuse any movement) and answers its id."""
    dossier = await get(session, dossier_id, lock=True)
    if if_match is not None and if_match.strip() != etag(dossier):
        raise PreconditionFailed("etag_mismatch", "The dossier changed since you read it; fetch it again.",
                                 current_etag=etag(dossier))
    try:
        status = sla.next_state(sla.DossierStatus(dossier.status), action, reason=reason)
    except sla.ReturnReasonRequired as exc:
        raise RuleViolation("return_reason_required", f"R15: {exc.detail}", pointer="/reason") from exc
    except sla.IllegalTransition as exc:
        raise Conflict("illegal_transition", f"R15: {exc.detail}", state=dossier.status,
                       action=action.value) from exc
    if action is sla.DossierAction.complete:
        dossier.completed_on = on
        dossier.sla_due = await _due(session, on, dossier.kind)
    if action is sla.DossierAction.pay:
        assert post is not None  # the API passes the posting
        dossier.disbursement_id = await post(dossier)
    if status in sla.FINAL_STATUSES:
        dossier.closed_on = on
    if status is sla.DossierStatus.returned:
        dossier.return_reason = reason
    dossier.status = status.value
    dossier.version += 1
    dossier.updated_at = utcnow()
    events.emit(session, f"dossier.{status.value}", "dossier", dossier.id, _payload(dossier),
                project_id=dossier.project_id, known_on=on)
    return dossier


async def set_delay_reason(session: AsyncSession, dossier_id: int, reason: str, today: date) -> Dossier:
    dossier = await get(session, dossier_id, lock=True)
    if dossier.status not in sla.PENDING_STATUSES:
        raise Conflict("illegal_transition", f"R15: dossier {dossier.id} is {dossier.status}, not pending.")
    dossier.delay_reason = reason
    dossier.version += 1
    dossier.updated_at = utcnow()
    events.emit(session, "dossier.delay_reason", "dossier", dossier.id, {**_payload(dossier), "reason": reason},
                project_id=dossier.project_id, known_on=today)
    return dossier


async def list_page(session: AsyncSession, *, project_id: int | None, status: str | None,
                    pending_without_reason_on: date | None, after_id: int, limit: int) -> list[Dossier]:
    query = select(Dossier).where(Dossier.id > after_id)
    if project_id is not None:
        query = query.where(Dossier.project_id == project_id)
    if status is not None:
        query = query.where(Dossier.status == status)
    if pending_without_reason_on is not None:
        query = query.where(Dossier.status.in_([s.value for s in sla.PENDING_STATUSES]),
                            Dossier.sla_due < pending_without_reason_on,
                            (Dossier.delay_reason.is_(None)) | (func.trim(Dossier.delay_reason) == ""))
    return list(await session.scalars(query.order_by(Dossier.id).limit(limit)))


async def in_flight_by_pool(session: AsyncSession, plan_year: int) -> dict[PoolKey, int]:
    """Amounts of dossiers in flight per pool: R19 never takes capital below what is disbursed plus what is in
    flight. Only dossiers the Treasury accepted as complete count: a dossier an owner merely filed is its claim,
    and cannot block a reallocation (owners filed oversized dossiers to keep their capital)."""
    pool = (Dossier.project_id, Dossier.capital_source, Dossier.budget_level, Dossier.budget_holder_id)
    query = (select(*pool, func.sum(Dossier.amount_vnd))
             .where(Dossier.plan_year == plan_year, Dossier.status == sla.DossierStatus.complete.value)
             .group_by(*pool))
    return {PoolKey(pid, plan_year, CapitalSource(source), BudgetLevel(level), holder): int(total or 0)
            for pid, source, level, holder, total in (await session.execute(query)).all()}
