"""R15a reconciliation: owners' reports against the Treasury's record (app.treasury.reconciliation)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from app.kernel.api.deps import SessionDep, require
from app.kernel.api.problems import problem_responses
from app.kernel.schemas import IdParam, Page, PageSize, PlanYearParam, Schema, after_id, split_page
from app.ledger.balances import confirmed_split
from app.treasury import reconciliation
from app.treasury.reconciliation import MatchStatus

router = APIRouter(prefix="/api/v1/reconciliation", tags=["reconciliation"])


class SideOut(Schema):
    id: int = Field(description="The disbursement's id")
    document_number: str
    value_date: date
    net_vnd: int


class ReconciliationItem(Schema):
    key: int = Field(description="The Treasury entry's id, or the report's when no Treasury entry paid it")
    status: MatchStatus = Field(description="unmatched_report (an owner's estimate the Treasury has not confirmed), "
                                "unmatched_treasury (paid, never reported), amount_differs, matched")
    project_id: int
    project_code: str
    plan_year: int
    report: SideOut | None = Field(description="The owner's report (báo cáo của chủ đầu tư)")
    treasury: SideOut | None = Field(description="The Treasury's entry (xác nhận của Kho bạc)")
    difference_vnd: int = Field(description="Treasury net − reported net, for a match")


class StatusTotals(Schema):
    count: int
    reported_vnd: int = Field(description="Net amount the owners reported")
    confirmed_vnd: int = Field(description="Net amount the Treasury recorded")
    difference_vnd: int


class ReconciliationSummary(Schema):
    plan_year: int
    project_id: int | None
    disbursed_vnd: int = Field(description="Net disbursed on the books (giải ngân)")
    confirmed_vnd: int = Field(description="Of which the Treasury's record (đã được Kho bạc xác nhận)")
    unconfirmed_vnd: int = Field(description="Of which owners' reports the Treasury has not confirmed (ước)")
    by_status: dict[MatchStatus, StatusTotals]


def _item(item: reconciliation.Item) -> ReconciliationItem:
    def side(s: reconciliation.Side | None) -> SideOut | None:
        return SideOut(id=s.id, document_number=s.document_number, value_date=s.value_date,
                       net_vnd=s.net_vnd) if s else None
    return ReconciliationItem(key=item.key, status=item.status, project_id=item.project_id,
                              project_code=item.project_code, plan_year=item.plan_year, report=side(item.report),
                              treasury=side(item.treasury), difference_vnd=item.difference_vnd)


ProjectFilter = Annotated[IdParam | None, Query(description="One project only")]


@router.get("", operation_id="getReconciliation", summary="Reconciliation totals: how much is confirmed",
            response_model=ReconciliationSummary, responses=problem_responses(400, 401, 403, 422),
            dependencies=[require("treasury.read")])
async def summary(session: SessionDep, plan_year: Annotated[PlanYearParam, Query()],
                  project_id: ProjectFilter = None) -> ReconciliationSummary:
    """R15a: the disbursed figure split into the Treasury's record and owners' unconfirmed reports, and the
    reconciliation items counted by status (unmatched reports, unmatched Treasury entries, differences)."""
    listed = await reconciliation.items(session, plan_year=plan_year, project_id=project_id)
    figures = await confirmed_split(session, plan_year=plan_year, project_ids=[project_id] if project_id else None)
    return ReconciliationSummary(
        plan_year=plan_year, project_id=project_id, **figures,
        by_status={status: StatusTotals(count=t.count, reported_vnd=t.reported_vnd, confirmed_vnd=t.confirmed_vnd,
                                        difference_vnd=t.difference_vnd)
                   for status, t in reconciliation.totals(listed).items()})


@router.get("/items", operation_id="listReconciliationItems",
            summary="Owner reports without a Treasury match, Treasury entries without a report, differences",
            response_model=Page[ReconciliationItem], responses=problem_responses(400, 401, 403, 422),
            dependencies=[require("treasury.read")])
async def list_items(session: SessionDep, plan_year: Annotated[PlanYearParam, Query()],
                     project_id: ProjectFilter = None,
                     status: Annotated[list[MatchStatus] | None, Query(description="Default: every status but "
                                                                       "`matched`")] = None,
                     page_size: PageSize = 50, page_token: Annotated[str | None, Query()] = None,
                     ) -> Page[ReconciliationItem]:
    """R15a: one item per Treasury entry of the year (with the owner's report it superseded, if any) and per owner
    report still standing, in key order."""
    wanted = set(status or [s for s in MatchStatus if s is not MatchStatus.matched])
    filters = {"plan_year": plan_year, "project_id": project_id, "status": sorted(wanted)}
    after = after_id(page_token, filters)
    rows = [i for i in await reconciliation.items(session, plan_year=plan_year, project_id=project_id)
            if i.status in wanted and i.key > after][:page_size + 1]
    page, token = split_page(rows, page_size, filters, key=lambda item: item.key)
    return Page[ReconciliationItem](items=[_item(i) for i in page], next_page_token=token)
