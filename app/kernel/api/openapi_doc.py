"""Finishing touches on the generated OpenAPI document, derived from the route table (never a hand list).

* Error responses are documented as what the API really sends: `application/problem+json` with the
  `Problem` schema (FastAPI would put the model under `application/json` and add its own
  `HTTPValidationError` for 422, which this API never returns).
* Every operation guarded by `require(action)` declares the bearer scheme and carries `x-required-action`
  and `x-allowed-roles` (from `app.kernel.security.POLICY`); operations without it (health) declare `security: []`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.kernel.security import POLICY

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
BEARER = "bearerAuth"
_ACTION_BY_NAME = {f"require_{action.replace('.', '_')}": action for action in POLICY}


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every APIRoute of the app, routers included (route contexts: path_format, methods, dependant)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (Starlette's 405 names only the first matching route's)."""
    methods: set[str] = set()
    for route in api_routes(app):
        if route.path_regex.match(path):
            methods |= set(route.methods or ())
    return sorted(methods)


def route_action(route: Any) -> str | None:
    """The action named by the route's `require(action)` dependency (app.kernel.api.deps.require), if any."""

    def walk(dependant: Dependant) -> str | None:
        for sub in dependant.dependencies:
            name = getattr(sub.call, "__name__", "")
            if name in _ACTION_BY_NAME:
                return _ACTION_BY_NAME[name]
            if (found := walk(sub)) is not None:
                return found
        return None

    return walk(route.dependant)


def _fix_error_responses(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("4"):
            continue
        content = response.setdefault("content", {})
        if (
            PROBLEM_JSON not in content
            and content.get("application/json", {}).get("schema", {}).get("$ref")
            != "#/components/schemas/HTTPValidationError"
        ):
            continue
        content.pop("application/json", None)
        content[PROBLEM_JSON] = {"schema": {"$ref": PROBLEM_REF}}
        if status == "422" and response.get("description") == "Validation Error":
            response["description"] = "Invalid input or business rule violated"


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    text = repr(document["paths"]) + repr(
        {
            k: v
            for k, v in document["components"]["schemas"].items()
            if k not in ("HTTPValidationError", "ValidationError")
        }
    )
    for name in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{name}'" not in text:
            document["components"]["schemas"].pop(name, None)


def finish(app: FastAPI, document: dict[str, Any]) -> None:
    """Post-process FastAPI's document in place (see the module docstring)."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key issued by an administrator (`python -m app create-key`), tied to an "
        "organisation and a role; 401 without a valid key, 403 outside role or scope.",
    }
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        action = route_action(route)
        for method in route.methods:
            operation = document["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if "requestBody" in operation and "400" not in operation["responses"]:
                operation["responses"]["400"] = {
                    "description": "Malformed request body (not JSON or not UTF-8)",
                    "content": {PROBLEM_JSON: {}},
                }
            _fix_error_responses(operation)
            if action is None:
                operation["security"] = []
            else:
                operation["security"] = [{BEARER: []}]
                operation["x-required-action"] = action
                operation["x-allowed-roles"] = sorted(role.value for role in POLICY[action])
    if "schemas" in components:
        _drop_unused_schemas(document)


def install(app: FastAPI) -> None:
    """Wrap `app.openapi` (FastAPI still builds and caches the document; routes may be added later)."""
    generate = app.openapi
    finished: set[int] = set()

    def openapi() -> dict[str, Any]:
        document = generate()
        if id(document) not in finished:
            finish(app, document)
            finished.clear()
            finished.add(id(document))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
