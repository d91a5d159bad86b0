"""The Treasury's view of advances: facts from the database, overdue snapshot, its cheap ETag.

Classification is app.services.overdue (pure R9–R12); this module only loads the facts and filters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind
from app.models import Advance, Contract, ContractBalance, Project
from app.rules.rulesets import RuleSet, ruleset_for
from app.services import overdue
from app.services.rule_sets import effective_rule_sets, overrides_version

BUCKETS = ("0-30", "31-90", "91-180", "181-365", ">365")


@dataclass(frozen=True, slots=True)
class AdvanceRow:
    advance: Advance
    investor_id: int
    project_code: str
    contract: Contract | None
    facts: overdue.AdvanceFacts


def facts_of(advance: Advance, contract: Contract | None) -> overdue.AdvanceFacts:
    kind = AdvanceKind(advance.kind)
    return overdue.AdvanceFacts(
        kind=kind, advanced_on=advance.advanced_on, advanced_vnd=advance.amount_vnd,
        outstanding_vnd=advance.outstanding_vnd,
        full_recovery_date=contract.full_recovery_date if contract is not None else None,
        held_for_disputes_vnd=advance.held_for_disputes_vnd if kind is AdvanceKind.site_clearance else 0,
        extended_until=advance.extended_until if kind is AdvanceKind.other else None)


async def outstanding_advances(session: AsyncSession, *, project_id: int | None = None,
                               investor_id: int | None = None) -> list[AdvanceRow]:
    """Every advance with an outstanding balance (plus its contract and project's investor)."""
    query = (select(Advance, Project.investor_id, Project.code, Contract)
             .join(Project, Project.id == Advance.project_id)
             .outerjoin(Contract, Contract.id == Advance.contract_id)
             .where(Advance.outstanding_vnd > 0).order_by(Advance.id))
    if project_id is not None:
        query = query.where(Advance.project_id == project_id)
    if investor_id is not None:
        query = query.where(Project.investor_id == investor_id)
    return [AdvanceRow(a, inv, code, c, facts_of(a, c)) for a, inv, code, c in (await session.execute(query)).all()]


@dataclass(frozen=True, slots=True)
class OverdueFilter:
    investor_id: int | None = None
    project_id: int | None = None
    bucket: str | None = None
    rule: str | None = None
    capital_source: str | None = None


@dataclass(frozen=True, slots=True)
class OverdueItem:
    row: AdvanceRow
    classification: overdue.Classification
    bucket: str


async def overdue_snapshot(session: AsyncSession, f: OverdueFilter, as_of: date,
                           rule_sets: tuple[RuleSet, ...] | None = None) -> list[OverdueItem]:
    """Overdue advances on `as_of` matching the filters, in advance id order."""
    rule_sets = rule_sets or await effective_rule_sets(session)
    rule_set = ruleset_for(as_of, rule_sets)
    items = []
    for row in await outstanding_advances(session, project_id=f.project_id, investor_id=f.investor_id):
        if f.capital_source and row.advance.capital_source != f.capital_source:
            continue
        c = overdue.classify(row.facts, as_of, rule_set)
        if c.status is not overdue.AdvanceStatus.overdue:
            continue
        bucket = overdue.age_bucket(c.days_overdue)
        if (f.bucket and bucket != f.bucket) or (f.rule and c.rule_id != f.rule):
            continue
        items.append(OverdueItem(row, c, bucket))
    return items


def bucket_totals(items: list[OverdueItem]) -> dict[str, dict[str, int]]:
    totals = {bucket: {"count": 0, "overdue_vnd": 0} for bucket in BUCKETS}
    for item in items:
        totals[item.bucket]["count"] += 1
        totals[item.bucket]["overdue_vnd"] += item.classification.overdue_vnd
    return totals


async def snapshot_etag(session: AsyncSession, filters: dict, as_of: date) -> str:
    """Strong ETag of an overdue snapshot, without classifying anything.

    Every change to an advance bumps its `version` (recovery, contract change, reversal) and versions only
    grow, so (count, max id, sum of versions) changes whenever any advance — hence any listed one —
    changes; contract guarantee/value changes are covered by the contracts' versions, rule-set overrides
    by their versions, and time by `as_of`.
    """
    adv = (await session.execute(select(func.count(), func.coalesce(func.max(Advance.id), 0),
                                        func.coalesce(func.sum(Advance.version), 0)))).one()
    con = (await session.execute(select(func.count(), func.coalesce(func.sum(Contract.version), 0)))).one()
    bal = await session.scalar(select(func.coalesce(func.max(ContractBalance.updated_at), None)))
    raw = json.dumps([filters, as_of.isoformat(), list(adv), list(con), str(bal),
                      await overrides_version(session)], sort_keys=True, default=str)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
