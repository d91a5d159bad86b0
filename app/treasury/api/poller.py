"""The Treasury's poller endpoints: overdue advances (R9–R11) with a strong ETag, and the sweep."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response

from app.enums import CapitalSource
from app.kernel import caches, poll_shortcut
from app.kernel.api.deps import SessionDep, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.clock import today
from app.kernel.conditional import etag_matches
from app.kernel.schemas import IdParam, IsoDate, PageSize, after_id, split_page
from app.treasury import sweep as sweep_service
from app.treasury import view as treasury
from app.treasury.schemas import BucketTotal, OverdueAdvanceOut, OverdueAdvancePage
from app.treasury.view import OverdueFilter, OverdueItem

router = APIRouter(prefix="/api/v1/treasury", tags=["treasury"])

Bucket = Literal["0-30", "31-90", "91-180", "181-365", ">365"]


def _item(item: OverdueItem) -> OverdueAdvanceOut:
    a, c = item.row.advance, item.classification
    return OverdueAdvanceOut(
        advance_id=a.id, disbursement_id=a.disbursement_id, project_id=a.project_id,
        project_code=item.row.project_code, investor_id=item.row.investor_id, contract_id=a.contract_id,
        kind=a.kind, plan_year=a.plan_year, capital_source=a.capital_source, budget_level=a.budget_level,
        budget_holder_id=a.budget_holder_id,
        advanced_on=a.advanced_on, amount_vnd=a.amount_vnd, outstanding_vnd=item.row.outstanding_vnd,
        overdue_vnd=c.overdue_vnd, rule=c.rule_id, rule_set=c.rule_set_code, deadline=c.overdue_date,
        days_overdue=c.days_overdue, bucket=item.bucket, version=a.version)


@router.get("/overdue-advances", operation_id="listOverdueAdvances",
            summary="Overdue advances (tạm ứng quá hạn) with totals per age bucket",
            response_model=OverdueAdvancePage,
            responses={304: {"description": "Not modified: the snapshot's ETag matches If-None-Match"},
                       **problem_responses(400, 401, 403, 422)},
            dependencies=[require("treasury.read")])
async def list_overdue_advances(
    request: Request, session: SessionDep, response: Response,
    investor_id: IdParam | None = None, project_id: IdParam | None = None,
    bucket: Annotated[Bucket | None, Query(description="Overdue age in days")] = None,
    rule: Annotated[Literal["R9", "R10", "R11"] | None, Query(description="Overdue rule")] = None,
    capital_source: CapitalSource | None = None,
    as_of: Annotated[IsoDate | None, Query(
        description="Business date (default today); a past date answers from the rows known on that date")] = None,
    page_size: PageSize = 50, page_token: str | None = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> OverdueAdvancePage | Response:
    """Poll-friendly: the strong `ETag` is computed from advance/contract versions, rule-set overrides,
    the filters and `as_of` without classifying anything, so an unchanged poll answers 304 cheaply.
    Totals cover every page; items are ordered by advance id."""
    day = as_of or today()
    f = OverdueFilter(investor_id, project_id, bucket, rule, capital_source.value if capital_source else None)
    filters = asdict(f)
    after = after_id(page_token, filters)
    # One read of the snapshot version (app.models.snapshot), before any body work: an unchanged poll stops here.
    # Read before the body, a concurrent commit can only make the tag older than the body (an extra 200 next
    # time), never newer (a stale 304).
    # Read from this worker's memory while no commit changed it: then the exact request is remembered, and the
    # next identical poll is answered 304 before routing (app.kernel.poll_shortcut).
    since = caches.snapshot_versions.epoch
    etag = await treasury.snapshot_etag(session, {**filters, "page_size": page_size, "after": after}, day)
    poll_shortcut.remember(request, etag, caches.snapshot_versions, treasury.SNAPSHOT_VERSION, since)
    if etag_matches(if_none_match, etag):  # weak comparison and `*` (RFC 9110), as for every ETag
        return Response(status_code=304, headers={"ETag": etag})
    items = await treasury.overdue_snapshot(session, f, day)
    totals = treasury.bucket_totals(items)
    page = [i for i in items if i.row.advance.id > after][:page_size + 1]
    page, token = split_page(page, page_size, filters, key=lambda item: item.row.advance.id)
    response.headers["ETag"] = etag
    return OverdueAdvancePage(
        as_of=day, totals={k: BucketTotal(**v) for k, v in totals.items()},
        total_overdue_vnd=sum(v["overdue_vnd"] for v in totals.values()),
        items=[_item(i) for i in page], next_page_token=token)


@router.post("/sweep", operation_id="runSweep", summary="Run the overdue sweep now (admin)",
             responses=problem_responses(401, 403, 422), dependencies=[require("sweep.run")])
async def run_sweep(
    request: Request, session: SessionDep,
    as_of: Annotated[IsoDate | None, Query(description="Business date (default today)")] = None,
) -> dict:
    """Records due-soon / overdue / guarantee transitions once each and opens recovery cases (R16)."""
    result = await sweep_service.sweep(session, as_of or today())
    note_write(request, "sweep.run", "sweep", (as_of or today()).isoformat(), {"recorded": result.recorded})
    return {"as_of": result.as_of.isoformat(), "ran": result.ran, "recorded": result.recorded,
            "cases_opened": result.cases_opened}
