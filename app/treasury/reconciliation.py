"""R15a reconciliation (đối chiếu): owners' reports against the Treasury's record, matched by document number.

A Treasury entry names the owner's document it pays (`owner_document_number`); the owner's report with that
document number in the same project is its match. Posting the Treasury entry supersedes the report
(`app.ledger.confirmations`), so a match never counts twice; what is left to look at is:
- `unmatched_report`: an owner's report the Treasury has not (yet) confirmed — money that is only an estimate;
- `unmatched_treasury`: a Treasury entry no owner reported (or that names no owner document);
- `amount_differs`: a match whose net amounts differ (the Treasury's amount is what counts);
- `matched`: a match with equal amounts.
A report its owner withdrew (reversed) and a Treasury entry the Treasury reversed are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.enums import EntrySource
from app.models import Disbursement, Project


class MatchStatus(StrEnum):
    unmatched_report = "unmatched_report"
    unmatched_treasury = "unmatched_treasury"
    amount_differs = "amount_differs"
    matched = "matched"


@dataclass(frozen=True, slots=True)
class Side:
    id: int
    document_number: str
    value_date: Any
    net_vnd: int


@dataclass(frozen=True, slots=True)
class Item:
    key: int  # the report's id, or the Treasury entry's when there is no report (both disbursement ids)
    status: MatchStatus
    project_id: int
    project_code: str
    plan_year: int
    report: Side | None
    treasury: Side | None

    @property
    def difference_vnd(self) -> int:
        """Treasury net − reported net (0 when a side is missing: that case is its own status)."""
        return self.treasury.net_vnd - self.report.net_vnd if self.report and self.treasury else 0


@dataclass(slots=True)
class Totals:
    count: int = 0
    reported_vnd: int = 0
    confirmed_vnd: int = 0
    difference_vnd: int = 0


def _reversed(row: Any) -> Any:
    reversal = aliased(Disbursement)
    return exists().where(reversal.reverses_id == row.id)


async def items(session: AsyncSession, *, plan_year: int, project_id: int | None = None) -> list[Item]:
    """Every listed item of a plan year (optionally one project), in key order."""
    report, entry = aliased(Disbursement), aliased(Disbursement)
    filters = [report.plan_year == plan_year, report.source == EntrySource.owner.value, report.reverses_id.is_(None)]
    if project_id is not None:
        filters.append(report.project_id == project_id)
    reports = await session.execute(
        select(report.id, report.project_id, report.plan_year, report.document_number, report.value_date,
               report.net_vnd, _reversed(report).label("withdrawn"), Project.code,
               entry.id.label("t_id"), entry.document_number.label("t_doc"), entry.value_date.label("t_date"),
               entry.net_vnd.label("t_net"))
        .join(Project, Project.id == report.project_id)
        .outerjoin(entry, and_(entry.project_id == report.project_id,
                               entry.owner_document_number == report.document_number,
                               ~_reversed(entry)))
        .where(*filters))
    out: list[Item] = []
    for r in reports:
        own = Side(r.id, r.document_number, r.value_date, r.net_vnd)
        if r.t_id is not None:
            paid = Side(r.t_id, r.t_doc, r.t_date, r.t_net)
            status = MatchStatus.matched if paid.net_vnd == own.net_vnd else MatchStatus.amount_differs
            out.append(Item(r.id, status, r.project_id, r.code, r.plan_year, own, paid))
        elif not r.withdrawn:
            out.append(Item(r.id, MatchStatus.unmatched_report, r.project_id, r.code, r.plan_year, own, None))
    # The Treasury's entries without a report: no owner document named, or none reported under that number.
    matched_report = select(report.id).where(
        report.project_id == entry.project_id, report.document_number == entry.owner_document_number,
        report.source == EntrySource.owner.value, report.reverses_id.is_(None))
    filters = [entry.plan_year == plan_year, entry.source == EntrySource.treasury.value, entry.reverses_id.is_(None),
               ~_reversed(entry), ~exists(matched_report)]
    if project_id is not None:
        filters.append(entry.project_id == project_id)
    for t in await session.execute(
            select(entry.id, entry.project_id, entry.plan_year, entry.document_number, entry.value_date,
                   entry.net_vnd, Project.code).join(Project, Project.id == entry.project_id).where(*filters)):
        out.append(Item(t.id, MatchStatus.unmatched_treasury, t.project_id, t.code, t.plan_year, None,
                        Side(t.id, t.document_number, t.value_date, t.net_vnd)))
    return sorted(out, key=lambda item: item.key)


def totals(listed: list[Item]) -> dict[MatchStatus, Totals]:
    by_status = {status: Totals() for status in MatchStatus}
    for item in listed:
        t = by_status[item.status]
        t.count += 1
        t.reported_vnd += item.report.net_vnd if item.report else 0
        t.confirmed_vnd += item.treasury.net_vnd if item.treasury else 0
        t.difference_vnd += item.difference_vnd
    return by_status
