"""Rule sets (bộ quy tắc) and the administrator's calendar days: readable, overridable, audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from app.kernel.api.deps import PrincipalDep, SessionDep, note_write, require
from app.kernel.api.problems import problem_responses
from app.kernel.errors import PreconditionRequired
from app.kernel.schemas import IsoDate, PlanYearParam
from app.rulesets import service as rule_sets
from app.rulesets.model import DEFAULT_RULE_SETS
from app.treasury.schemas import CalendarDayIn, CalendarDayOut, RuleSetOut, RuleSetPatch

router = APIRouter(prefix="/api/v1", tags=["rule-sets"])
READ_ERRORS = problem_responses(401, 403, 404, 422)
# A rule set is named by a short code (nd99, nd254): the path is bounded like every input.
RuleSetCode = Annotated[str, Path(min_length=1, max_length=32)]


def _out(effective, overrides: dict, version: int) -> RuleSetOut:
    data = effective.to_dict()
    return RuleSetOut(code=effective.code, effective_from=effective.effective_from,
                      effective_to=effective.effective_to, version=version, values=data, overrides=overrides)


@router.get("/rule-sets", operation_id="listRuleSets", summary="Rule sets in force (nd99, nd254)",
            response_model=list[RuleSetOut], responses=READ_ERRORS, dependencies=[require("ruleset.write")])
async def list_rule_sets(session: SessionDep) -> list[RuleSetOut]:
    """Administrators only: thresholds of R4–R15 per rule set, chosen by the date of the event."""
    return [_out(*await rule_sets.read(session, rs.code)) for rs in DEFAULT_RULE_SETS]


@router.get("/rule-sets/{code}", operation_id="getRuleSet", summary="One rule set with its overrides",
            response_model=RuleSetOut, responses=READ_ERRORS, dependencies=[require("ruleset.write")])
async def get_rule_set(code: RuleSetCode, session: SessionDep, response: Response) -> RuleSetOut:
    out = _out(*await rule_sets.read(session, code))
    response.headers["ETag"] = rule_sets.etag(code, out.version)
    return out


@router.patch("/rule-sets/{code}", operation_id="updateRuleSet", summary="Override rule-set values (If-Match)",
              response_model=RuleSetOut, responses=problem_responses(401, 403, 404, 412, 422, 428),
              dependencies=[require("ruleset.write")])
async def update_rule_set(
    code: RuleSetCode, body: RuleSetPatch, request: Request, session: SessionDep, response: Response,
    principal: PrincipalDep,
    if_match: Annotated[str | None, Header(alias="If-Match", description="The ETag from your last read")] = None,
) -> RuleSetOut:
    if if_match is None:
        raise PreconditionRequired("if_match_required", "Send If-Match with the rule set's ETag.")
    effective, overrides, version = await rule_sets.update(session, code, if_match, body.overrides, principal.key_id)
    note_write(request, "rule_set.update", "rule_set", code, {"overrides": body.overrides})
    response.headers["ETag"] = rule_sets.etag(code, version)
    return _out(effective, overrides, version)


@router.get("/calendar-days", operation_id="listCalendarDays",
            summary="Government-decided days off and working days added by administrators",
            response_model=list[CalendarDayOut], responses=READ_ERRORS, dependencies=[require("read")])
async def list_days(session: SessionDep,
                    year: Annotated[PlanYearParam | None, Query()] = None) -> list[CalendarDayOut]:
    return [CalendarDayOut.model_validate(row) for row in await rule_sets.list_days(session, year)]


@router.put("/calendar-days/{day}", operation_id="putCalendarDay", summary="Add or change a calendar day",
            response_model=CalendarDayOut, responses=problem_responses(401, 403, 422),
            dependencies=[require("ruleset.write")])
async def put_day(day: IsoDate, body: CalendarDayIn, request: Request, session: SessionDep) -> CalendarDayOut:
    row = await rule_sets.put_day(session, day, body.kind, body.description)
    note_write(request, "calendar_day.put", "calendar_day", day.isoformat(), body.model_dump(mode="json"))
    return CalendarDayOut.model_validate(row)


@router.delete("/calendar-days/{day}", operation_id="deleteCalendarDay", summary="Remove a calendar day",
               status_code=204, responses=problem_responses(401, 403, 404, 422),
               dependencies=[require("ruleset.write")])
async def delete_day(day: IsoDate, request: Request, session: SessionDep) -> Response:
    await rule_sets.delete_day(session, day)
    note_write(request, "calendar_day.delete", "calendar_day", day.isoformat())
    request.state.status_code = 204
    return Response(status_code=204)
