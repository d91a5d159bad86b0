"""R19 reallocation proposals, drafting: candidates from the data, the optimiser, the stored draft.

Candidates per pool (capital source × budget level × budget holder × plan year; R1, R19) from the monitoring
snapshot at `as_of`:
* recipient — a pool with a registered extra need: capacity = min(need, TMĐT headroom = TMĐT − cumulative
  plan (R2), pace capacity beyond plan from the forecast, medium-term headroom (R1c)); priority from the
  project's stage and lists;
* donor — every other pool with a plan: surplus = plan − max(forecast + margin, disbursed + in flight).
An envelope (new capital, a tranche) is distributed instead, with no donor. Every step of the proposal's life
emits its change-feed event through `emit_step`; the steps after the draft are in `workflow`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import BudgetLevel, CapitalSource, PlanProvenance
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.ledger import medium_term
from app.ledger.balances import PoolKey
from app.models import ProjectBalance, ReallocationProposal, ReallocationTransfer
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


async def in_flight_by_pool(session: AsyncSession, plan_year: int) -> tuple[dict[PoolKey, int], str]:
    """Dossiers filed and not yet paid or returned, from the Treasury module when it provides them."""
    try:
        from app.treasury.dossiers import in_flight_by_pool as provided
    except ImportError:
        return {}, "unavailable (treated as 0)"
    return {key: int(amount) for key, amount in (await provided(session, plan_year)).items()}, "dossiers"


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
    return {"capital_source": pool.capital_source, "budget_level": pool.budget_level,
            "budget_holder_id": pool.budget_holder_id, "plan_year": pool.plan_year}


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
    """R19 envelope mode: new capital of one pool (a tranche, đợt) to distribute: one source, one budget holder."""

    amount_vnd: int
    capital_source: str
    budget_level: str
    budget_holder_id: int
    tranche: int | None = None
    provenance: str = PlanProvenance.added.value  # R1b: who assigned the new capital


async def draft(
    session: AsyncSession,
    *,
    plan_year: int,
    as_of: date,
    pools: list[tuple[str, str, int | None]] | None,
    options: ReallocationOptions,
    title: str | None,
    key_id: int | None,
    today: date,
    envelope: Envelope | None = None,
) -> ReallocationProposal:
    if envelope is not None:
        pools = [(envelope.capital_source, envelope.budget_level, envelope.budget_holder_id)]
    snap = await build_snapshot(session, plan_year, as_of)
    attrs = await project_attrs(session, as_of)
    in_flight, in_flight_source = await in_flight_by_pool(session, plan_year)
    # R19: a filter names source and level, and may name the holder (omitted: every holder, each solved apart)
    wanted = [(CapitalSource(s), BudgetLevel(b), h) for s, b, h in pools] if pools else None
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
            k = p.key
            if wanted is not None and (k.capital_source, k.budget_level, None) not in wanted and (
                    k.capital_source, k.budget_level, k.budget_holder_id) not in wanted:
                continue
            pool = CapitalPool(p.key.capital_source.value, p.key.budget_level.value, plan_year, p.key.budget_holder_id)
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
    headroom = await medium_term.headroom_by_pool(session, plan_year, [
        (int(r.project_id), CapitalSource(r.pool.capital_source)) for r in recipients])  # R1c
    recipients = [replace(r, medium_term_headroom_vnd=headroom[(int(r.project_id),
                                                                CapitalSource(r.pool.capital_source))])
                  for r in recipients]
    if envelope is not None:  # nothing is taken from anyone: the envelope is the only donor
        donors = []
        pool = CapitalPool(envelope.capital_source, envelope.budget_level, plan_year, envelope.budget_holder_id)
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
                budget_holder_id=t.pool.budget_holder_id,
                donor_project_id=None if t.donor_id == ENVELOPE else int(t.donor_id),
                recipient_project_id=int(t.recipient_id),
                amount_vnd=t.amount_vnd,
                reason=t.reason[:2000],
            )
            for t in result.transfers
        ]
    )
    await session.flush()
    emit_step(session, proposal, "drafted", today)
    return proposal


def emit_step(session: AsyncSession, p: ReallocationProposal, step: str, today: date) -> None:
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
