"""Capital plan allocation entries (kế hoạch vốn): an append-only ledger per pool, changed by decisions.

Checks (in the write transaction, on locked balance rows): a decrease never takes a pool's plan below
what is already disbursed (R1 stays true); the project's cumulative plan stays within its TMĐT (R2,
R19); an extension covers at most the unspent plan and ends by the rule set's limit (R14).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import PLAN_DECREASING, AllocationKind, BudgetLevel, CapitalSource
from app.kernel import feed as events
from app.kernel.clock import utcnow
from app.kernel.errors import Conflict, NotFound, RuleViolation
from app.ledger.balances import PoolKey, ensure_pools, lock_pools, lock_projects
from app.models import AllocationEntry, PoolBalance, Project, ProjectBalance
from app.rulesets.model import ruleset_for


@dataclass(frozen=True, slots=True)
class AllocationInput:
    project_id: int
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    kind: AllocationKind
    amount_vnd: int  # positive; the kind gives the direction
    decision_number: str
    decision_date: date
    authority: str
    tranche: int | None = None
    extended_until: date | None = None
    note: str | None = None
    reallocation_proposal_id: int | None = None

    @property
    def pool(self) -> PoolKey:
        return PoolKey(self.project_id, self.plan_year, self.capital_source, self.budget_level)

    @property
    def plan_delta_vnd(self) -> int:
        if self.kind is AllocationKind.extension:
            return 0
        return -self.amount_vnd if self.kind in PLAN_DECREASING else self.amount_vnd


def check_allocation(entry: AllocationInput, project: Project, pool: PoolBalance, balance: ProjectBalance,
                     today: date) -> None:
    """Raise RuleViolation if `entry` would break a cap; pure over the locked rows."""
    if entry.decision_date > today:
        raise RuleViolation("decision_date_in_future", f"Decision date {entry.decision_date} is after today.",
                            pointer="/decision_date", latest_allowed=today.isoformat())
    unspent = pool.plan_vnd - pool.disbursed_vnd
    if entry.kind in PLAN_DECREASING and entry.amount_vnd > unspent:
        raise RuleViolation("plan_below_disbursed", f"R1: the pool has {unspent:,} đồng unspent; the plan cannot "
                            "go below what is already disbursed.", pointer="/amount_vnd", remaining_vnd=unspent)
    headroom = project.total_investment_vnd - balance.planned_total_vnd
    if entry.plan_delta_vnd > headroom:
        raise RuleViolation("tmdt_cap_exceeded", f"R2: the cumulative plan would exceed the project's TMĐT; "
                            f"{headroom:,} đồng of headroom left.", pointer="/amount_vnd", remaining_vnd=headroom)
    if entry.kind is AllocationKind.extension:
        rule_set = ruleset_for(entry.decision_date)
        limit = rule_set.extension_limit_for(entry.plan_year)
        normal_end = rule_set.payment_deadline_for(entry.plan_year)
        if entry.extended_until is None or not normal_end < entry.extended_until <= limit:
            raise RuleViolation("invalid_extension", f"R14: an extension of {entry.plan_year} capital must end "
                                f"after {normal_end} and no later than {limit}.", pointer="/extended_until",
                                earliest=normal_end.isoformat(), latest=limit.isoformat())
        still_extendable = unspent - pool.extended_vnd
        if entry.amount_vnd > still_extendable:
            raise RuleViolation("extension_exceeds_unspent", f"R14: only {still_extendable:,} đồng of unspent "
                                "plan can still be extended.", pointer="/amount_vnd", remaining_vnd=still_extendable)
    elif entry.extended_until is not None:
        raise RuleViolation("extended_until_not_allowed", "Only an extension carries extended_until.",
                            pointer="/extended_until")


def apply_allocation(entry: AllocationInput, pool: PoolBalance, balance: ProjectBalance) -> None:
    pool.plan_vnd += entry.plan_delta_vnd
    balance.planned_total_vnd += entry.plan_delta_vnd
    if entry.kind is AllocationKind.extension:
        pool.extended_vnd += entry.amount_vnd
        pool.extended_until = max(filter(None, (pool.extended_until, entry.extended_until)))
    elif entry.plan_delta_vnd > 0 and ruleset_for(entry.decision_date).is_late_capital(entry.plan_year,
                                                                                        entry.decision_date):
        pool.late_capital_vnd += entry.plan_delta_vnd


async def record(session: AsyncSession, entries: list[AllocationInput], *, today: date,
                 key_id: int | None) -> list[AllocationEntry]:
    """Record allocation entries atomically (a reallocation writes its paired out/in entries together)."""
    project_ids = sorted({e.project_id for e in entries})
    projects = {p.id: p for p in await session.scalars(select(Project).where(Project.id.in_(project_ids)))}
    for entry in entries:
        if entry.project_id not in projects:
            raise NotFound("project_not_found", f"Project {entry.project_id} does not exist.", pointer="/project_id")
    natural_keys = [(e.project_id, e.plan_year, e.capital_source.value, e.budget_level.value, e.kind.value,
                     e.decision_number) for e in entries]
    duplicate = await session.scalar(select(AllocationEntry.id).where(tuple_(
        AllocationEntry.project_id, AllocationEntry.plan_year, AllocationEntry.capital_source,
        AllocationEntry.budget_level, AllocationEntry.kind, AllocationEntry.decision_number,
    ).in_(natural_keys)).limit(1))
    if duplicate is not None:
        raise Conflict("duplicate_allocation", "This decision is already recorded for this pool and kind.",
                       pointer="/decision_number", existing_id=duplicate)
    balances = await lock_projects(session, project_ids)
    await ensure_pools(session, (e.pool for e in entries))
    pools = await lock_pools(session, (e.pool for e in entries))
    now = utcnow()
    created = []
    for entry in entries:
        pool, balance = pools[entry.pool], balances[entry.project_id]
        check_allocation(entry, projects[entry.project_id], pool, balance, today)
        apply_allocation(entry, pool, balance)
        pool.updated_at = balance.updated_at = now
        signed = entry.plan_delta_vnd if entry.kind is not AllocationKind.extension else entry.amount_vnd
        row = AllocationEntry(
            project_id=entry.project_id, plan_year=entry.plan_year, capital_source=entry.capital_source,
            budget_level=entry.budget_level, kind=entry.kind, amount_vnd=signed, tranche=entry.tranche,
            decision_number=entry.decision_number, decision_date=entry.decision_date, authority=entry.authority,
            extended_until=entry.extended_until, reallocation_proposal_id=entry.reallocation_proposal_id,
            note=entry.note, known_on=today, created_at=now, created_by_key_id=key_id,
        )
        session.add(row)
        created.append(row)
    await session.flush()
    for row in created:
        events.emit(session, "allocation.recorded", "allocation_entry", row.id, {
            "id": row.id, "project_id": row.project_id, "plan_year": row.plan_year,
            "capital_source": row.capital_source.value, "budget_level": row.budget_level.value,
            "kind": row.kind.value, "amount_vnd": row.amount_vnd, "decision_number": row.decision_number,
            "decision_date": row.decision_date.isoformat(),
        }, project_id=row.project_id, known_on=today)
    return created
