"""R15a reconciliation (đối chiếu): owners' reports against the Treasury's record, matched by document number.

A Treasury entry names the owner's document it pays (`owner_document_number`); posting it supersedes the owner's
unwithdrawn report of that number with a reversal numbered `DC-<report id>` (`app.ledger.confirmations`), so a
match never counts twice. A plan year's items, each in the year its money counts in:
- per Treasury entry of the year (not reversed): `matched` or `amount_differs` when it superseded a report (the
  Treasury's amount is what counts), else `unmatched_treasury` — paid, never reported (or reported and withdrawn);
- per owner report of the year still standing (neither superseded nor withdrawn): `unmatched_report` — money that
  is only an estimate.
So the items' Treasury amounts sum to the year's confirmed figure and the unmatched reports to its unconfirmed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import String, and_, cast, exists, literal, select
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
    key: int  # the Treasury entry's id, or the report's when it stands alone (both disbursement ids)
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
    entry, report, undo = aliased(Disbursement), aliased(Disbursement), aliased(Disbursement)
    superseded = and_(report.project_id == entry.project_id, report.document_number == entry.owner_document_number,
                      report.source == EntrySource.owner.value, report.reverses_id.is_(None),
                      exists().where(undo.reverses_id == report.id,
                                     undo.document_number == literal("DC-", String) + cast(report.id, String)))
    filters = [entry.plan_year == plan_year, entry.source == EntrySource.treasury.value, entry.reverses_id.is_(None),
               ~_reversed(entry)]
    if project_id is not None:
        filters.append(entry.project_id == project_id)
    out: list[Item] = []
    for t in await session.execute(
            select(entry.id, entry.project_id, entry.plan_year, entry.document_number, entry.value_date,
                   entry.net_vnd, Project.code, report.id.label("r_id"), report.document_number.label("r_doc"),
                   report.value_date.label("r_date"), report.net_vnd.label("r_net"))
            .join(Project, Project.id == entry.project_id).outerjoin(report, superseded).where(*filters)):
        paid = Side(t.id, t.document_number, t.value_date, t.net_vnd)
        if t.r_id is None:
            out.append(Item(t.id, MatchStatus.unmatched_treasury, t.project_id, t.code, t.plan_year, None, paid))
            continue
        own = Side(t.r_id, t.r_doc, t.r_date, t.r_net)
        status = MatchStatus.matched if paid.net_vnd == own.net_vnd else MatchStatus.amount_differs
        out.append(Item(t.id, status, t.project_id, t.code, t.plan_year, own, paid))
    filters = [report.plan_year == plan_year, report.source == EntrySource.owner.value, report.reverses_id.is_(None),
               ~_reversed(report)]
    if project_id is not None:
        filters.append(report.project_id == project_id)
    for r in await session.execute(
            select(report.id, report.project_id, report.plan_year, report.document_number, report.value_date,
                   report.net_vnd, Project.code).join(Project, Project.id == report.project_id).where(*filters)):
        out.append(Item(r.id, MatchStatus.unmatched_report, r.project_id, r.code, r.plan_year,
                        Side(r.id, r.document_number, r.value_date, r.net_vnd), None))
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
