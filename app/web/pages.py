"""The dashboard (bảng theo dõi giải ngân): read-only Vietnamese pages over the API's own services.

Not part of the API document (`include_in_schema=False`): the OpenAPI document stays the API. Every page takes
`as_of` (and `plan_year`) and answers as known then; the same actions as the API guard each page (`read`,
`treasury.read`), with the caller's key from the session cookie (app.web.auth).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.kernel.api.deps import Forbidden, SessionDep, TooManyFailures, Unauthenticated
from app.kernel.clock import today
from app.kernel.errors import BadRequest, NotFound
from app.kernel.security import Principal
from app.monitoring.flags import FlagCode
from app.monitoring.schemas import GroupBy
from app.reporting import reports
from app.web import auth, province, records
from app.web.render import HEADERS, HERE, PREFIX, PageRoute, link, page

router = APIRouter(include_in_schema=False, route_class=PageRoute)
AsOf = Annotated[date | None, Query(description="Ngày số liệu (mặc định: hôm nay)")]
PlanYear = Annotated[int | None, Query(ge=2000, le=2100)]
RANKED = ("investor", "location", "sector", "capital_source", "working_group", "lead_official")


def _dates(as_of: date | None, plan_year: int | None) -> tuple[date, int]:
    day = as_of or today()
    year = plan_year or day.year
    if not year - 1 <= day.year <= year + 1:
        raise BadRequest("invalid_as_of", "Ngày số liệu phải thuộc năm kế hoạch hoặc năm liền kề.")
    return day, year


def _require(principal: Principal, action: str) -> None:
    if not principal.may(action):
        raise Forbidden("forbidden", "Vai trò của mã truy cập này không được xem trang này.")


def _common(principal: Principal, day: date, year: int, active: str) -> dict:
    return {"principal": principal, "as_of": day, "plan_year": year, "active": active, "today": today(),
            "may_treasury": principal.may("treasury.read")}


@router.get("/")
async def home() -> Response:
    return RedirectResponse(link("/overview"), status_code=303, headers=HEADERS)


STATIC = {"dashboard.css": "text/css", "favicon.svg": "image/svg+xml"}  # our own files only: nothing from a CDN


@router.get(f"{PREFIX}/static/{{name}}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("not_found", "Không có tệp này.")
    return Response((HERE / "static" / name).read_bytes(), media_type=STATIC[name],
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get(f"{PREFIX}/sign-in")
async def sign_in_page(next: str | None = None) -> Response:
    return page("sign_in.html", next=next or "", principal=None, error=None)


def _safe_next(target: str | None) -> str:
    """Only back into the dashboard (no open redirect)."""
    return target if target and target.startswith(f"{PREFIX}/") and not target.startswith("//") else link("/overview")


@router.post(f"{PREFIX}/sign-in")
async def sign_in(request: Request, session: SessionDep) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token, target = form.get("key", [""])[0], _safe_next(form.get("next", [None])[0])
    try:
        await auth.sign_in(request, session, token)
    except (Unauthenticated, TooManyFailures) as exc:
        message = ("Quá nhiều lần đăng nhập sai; hãy thử lại sau." if isinstance(exc, TooManyFailures)
                   else "Mã truy cập không đúng, đã bị thu hồi hoặc đã hết hạn.")
        return page("sign_in.html", status=exc.status, next=target, principal=None, error=message)
    response = RedirectResponse(target, status_code=303, headers=HEADERS)
    response.set_cookie(auth.COOKIE, auth.cookie_for(token), max_age=auth.SESSION_SECONDS, path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post(f"{PREFIX}/sign-out")
async def sign_out() -> Response:
    response = RedirectResponse(link("/sign-in"), status_code=303, headers=HEADERS)
    response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get(f"{PREFIX}/overview")
async def overview(principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None,
                   plan_year: PlanYear = None) -> Response:
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    return page("overview.html", **_common(principal, day, year, "overview"),
                **await province.overview(session, year, day))


@router.get(f"{PREFIX}/rankings")
async def rankings(principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None, plan_year: PlanYear = None,
                   group_by: Literal[RANKED] = "investor", sort: Literal["rate", "-rate"] = "rate") -> Response:  # type: ignore[valid-type]
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    data = await province.summary(session, year, day, GroupBy(group_by).value, sort)
    return page("rankings.html", **_common(principal, day, year, "rankings"), data=data, group_by=group_by,
                groups=RANKED, sort=sort)


@router.get(f"{PREFIX}/flags")
async def flags(principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None, plan_year: PlanYear = None,
                flag: FlagCode = FlagCode.slow) -> Response:
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    rows = await province.flagged(session, year, day, flag.value)
    rows.sort(key=lambda r: -(r.plan_vnd - r.forecast_vnd if flag is not FlagCode.able_to_absorb else r.plan_vnd))
    return page("flags.html", **_common(principal, day, year, "flags"), flag=flag.value, rows=rows[:200],
                count=len(rows), codes=[f.value for f in FlagCode])


@router.get(f"{PREFIX}/watch-lists")
async def watch_lists(principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None,
                      plan_year: PlanYear = None) -> Response:
    """The programme's watch-lists as they stood on as_of (R21): Appendix 1 without money, 2 and 3 with it."""
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    return page("watch_lists.html", **_common(principal, day, year, "watch_lists"),
                data=await reports.watch_list(session, year, day))


@router.get(f"{PREFIX}/advances")
async def advances(principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None,
                   plan_year: PlanYear = None) -> Response:
    _require(principal, "treasury.read")
    day, year = _dates(as_of, plan_year)
    return page("advances.html", **_common(principal, day, year, "advances"), **await records.advances(session, day))


@router.get(f"{PREFIX}/proposals")
async def proposals(principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None,
                    plan_year: PlanYear = None) -> Response:
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    return page("proposals.html", **_common(principal, day, year, "proposals"),
                items=await records.proposal_list(session, year))


@router.get(f"{PREFIX}/proposals/{{proposal_id}}")
async def proposal(proposal_id: int, principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None,
                   plan_year: PlanYear = None) -> Response:
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    return page("proposal.html", **_common(principal, day, year, "proposals"),
                **await records.proposal(session, proposal_id))


@router.get(f"{PREFIX}/projects/{{project_id}}")
async def project(project_id: int, principal: auth.WebPrincipal, session: SessionDep, as_of: AsOf = None,
                  plan_year: PlanYear = None) -> Response:
    _require(principal, "read")
    day, year = _dates(as_of, plan_year)
    return page("project.html", **_common(principal, day, year, "projects"),
                **await records.project_history(session, project_id, year, day))
