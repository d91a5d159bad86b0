"""Finishing touches on the generated OpenAPI document, derived from the route table (never a hand list).

* Error responses are documented as what the API really sends: `application/problem+json` with the
  `Problem` schema (FastAPI would put the model under `application/json` and add its own
  `HTTPValidationError` for 422, which this API never returns).
* Every operation guarded by `require(action)` declares the bearer scheme and carries `x-required-action`
  and `x-allowed-roles` (from `app.kernel.security.POLICY`); operations without it (health) declare `security: []`.
* What the server enforces is what the document says: `If-Match` is required where the route answers 428
  without it; response headers are declared (`X-Request-ID` on every answer, `ETag` where the endpoint sets
  one, `Idempotency-Replayed` on money POSTs, `X-Read-After` on writes, `Retry-After` on 429, `WWW-Authenticate`
  on 401).
* `x-error-codes` on each operation: the stable codes it may answer, by status, read from the source
  (`error_codes.py`); `components.x-error-codes` is the whole table. `components.x-event-types` and the
  `EventPayload.<type>` schemas publish the change feed's catalogue (`app.kernel.event_catalogue`).
* Every operation has a description: its docstring, else one written from its route's facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.kernel import event_catalogue
from app.kernel.api import error_codes
from app.kernel.security import POLICY

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
BEARER = "bearerAuth"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {"description": "The request's id (yours if you sent a printable `X-Request-ID` of at most 64 "
                     "characters, else generated); it is in the logs, the audit line and problem bodies",
                     "schema": {"type": "string", "maxLength": 64}},
    "ETag": {"description": "Strong entity tag of the resource (or snapshot); send it back in If-Match "
             "(updates) or If-None-Match (polls)", "schema": {"type": "string"}},
    "Idempotency-Replayed": {"description": "`true` when this is the stored answer to an earlier request "
                             "with the same Idempotency-Key", "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer",
                                                                                      "minimum": 0}},
    "WWW-Authenticate": {"description": "`Bearer` (RFC 6750)", "schema": {"type": "string"}},
    "Cache-Control": {"description": "`no-store`: API answers carry financial data and, on key creation, the "
                      "secret", "schema": {"type": "string"}},
    "X-Read-After": {"description": "Only when the service reads from a replica (DATABASE_READ_URL): the primary's "
                     "WAL position (LSN) after this write committed. Send it back as `X-Read-After` on your next "
                     "reads to see this write (read-your-writes; app.kernel.replica)",
                     "schema": {"type": "string", "pattern": "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"}},
}
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


def _dependency_roots(route: Any) -> list[str]:
    """`module:function` of the endpoint and every dependency the scanner can see."""
    roots: list[str] = []

    def walk(dependant: Dependant) -> None:
        if dependant.call is not None and (name := error_codes.qualified_name(dependant.call)):
            roots.append(name)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return roots


def _uses(route: Any, function_name: str) -> bool:
    def walk(dependant: Dependant) -> bool:
        return getattr(dependant.call, "__name__", "") == function_name or any(
            walk(sub) for sub in dependant.dependencies)

    return walk(route.dependant)


def _operation_codes(route: Any, operation: dict[str, Any], action: str | None) -> dict[str, int]:
    codes = error_codes.reachable_codes(_dependency_roots(route))
    parameters = operation.get("parameters", [])
    if action is not None:
        codes.update(missing_api_key=401, invalid_api_key=401, forbidden=403, too_many_failed_authentications=429)
    if parameters or "requestBody" in operation:
        codes["validation_failed"] = 422
    if "requestBody" in operation:
        codes.update(bad_request=400, payload_too_large=413)
    if _uses(route, "get_idempotency"):
        codes.update(idempotency_key_reused=422, idempotency_in_flight=409)
    codes.pop("advance_below_floor", None)  # R5's floor is a warning in the 201 answer, never a rejection
    return codes


def _declare_codes(operation: dict[str, Any], codes: dict[str, int]) -> None:
    """`x-error-codes` by status; a status the route may answer but did not document is documented."""
    by_status: dict[str, list[str]] = {}
    for code, number in sorted(codes.items()):
        by_status.setdefault(str(number), []).append(code)
    responses = operation["responses"]
    for status in by_status:
        if status not in responses and status.startswith("4"):
            responses[status] = {"description": _PROBLEM_DESCRIPTIONS.get(status, "Request rejected"),
                                 "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}
    operation["x-error-codes"] = dict(sorted(by_status.items()))


_PROBLEM_DESCRIPTIONS = {
    "400": "Malformed request (bad cursor, bad parameter)", "401": "Missing or invalid API key",
    "403": "Role or organisation scope does not allow this", "404": "Not found",
    "409": "Conflict (duplicate natural key, idempotency key in flight, illegal transition)",
    "412": "If-Match does not match the current ETag", "413": "Request body too large",
    "422": "Invalid input or business rule violated", "428": "If-Match header required",
    "429": "Too many failed authentications from this address; retry after `Retry-After` seconds",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _declare_headers(route: Any, operation: dict[str, Any]) -> None:
    sets_etag = '"ETag"' in error_codes.source_of(route.endpoint)
    replays = _uses(route, "get_idempotency")
    writes = _uses(route, "get_session") and bool(route.methods & {"POST", "PUT", "PATCH", "DELETE"})
    if sets_etag and "GET" in route.methods:  # app.kernel.conditional answers a matching If-None-Match
        operation["responses"].setdefault("304", {"description": "Not modified: If-None-Match names the ETag"})
    for status, response in operation["responses"].items():
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _ref("X-Request-ID")
        if sets_etag and (status.startswith("2") or status == "304"):
            headers["ETag"] = _ref("ETag")
        if replays and status.startswith("2"):
            headers["Idempotency-Replayed"] = _ref("Idempotency-Replayed")
        if writes and status.startswith("2"):
            headers["X-Read-After"] = _ref("X-Read-After")
        if status == "429":
            headers["Retry-After"] = _ref("Retry-After")
        if status == "401":
            headers["WWW-Authenticate"] = _ref("WWW-Authenticate")
        if route.path_format.startswith("/api/"):  # SecurityHeadersMiddleware: financial data, secrets
            headers["Cache-Control"] = _ref("Cache-Control")


def _require_if_match(operation: dict[str, Any]) -> None:
    # The route answers 428 without If-Match: the header is required, whatever the Python signature says.
    if "428" not in operation["responses"]:
        return
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": 200}


def _describe(route: Any, operation: dict[str, Any], action: str | None) -> None:
    if operation.get("description"):
        return
    facts = [operation.get("summary", route.name).rstrip(".") + "."]
    if action is not None:
        facts.append(f"Needs the `{action}` action (roles: {', '.join(operation['x-allowed-roles'])}).")
    else:
        facts.append("No API key needed.")
    names = {p.get("name") for p in operation.get("parameters", [])}
    if "page_token" in names:
        facts.append("A page of at most `page_size` items; pass `next_page_token` back as `page_token`.")
    if "If-Match" in names:
        facts.append("Send the ETag of your last read as `If-Match` (428 without it, 412 when stale).")
    if "Idempotency-Key" in names:
        facts.append("Safe to retry with the same `Idempotency-Key`.")
    if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
        facts.append("Every accepted write is audited and emits its change-feed event in the same transaction.")
    operation["description"] = " ".join(facts)


def _binary_media(operation: dict[str, Any]) -> None:
    for response in operation["responses"].values():
        for media, body in response.get("content", {}).items():
            if media == XLSX and not body.get("schema"):  # an .xlsx workbook
                body["schema"] = {"type": "string", "format": "binary"}


def _portable_schemas(node: Any) -> None:
    """`formatMinimum`/`formatMaximum` (not OpenAPI 3.1 keywords) become extensions with the same values;
    every integer says it is an int64 (money reaches 10^15, past int32)."""
    if isinstance(node, dict):
        for key in ("formatMinimum", "formatMaximum"):
            if key in node:
                node[f"x-{key}"] = node.pop(key)
        if node.get("type") == "integer":
            node.setdefault("format", "int64")
        for value in node.values():
            _portable_schemas(value)
    elif isinstance(node, list):
        for value in node:
            _portable_schemas(value)


def _catalogues(document: dict[str, Any], table: dict[str, int]) -> None:
    components = document["components"]
    components["headers"] = HEADERS
    components["x-error-codes"] = {code: {"status": status} for code, status in table.items()}
    schemas = components.setdefault("schemas", {})
    types = {}
    for type_, (entity_type, meaning, _) in event_catalogue.EVENT_TYPES.items():
        schemas[f"EventPayload.{type_}"] = event_catalogue.payload_schema(type_)
        types[type_] = {"entity_type": entity_type, "description": meaning,
                        "payload": {"$ref": f"#/components/schemas/EventPayload.{type_}"}}
    components["x-event-types"] = types
    if "EventOut" in schemas:  # a feed answer's payload is one of the catalogue's (checked by outside clients)
        schemas["EventOut"]["properties"]["payload"] = {
            "anyOf": [entry["payload"] for entry in types.values()],
            "description": "The event's payload; its members depend on `type` (`components.x-event-types`)"}


def finish(app: FastAPI, document: dict[str, Any]) -> None:
    """Post-process FastAPI's document in place (see the module docstring)."""
    components = document.setdefault("components", {})
    document.setdefault("servers", [{"url": "/", "x-internal": False, "description": "The deployment serving "
                                     "this document (local, staging or production alike: URLs are relative)"}])
    document["info"].setdefault("license", {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"})
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
            if action is None:
                operation["security"] = []
            else:
                operation["security"] = [{BEARER: []}]
                operation["x-required-action"] = action
                operation["x-allowed-roles"] = sorted(role.value for role in POLICY[action])
            _declare_codes(operation, _operation_codes(route, operation, action))
            operation["responses"]["500"] = {"description": "Unexpected server error (logged with its request id)",
                                             "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}}
            _fix_error_responses(operation)
            _require_if_match(operation)
            _declare_headers(route, operation)
            _binary_media(operation)
            _describe(route, operation, action)
    _catalogues(document, error_codes.code_table())
    _portable_schemas(document)
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
