"""R19 reallocation proposals, workflow: draft (`drafting`) → submitted → approved (authority, decision number,
date; approver separate from the drafter: not the same key, person or organisation, neither key issued by the
other) → applied | rejected, each step under the proposal's row lock and its ETag.

Applying re-checks every transfer against current balances and writes paired, zero-sum allocation entries
(adjustment_out / adjustment_in) — or, for an envelope (new capital, a tranche), one supplement per recipient summing
to what was distributed — through the posting pipeline (`posting.post_allocations`) in the request's single
transaction: any failure rejects the whole application and changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, DomainError, NotFound, PreconditionFailed, RuleViolation
from app.ledger import posting
from app.ledger.balances import PoolKey, pool_key_of
from app.ledger.fold import AllocationInput
from app.models import PoolBalance, Project, ProjectBalance, ReallocationProposal, ReallocationTransfer
from app.reallocation import provenance
from app.reallocation.drafting import emit_step, in_flight_by_pool
from app.registry import organisations


class ApproverIsDrafter(DomainError):
    status = 403
    title = "Forbidden"


def etag(p: ReallocationProposal) -> str:
    return f'"proposal-{p.id}-v{p.version}"'


async def get(session: AsyncSession, proposal_id: int, *, lock: bool = False) -> ReallocationProposal:
    query = select(ReallocationProposal).where(ReallocationProposal.id == proposal_id)
    p = await (lock_row(session, query) if lock else session.scalar(query))
    if p is None:
        raise NotFound("proposal_not_found", f"Reallocation proposal {proposal_id} does not exist.")
    return p


async def transfers(session: AsyncSession, proposal_id: int) -> list[ReallocationTransfer]:
    return list(
        (
            await session.scalars(
                select(ReallocationTransfer)
                .where(ReallocationTransfer.proposal_id == proposal_id)
                .order_by(ReallocationTransfer.id)
            )
        ).all()
    )


async def _transition(
    session: AsyncSession, proposal_id: int, if_match: str, allowed: tuple[str, ...], step: str
) -> ReallocationProposal:
    # Locked and re-read before the version is compared: of N concurrent transitions with one ETag exactly one wins.
    p = await get(session, proposal_id, lock=True)
    if if_match != etag(p):
        raise PreconditionFailed(
            "etag_mismatch", "The proposal changed since you read it; read it again.", current_etag=etag(p)
        )
    if p.status not in allowed:
        raise Conflict(
            "illegal_transition",
            f"A {p.status} proposal cannot be {step}.",
            status_now=p.status,
            allowed_from=list(allowed),
        )
    return p


def _bump(p: ReallocationProposal, status: str) -> None:
    p.status = status
    p.version += 1
    p.updated_at = utcnow()


async def submit(session: AsyncSession, proposal_id: int, if_match: str, today: date) -> ReallocationProposal:
    p = await _transition(session, proposal_id, if_match, ("draft",), "submitted")
    if p.transfer_count == 0:
        # Nothing to decide: an applied proposal is the paired plan entries it wrote (verify: r19_proposal_status).
        raise RuleViolation("proposal_empty", "R19: this proposal moves no capital; there is nothing to submit.",
                            pointer="/transfers")
    _bump(p, "submitted")
    p.submitted_at = p.updated_at
    emit_step(session, p, "submitted", today)
    return p


async def approve(
    session: AsyncSession,
    proposal_id: int,
    if_match: str,
    *,
    authority: str,
    decision_number: str,
    decision_date: date,
    key_id: int,
    today: date,
) -> ReallocationProposal:
    p = await _transition(session, proposal_id, if_match, ("submitted",), "approved")
    if p.drafted_by_key_id == key_id:
        raise ApproverIsDrafter("approver_is_drafter", "R19: the key that drafted a proposal cannot approve it.")
    if p.drafted_by_key_id is not None and (
        why := await organisations.separation_of_duties(session, p.drafted_by_key_id, key_id)
    ):
        raise ApproverIsDrafter(
            "separation_of_duties",
            "R19: a proposal is approved by another person, of another organisation, whose key neither issued "
            "nor was issued by the drafter's key.",
            reason=why,
        )
    if decision_date > today:
        raise RuleViolation(
            "decision_date_in_future", f"Decision date {decision_date} is after today.", pointer="/decision_date"
        )
    _bump(p, "approved")
    p.authority, p.decision_number, p.decision_date = authority, decision_number, decision_date
    p.approved_by_key_id, p.approved_at = key_id, p.updated_at
    emit_step(session, p, "approved", today)
    return p


async def reject(
    session: AsyncSession, proposal_id: int, if_match: str, reason: str, today: date
) -> ReallocationProposal:
    p = await _transition(session, proposal_id, if_match, ("draft", "submitted", "approved"), "rejected")
    _bump(p, "rejected")
    p.rejected_at, p.rejection_reason = p.updated_at, reason
    emit_step(session, p, "rejected", today)
    return p


async def apply(
    session: AsyncSession, proposal_id: int, if_match: str, *, key_id: int, today: date
) -> ReallocationProposal:
    """Re-check every transfer on current balances, then write paired zero-sum entries — or an envelope's supplements
    (all or nothing)."""
    p = await _transition(session, proposal_id, if_match, ("approved",), "applied")
    rows = await transfers(session, p.id)
    given: dict[PoolKey, int] = defaultdict(int)
    received: dict[PoolKey, int] = defaultdict(int)
    for t in rows:
        pool = (t.plan_year, t.capital_source, t.budget_level, t.budget_holder_id)  # R19: the transfer's own pool
        if t.donor_project_id is not None:
            given[PoolKey(t.donor_project_id, *pool)] += t.amount_vnd
        received[PoolKey(t.recipient_project_id, *pool)] += t.amount_vnd
    problems = await _recheck(session, p, given, received)
    if problems:
        raise Conflict(
            "proposal_stale",
            f"{len(problems)} transfer check(s) fail on current balances; nothing was applied. Draft a new proposal.",
            problems=problems,
        )
    note = f"R19 {'envelope' if p.mode == 'envelope' else 'reallocation'} proposal {p.id}"
    added_given, added_received = await provenance.added_parts(session, p, rows)
    kinds = ((AllocationKind.supplement, received, added_received),) if p.mode == "envelope" else \
        ((AllocationKind.adjustment_out, given, added_given), (AllocationKind.adjustment_in, received, added_received))
    entries = [
        AllocationInput(
            project_id=k.project_id,
            plan_year=k.plan_year,
            capital_source=k.capital_source,
            budget_level=k.budget_level,
            budget_holder_id=k.budget_holder_id,
            kind=kind,
            amount_vnd=amount,
            added_vnd=added.get(k, 0),
            tranche=p.tranche,
            decision_number=p.decision_number or "",
            decision_date=p.decision_date or today,
            authority=p.authority or "",
            note=note,
            reallocation_proposal_id=p.id,
        )
        for kind, side, added in kinds
        for k, amount in sorted(side.items())
    ]
    await posting.post_allocations(session, entries, today=today, key_id=key_id)
    _bump(p, "applied")
    p.applied_at, p.applied_by_key_id = p.updated_at, key_id
    emit_step(session, p, "applied", today)
    return p


async def _recheck(
    session: AsyncSession, p: ReallocationProposal, given: dict[PoolKey, int], received: dict[PoolKey, int]
) -> list[dict]:
    keys = set(given) | set(received)
    ids = sorted({k.project_id for k in keys})
    current = {
        pool_key_of(r): r
        for r in await session.scalars(
            select(PoolBalance).where(PoolBalance.project_id.in_(ids), PoolBalance.plan_year == p.plan_year)
        )
    }
    in_flight, _ = await in_flight_by_pool(session, p.plan_year)
    drafted = {
        (d["project_id"], d["pool"]["capital_source"], d["pool"]["budget_level"], d["pool"].get("budget_holder_id")): d
        for d in p.analysis.get("donors", [])
    }
    problems: list[dict] = []
    for k, amount in sorted(given.items()):
        pool = current.get(k)
        plan = pool.plan_vnd if pool else 0
        disbursed = pool.disbursed_vnd if pool else 0
        floor = disbursed + in_flight.get(k, 0)
        before = drafted.get((k.project_id, k.capital_source.value, k.budget_level.value, k.budget_holder_id), {})
        if before and before.get("plan_vnd") != plan:
            problems.append(
                {
                    "project_id": k.project_id,
                    "code": "plan_changed",
                    "plan_at_draft_vnd": before.get("plan_vnd"),
                    "plan_now_vnd": plan,
                }
            )
        if plan - amount < floor:
            problems.append(
                {
                    "project_id": k.project_id,
                    "code": "donor_below_disbursed",
                    "plan_vnd": plan,
                    "give_vnd": amount,
                    "disbursed_vnd": disbursed,
                    "in_flight_vnd": in_flight.get(k, 0),
                    "short_vnd": floor - (plan - amount),
                }
            )
    projects = {x.id: x for x in await session.scalars(select(Project).where(Project.id.in_(ids)))}
    balances = {
        b.project_id: b for b in await session.scalars(select(ProjectBalance).where(ProjectBalance.project_id.in_(ids)))
    }
    take: dict[int, int] = defaultdict(int)
    for k, amount in received.items():
        take[k.project_id] += amount
    for pid, amount in sorted(take.items()):
        headroom = projects[pid].total_investment_vnd - balances[pid].planned_total_vnd
        if amount > headroom:
            problems.append(
                {"project_id": pid, "code": "tmdt_headroom_exceeded", "receive_vnd": amount, "headroom_vnd": headroom}
            )
    return problems
