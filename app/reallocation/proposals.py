"""R19 reallocation proposals from the data: candidates, the optimiser, storage and the workflow.

Candidates per pool (capital source × budget level × plan year) from the monitoring snapshot at `as_of`:
* recipient — a pool with a registered extra need: capacity = min(need, TMĐT headroom = TMĐT − cumulative
  plan (R2), pace capacity beyond plan from the forecast); priority from the project's stage and lists;
* donor — every other pool with a plan: surplus = plan − max(forecast + margin, disbursed + in flight).
Workflow: draft → submitted → approved (authority, decision number, date; approver separate from the
drafter: not the same key, person or organisation, neither key issued by the other) →
applied | rejected. Applying re-checks every transfer against current balances and writes paired,
zero-sum allocation entries (adjustment_out / adjustment_in) — or, for an envelope (new capital, a tranche), one
supplement per recipient summing to what was distributed — through the posting pipeline
(`posting.post_allocations`) in the request's single transaction: any failure rejects the whole application
and changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AllocationKind, BudgetLevel, CapitalSource
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.db import lock_row
from app.kernel.errors import Conflict, DomainError, NotFound, PreconditionFailed, RuleViolation
from app.ledger import posting
from app.ledger.balances import PoolKey, pool_key_of
from app.ledger.fold import AllocationInput
from app.models import PoolBalance, Project, ProjectBalance, ReallocationProposal, ReallocationTransfer
from app.monitoring.indicators import build_snapshot
from app.monitoring.summaries import ProjectAttrs, project_attrs
from app.reallocation.optimiser import (
    ENVELOPE,
    CapitalPool,
    Donor,
    Priority,
    ReallocationOptions,
    ReallocationResult,
    Recipient,
    distribute,
    greedy,
    optimise,
)
from app.registry import organisations


class ApproverIsDrafter(DomainError):
    status = 403
    title = "Forbidden"


def etag(p: ReallocationProposal) -> str:
    return f'"proposal-{p.id}-v{p.version}"'


async def in_flight_by_pool(session: AsyncSession, plan_year: int) -> tuple[dict[PoolKey, int], str]:
    """Dossiers filed and not yet paid or returned, from the Treasury module when it provides them."""
    try:
        from app.treasury.dossiers import in_flight_by_pool as provided
    except ImportError:
        return {}, "unavailable (treated as 0)"
    raw = await provided(session, plan_year)
    out: dict[PoolKey, int] = {}
    for key, amount in raw.items():
        k = (
            key
            if isinstance(key, PoolKey)
            else PoolKey(key[0], plan_year, CapitalSource(key[-2]), BudgetLevel(key[-1]))
        )
        out[k] = int(amount)
    return out, "dossiers"


def priority_of(a: ProjectAttrs) -> Priority:
    """R19 recipient priority: settlement, completed, ongoing short of capital, key watch-list, new."""
    if a.stage == "settled":
        return Priority.settlement
    if a.stage == "completed":
        return Priority.completed
    if a.stage == "ongoing":
        return Priority.ongoing_short
    if a.is_key_project or "app2" in a.watch_lists:
        return Priority.key_watch_list
    return Priority.new


def _pool_json(pool: CapitalPool) -> dict:
    return {"capital_source": pool.capital_source, "budget_level": pool.budget_level, "plan_year": pool.plan_year}


def _result_json(result: ReallocationResult) -> dict:
    return {
        "moved_vnd": result.moved_vnd,
        "weighted_moved_vnd": result.weighted_moved_vnd,
        "transfer_count": result.transfer_count,
        "expected_rate_before": round(result.expected_rate_before, 6),
        "expected_rate_after": round(result.expected_rate_after, 6),
        "transfers": [
            {
                "donor_project_id": t.donor_id,
                "recipient_project_id": t.recipient_id,
                **_pool_json(t.pool),
                "amount_vnd": t.amount_vnd,
            }
            for t in result.transfers
        ],
    }


@dataclass(frozen=True, slots=True)
class Envelope:
    """R19 envelope mode: new capital of one pool (a tranche, đợt) to distribute."""

    amount_vnd: int
    capital_source: str
    budget_level: str
    tranche: int | None = None


async def draft(
    session: AsyncSession,
    *,
    plan_year: int,
    as_of: date,
    pools: list[tuple[str, str]] | None,
    options: ReallocationOptions,
    title: str | None,
    key_id: int | None,
    today: date,
    envelope: Envelope | None = None,
) -> ReallocationProposal:
    if envelope is not None:
        pools = [(envelope.capital_source, envelope.budget_level)]
    snap = await build_snapshot(session, plan_year, as_of)
    attrs = await project_attrs(session, as_of)
    in_flight, in_flight_source = await in_flight_by_pool(session, plan_year)
    wanted = {(CapitalSource(s), BudgetLevel(b)) for s, b in pools} if pools else None
    need_ids = [pid for pid, st in snap.projects.items() if st.extra_need_vnd > 0]
    planned = (
        dict(
            (
                await session.execute(
                    select(ProjectBalance.project_id, ProjectBalance.planned_total_vnd).where(
                        ProjectBalance.project_id.in_(need_ids)
                    )
                )
            ).all()
        )
        if need_ids
        else {}
    )
    donors: list[Donor] = []
    recipients: list[Recipient] = []
    for pid, st in sorted(snap.projects.items()):
        a = attrs.get(pid)
        if a is None:
            continue
        for p in st.pools:
            if wanted is not None and (p.key.capital_source, p.key.budget_level) not in wanted:
                continue
            pool = CapitalPool(p.key.capital_source.value, p.key.budget_level.value, plan_year)
            f = p.forecast
            if f is None:
                continue
            if p.extra_need_vnd > 0:
                recipients.append(
                    Recipient(
                        pid,
                        pool,
                        p.plan_vnd,
                        p.extra_need_vnd,
                        max(0, a.total_investment_vnd - int(planned.get(pid, 0))),
                        f.extra_capacity_vnd,
                        priority_of(a),
                        f.forecast_vnd,
                    )
                )
            elif p.plan_vnd > 0:
                donors.append(
                    Donor(
                        pid,
                        pool,
                        p.plan_vnd,
                        p.disbursed_vnd,
                        in_flight.get(p.key, 0),
                        f.forecast_vnd,
                        bool(a.watch_lists),
                    )
                )
    if envelope is not None:  # nothing is taken from anyone: the envelope is the only donor
        donors = []
        pool = CapitalPool(envelope.capital_source, envelope.budget_level, plan_year)
        result = distribute(envelope.amount_vnd, pool, recipients, options)
        compare = distribute(envelope.amount_vnd, pool, recipients, options, solver=greedy)
    else:
        result = optimise(donors, recipients, options)
        compare = greedy(donors, recipients, options)
    src = {(d.project_id, d.pool): d for d in donors}
    analysis = {
        "in_flight_source": in_flight_source,
        "donors": [
            {
                **asdict(d),
                "pool": _pool_json(d.pool),
                "disbursed_vnd": src[(d.project_id, d.pool)].disbursed_vnd,
                "in_flight_vnd": src[(d.project_id, d.pool)].in_flight_vnd,
                "forecast_vnd": src[(d.project_id, d.pool)].forecast_vnd,
                "protected": src[(d.project_id, d.pool)].is_protected,
            }
            for d in result.donors
        ],
        "recipients": [
            {**asdict(r), "pool": _pool_json(r.pool), "priority": r.priority.value} for r in result.recipients
        ],
        "pools": [{**asdict(p), "pool": _pool_json(p.pool)} for p in result.pools],
        "greedy": _result_json(compare),
        "optimiser": {k: v for k, v in _result_json(result).items() if k != "transfers"},
    }
    now = utcnow()
    proposal = ReallocationProposal(
        plan_year=plan_year,
        as_of=as_of,
        status="draft",
        title=title,
        mode="envelope" if envelope else "zero_sum",
        envelope_vnd=envelope.amount_vnd if envelope else None,
        tranche=envelope.tranche if envelope else None,
        request={
            "envelope": asdict(envelope) if envelope else None,
            "pools": [list(x) for x in pools] if pools else None,
            "options": {
                "minimum_transfer_vnd": options.minimum_transfer_vnd,
                "safety_margin_vnd": options.safety_margin_vnd,
                "safety_margin_pct": options.safety_margin_pct,
                "protect_watch_lists": options.protect_watch_lists,
            },
        },
        analysis=analysis,
        moved_vnd=result.moved_vnd,
        transfer_count=result.transfer_count,
        expected_rate_before=round(result.expected_rate_before, 6),
        expected_rate_after=round(result.expected_rate_after, 6),
        drafted_by_key_id=key_id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(proposal)
    await session.flush()
    session.add_all(
        [
            ReallocationTransfer(
                proposal_id=proposal.id,
                plan_year=plan_year,
                capital_source=CapitalSource(t.pool.capital_source),
                budget_level=BudgetLevel(t.pool.budget_level),
                donor_project_id=None if t.donor_id == ENVELOPE else int(t.donor_id),
                recipient_project_id=int(t.recipient_id),
                amount_vnd=t.amount_vnd,
                reason=t.reason[:2000],
            )
            for t in result.transfers
        ]
    )
    await session.flush()
    _emit(session, proposal, "drafted", today)
    return proposal


def _emit(session: AsyncSession, p: ReallocationProposal, step: str, today: date) -> None:
    events.emit(
        session,
        f"reallocation_proposal.{step}",
        "reallocation_proposal",
        p.id,
        {
            "id": p.id,
            "plan_year": p.plan_year,
            "status": p.status,
            "moved_vnd": p.moved_vnd,
            "transfer_count": p.transfer_count,
            "decision_number": p.decision_number,
        },
        known_on=today,
    )


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
    _emit(session, p, "submitted", today)
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
    _emit(session, p, "approved", today)
    return p


async def reject(
    session: AsyncSession, proposal_id: int, if_match: str, reason: str, today: date
) -> ReallocationProposal:
    p = await _transition(session, proposal_id, if_match, ("draft", "submitted", "approved"), "rejected")
    _bump(p, "rejected")
    p.rejected_at, p.rejection_reason = p.updated_at, reason
    _emit(session, p, "rejected", today)
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
        if t.donor_project_id is not None:
            given[PoolKey(t.donor_project_id, t.plan_year, t.capital_source, t.budget_level)] += t.amount_vnd
        received[PoolKey(t.recipient_project_id, t.plan_year, t.capital_source, t.budget_level)] += t.amount_vnd
    problems = await _recheck(session, p, given, received)
    if problems:
        raise Conflict(
            "proposal_stale",
            f"{len(problems)} transfer check(s) fail on current balances; nothing was applied. Draft a new proposal.",
            problems=problems,
        )
    note = f"R19 {'envelope' if p.mode == 'envelope' else 'reallocation'} proposal {p.id}"
    kinds = ((AllocationKind.supplement, received),) if p.mode == "envelope" else \
        ((AllocationKind.adjustment_out, given), (AllocationKind.adjustment_in, received))
    entries = [
        AllocationInput(
            project_id=k.project_id,
            plan_year=k.plan_year,
            capital_source=k.capital_source,
            budget_level=k.budget_level,
            kind=kind,
            amount_vnd=amount,
            tranche=p.tranche,
            decision_number=p.decision_number or "",
            decision_date=p.decision_date or today,
            authority=p.authority or "",
            note=note,
            reallocation_proposal_id=p.id,
        )
        for kind, side in kinds
        for k, amount in sorted(side.items())
    ]
    await posting.post_allocations(session, entries, today=today, key_id=key_id)
    _bump(p, "applied")
    p.applied_at, p.applied_by_key_id = p.updated_at, key_id
    _emit(session, p, "applied", today)
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
        (d["project_id"], d["pool"]["capital_source"], d["pool"]["budget_level"]): d
        for d in p.analysis.get("donors", [])
    }
    problems: list[dict] = []
    for k, amount in sorted(given.items()):
        pool = current.get(k)
        plan = pool.plan_vnd if pool else 0
        disbursed = pool.disbursed_vnd if pool else 0
        floor = disbursed + in_flight.get(k, 0)
        before = drafted.get((k.project_id, k.capital_source.value, k.budget_level.value), {})
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
