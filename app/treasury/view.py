"""The Treasury's view of advances: facts from the database, overdue snapshot, its cheap ETag.

Classification is app.treasury.overdue (pure R9–R12); this module only loads the facts and filters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind
from app.kernel import caches
from app.kernel.clock import today
from app.ledger.books import advances_outstanding_on
from app.models import Advance, Contract, Project
from app.models.snapshot import SnapshotVersion
from app.rulesets.model import RuleSet
from app.rulesets.service import effective_rule_sets
from app.treasury import overdue

BUCKETS = ("0-30", "31-90", "91-180", "181-365", ">365")


@dataclass(frozen=True, slots=True)
class AdvanceRow:
    advance: Advance
    investor_id: int
    project_code: str
    contract: Contract | None
    facts: overdue.AdvanceFacts  # outstanding as of the question's date (today's row, or the ledger replayed)

    @property
    def outstanding_vnd(self) -> int:
        return self.facts.outstanding_vnd


def facts_of(advance: Advance, contract: Contract | None, outstanding_vnd: int | None = None) -> overdue.AdvanceFacts:
    kind = AdvanceKind(advance.kind)
    return overdue.AdvanceFacts(
        kind=kind, advanced_on=advance.advanced_on, advanced_vnd=advance.amount_vnd,
        outstanding_vnd=advance.outstanding_vnd if outstanding_vnd is None else outstanding_vnd,
        full_recovery_date=contract.full_recovery_date if contract is not None else None,
        held_for_disputes_vnd=advance.held_for_disputes_vnd if kind is AdvanceKind.site_clearance else 0,
        extended_until=advance.extended_until if kind is AdvanceKind.other else None,
        marked_misuse=advance.misuse_marked_on is not None, marked_misuse_on=advance.misuse_marked_on)


def could_be_overdue(as_of: date, rule_sets: tuple[RuleSet, ...]):
    """A SQL pre-filter that keeps every advance that may be overdue on `as_of` (R9–R11) and drops the
    many that cannot yet be, so only candidates are classified in Python. Months are counted as at least
    28 days less a margin, so the filter is a superset of the exact rule (which `overdue.classify_on` applies).
    Each advance is judged under its own date's rule set (R9), so the shortest period of any rule set bounds it."""

    def earliest(months: int) -> date:
        return as_of - timedelta(days=max(0, months * 28 - 3))

    return or_(
        Advance.misuse_marked_on <= as_of,
        (Advance.kind == AdvanceKind.contract)
        & (Contract.full_recovery_date <= earliest(min(r.overdue_contract_months for r in rule_sets))),
        (Advance.kind == AdvanceKind.site_clearance)
        & (Advance.advanced_on <= earliest(min(r.overdue_site_clearance_months for r in rule_sets))),
        (Advance.kind == AdvanceKind.other)
        & (Advance.advanced_on <= earliest(min(r.overdue_other_months for r in rule_sets))),
    )


async def outstanding_advances(session: AsyncSession, *, project_id: int | None = None, investor_id: int | None = None,
                               only=None, as_of: date | None = None) -> list[AdvanceRow]:
    """Every advance with an outstanding balance (plus its contract and project's investor); `only` narrows
    it with an extra SQL condition (e.g. `could_be_overdue`).

    For a past `as_of` the balances are those of that day as the ledger knew it then
    (`books.advances_outstanding_on`): an advance recovered since still counts, one recorded since does not.
    Today (or no date) reads the stored balances."""
    query = (select(Advance, Project.investor_id, Project.code, Contract)
             .join(Project, Project.id == Advance.project_id)
             .outerjoin(Contract, Contract.id == Advance.contract_id).order_by(Advance.id))
    past = as_of is not None and as_of < today()
    query = query.where(Advance.advanced_on <= as_of) if past else query.where(Advance.outstanding_vnd > 0)
    if only is not None:
        query = query.where(only)
    if project_id is not None:
        query = query.where(Advance.project_id == project_id)
    if investor_id is not None:
        query = query.where(Project.investor_id == investor_id)
    found = (await session.execute(query)).all()
    if not past or not found:
        return [AdvanceRow(a, inv, code, c, facts_of(a, c)) for a, inv, code, c in found]
    assert as_of is not None
    projects = sorted({a.project_id for a, *_ in found})
    # why: a province-wide question replays every advance row rather than sending thousands of ids
    balances = await advances_outstanding_on(session, as_of, project_ids=projects if len(projects) <= 500 else None)
    return [AdvanceRow(a, inv, code, c, facts_of(a, c, balances[a.disbursement_id]))
            for a, inv, code, c in found if balances.get(a.disbursement_id, 0) > 0]


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
    items = []
    candidates = await outstanding_advances(session, project_id=f.project_id, investor_id=f.investor_id,
                                            only=could_be_overdue(as_of, rule_sets), as_of=as_of)
    for row in candidates:
        if f.capital_source and row.advance.capital_source != f.capital_source:
            continue
        c = overdue.classify_on(row.facts, as_of, rule_sets)
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


async def snapshot_version(session: AsyncSession) -> int:
    """How many committed changes the overdue snapshot has seen (app.models.snapshot): one read of ≤ 16 rows, or
    none while this worker holds it in memory (`caches.snapshot_versions`, cleared by every commit that bumps it)."""

    async def load() -> int:
        return int(await session.scalar(select(func.coalesce(func.sum(SnapshotVersion.version), 0))) or 0)

    return int(await caches.remembered(caches.snapshot_versions, SNAPSHOT_VERSION, load))


SNAPSHOT_VERSION = "version"  # the one key of caches.snapshot_versions


def snapshot_etag_of(version: int, filters: dict, as_of: date) -> str:
    """Strong ETag of an overdue snapshot from (snapshot version, business date, normalised filters).

    The version grows in the same transaction as every change to advances, contracts, contract
    balances, rule-set overrides, calendar days, sweep transitions and projects' codes or investors
    (app.models.snapshot), so the tag changes whenever the answer can; time is in `as_of`.
    """
    raw = json.dumps([version, as_of.isoformat(), filters], sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


async def snapshot_etag(session: AsyncSession, filters: dict, as_of: date) -> str:
    """Strong ETag of an overdue snapshot, without touching the advances (one tiny read)."""
    return snapshot_etag_of(await snapshot_version(session), filters, as_of)
