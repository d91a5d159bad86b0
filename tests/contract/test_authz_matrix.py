"""Authorisation matrix generated from the route table: every operation × every role, another owner, no key.

Expected allow/deny comes from the route's `require(action)` dependency and `app.kernel.security.POLICY`; nothing
here lists endpoints by hand, so a new endpoint is covered (or, without require(), fails) automatically.
Fake ids and empty bodies are fine: an allowed caller may get 404/422, never 401/403; a denied caller gets
403 problem+json that carries no data.
"""

from __future__ import annotations

import datetime as dt

import pytest

from app.enums import Role
from app.kernel.api.openapi_doc import api_routes, route_action
from app.kernel.security import OWNER_SCOPED, POLICY
from app.main import create_app

PROBLEM = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code", "instance", "request_id", "errors"}
PUBLIC_TAGS = {"health"}  # liveness, readiness and metrics answer without a key
CALLERS = [*(role.value for role in Role), "other_owner"]
FAKE_ID = "987654321"


def _operations() -> list[tuple[str, str, object]]:
    found = []
    for route in api_routes(create_app(background_jobs=False)):
        if not route.original_route.include_in_schema:
            continue  # the dashboard's pages (app/web) are not API operations: tests/web, tests/browser
        for method in sorted(route.methods or ()):
            found.append((method, route.path_format, route))
    return found


OPERATIONS = _operations()
GUARDED = [(m, p, r) for m, p, r in OPERATIONS if not PUBLIC_TAGS & set(r.tags or ())]


def _url(route) -> str:
    values = {}
    for param in route.dependant.path_params:
        annotation = param.field_info.annotation
        values[param.alias or param.name] = (
            "2024-10-11" if annotation is dt.date else FAKE_ID if annotation is int else "zz-unknown"
        )
    return route.path_format.format(**values)


def test_every_non_public_operation_requires_an_action_from_the_policy():
    assert len(GUARDED) >= 10
    missing = [f"{m} {p}" for m, p, r in GUARDED if route_action(r) is None]
    assert not missing, f"operations without dependencies=[require(...)]: {missing}"
    for method, path, route in OPERATIONS:
        if (method, path, route) not in GUARDED:
            assert route_action(route) is None or path.startswith(("/healthz", "/readyz", "/metrics"))


def _assert_denied_without_data(response, status: int, codes: set[str]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] in codes
    assert set(body) <= PROBLEM_MEMBERS, f"a denial must carry no data: {sorted(set(body) - PROBLEM_MEMBERS)}"


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED])
async def test_matrix(client, world, method, path, route):
    action = route_action(route)
    assert action is not None, f"{method} {path} has no require(action) dependency"
    url = _url(route)
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}

    anonymous = await client.request(method, url, **kwargs)
    _assert_denied_without_data(anonymous, 401, {"missing_api_key"})
    assert anonymous.headers["www-authenticate"] == "Bearer"
    bad_key = await client.request(
        method, url, headers={"Authorization": "Bearer dm_000000000000_nope"}, **kwargs
    )
    _assert_denied_without_data(bad_key, 401, {"invalid_api_key"})

    for caller in CALLERS:
        role = Role.owner if caller == "other_owner" else Role(caller)
        try:
            response = await client.request(
                method, url, headers=world.h(caller, **{"If-Match": '"x"'}), **kwargs
            )
        except (
            Exception
        ):  # an unhandled error inside the endpoint: authorisation had passed (Schemathesis' job)
            assert role in POLICY[action], f"{caller} reached the endpoint although the policy denies it"
            continue
        if role in POLICY[action]:
            # Allowed by role. Another organisation's owner may still be refused by scope on owner-scoped
            # actions once the fake ids resolve; with unknown ids it must not be a 401.
            allowed = {403} if caller == "other_owner" and action in OWNER_SCOPED else set()
            assert response.status_code not in {401, 403} - allowed, (
                caller,
                response.status_code,
                response.text,
            )
        else:
            _assert_denied_without_data(response, 403, {"forbidden"})


def test_matrix_covers_the_programme_endpoints():
    """R21: watch-lists, people, working-group members, leads, progress and milestones are in the matrix above, with
    the actions that let planners keep the programme and owners report their own projects' progress."""
    actions = {(m, p): route_action(r) for m, p, r in GUARDED}
    expected = {
        ("POST", "/api/v1/watch-lists"): "watchlist.write",
        ("POST", "/api/v1/watch-lists/{watch_list_id}/changes"): "watchlist.write",
        ("GET", "/api/v1/watch-lists/{watch_list_id}/members"): "read",
        ("POST", "/api/v1/people"): "people.write",
        ("POST", "/api/v1/working-groups/{working_group_id}/members"): "people.write",
        ("POST", "/api/v1/projects/{project_id}/leads"): "project.write",
        ("POST", "/api/v1/projects/{project_id}/progress"): "progress.write",
        ("POST", "/api/v1/projects/{project_id}/milestones"): "progress.write",
        ("GET", "/api/v1/projects/{project_id}/progress"): "read",
    }
    assert {k: actions.get(k) for k in expected} == expected
    assert POLICY["watchlist.write"] == POLICY["people.write"] == {Role.admin, Role.planner}
    assert "progress.write" in OWNER_SCOPED and Role.owner in POLICY["progress.write"]
