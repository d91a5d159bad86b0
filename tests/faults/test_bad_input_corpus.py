"""Issue #10: no input produces a 500. A corpus of bad input across the API (SQLite and PostgreSQL).

Every case answers 4xx problem+json with a stable `code` (and, for text, the pointer of the field), and
nothing changes: a digest of every table's rows is the same before and after. Rejected writes leave an
audit line by design, and reads may refresh the derived indicator store, so those tables are left out.
The classes outside clients found answering 500 on PostgreSQL are all here: ids ≥ 2^63 in paths, queries,
bodies and batch rows, plan_year ≥ 2^31, the feed's `after` ≥ 2^63, NUL in any text, forged page tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from sqlalchemy import func, select

from app.kernel.db import session_scope
from app.models import AuditEntry, Base
from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"
BIG = 2**63  # one past BIGINT
HUGE = 2**64
MAX = 2**63 - 1  # the largest id: valid, and absent
NOT_DIGESTED = {"audit_log", "indicator_snapshots", "indicator_snapshot_pools", "indicator_flag_details",
                "indicator_refresh_state"}
NUL = "doc\u0000ument"
JSON = {"Content-Type": "application/json"}

Case = tuple[str, str, str, dict[str, Any], set[int], str | None]  # name, method, url, kwargs, statuses, pointer


async def _digest() -> str:
    """Every row of every table (but the audit log and the derived indicators), in key order."""
    h = hashlib.sha256()
    async with session_scope() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_DIGESTED:
                continue
            rows = (await session.execute(select(table).order_by(*table.primary_key.columns))).all()
            h.update(f"{table.name}:{[tuple(r) for r in rows]!r}".encode())
    return h.hexdigest()


async def _audit_lines() -> int:
    async with session_scope() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _forge(token: str, position: Any) -> str:
    """A token this API issued, with its position replaced (the fingerprint stays valid)."""
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw = json.dumps({**data, "a": position}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# (method, path with {} for the id, a body for writes): every operation with an id in its path.
ID_ROUTES: list[tuple[str, str, dict | None]] = [
    ("GET", "/api/v1/organisations/{}", None),
    ("POST", "/api/v1/organisations/{}/succession", {"successor_id": 1, "effective_on": "2024-07-01"}),
    ("POST", "/api/v1/api-keys/{}/revoke", None),
    ("GET", "/api/v1/projects/{}", None),
    ("PATCH", "/api/v1/projects/{}", {"name": "x"}),
    ("POST", "/api/v1/projects/{}/allocations", {}),
    ("GET", "/api/v1/projects/{}/allocations", None),
    ("GET", "/api/v1/projects/{}/balances", None),
    ("POST", "/api/v1/projects/{}/disbursements", {}),
    ("GET", "/api/v1/projects/{}/disbursements", None),
    ("POST", "/api/v1/disbursements/{}/reversal", {"document_number": "R", "value_date": "2024-10-01", "note": "x"}),
    ("POST", "/api/v1/projects/{}/schedules", {}),
    ("GET", "/api/v1/projects/{}/schedules", None),
    ("POST", "/api/v1/projects/{}/extra-needs", {}),
    ("GET", "/api/v1/projects/{}/indicators", None),
    ("GET", "/api/v1/reallocation-proposals/{}", None),
    ("POST", "/api/v1/reallocation-proposals/{}/submit", None),
    ("POST", "/api/v1/reallocation-proposals/{}/approve", {}),
    ("POST", "/api/v1/reallocation-proposals/{}/reject", {"reason": "x"}),
    ("POST", "/api/v1/reallocation-proposals/{}/apply", None),
    ("POST", "/api/v1/projects/{}/obstacles", {"category": "site_clearance", "title": "x"}),
    ("GET", "/api/v1/obstacles/{}", None),
    ("PATCH", "/api/v1/obstacles/{}", {"title": "x"}),
    ("POST", "/api/v1/projects/{}/contracts", {}),
    ("GET", "/api/v1/projects/{}/contracts", None),
    ("GET", "/api/v1/contracts/{}", None),
    ("PATCH", "/api/v1/contracts/{}", {"contractor": "x"}),
    ("GET", "/api/v1/advances/{}", None),
    ("POST", "/api/v1/advances/{}/misuse", {"marked_on": "2024-10-01", "document_number": "M"}),
    ("PUT", "/api/v1/advances/{}/held-for-disputes", {"amount_vnd": 1, "document_number": "H"}),
    ("GET", "/api/v1/recovery-cases/{}", None),
    ("POST", "/api/v1/recovery-cases/{}/steps", {"kind": "reminder"}),
    ("POST", "/api/v1/projects/{}/dossiers", {}),
    ("GET", "/api/v1/dossiers/{}", None),
    ("POST", "/api/v1/dossiers/{}/complete", {}),
    ("POST", "/api/v1/dossiers/{}/pay", {}),
    ("POST", "/api/v1/dossiers/{}/return", {}),
    ("POST", "/api/v1/dossiers/{}/delay-reason", {"reason": "x"}),
]

# (path, query parameter) for every integer id in a query.
ID_QUERIES = [
    ("/api/v1/projects", "investor_id"), ("/api/v1/projects", "working_group_id"),
    ("/api/v1/extra-needs", "project_id"), ("/api/v1/indicators", "investor_id"),
    ("/api/v1/indicators", "working_group_id"), ("/api/v1/obstacles", "project_id"),
    ("/api/v1/obstacles", "working_group_id"), ("/api/v1/treasury/overdue-advances", "investor_id"),
    ("/api/v1/treasury/overdue-advances", "project_id"), ("/api/v1/recovery-cases", "project_id"),
    ("/api/v1/dossiers", "project_id"), ("/api/v1/audit-log", "api_key_id"),
]
YEAR_QUERIES = ["/api/v1/extra-needs", "/api/v1/indicators", "/api/v1/summaries", "/api/v1/reallocation-proposals",
                "/api/v1/calendar-days", "/api/v1/reports/monthly"]


def _id_cases() -> list[Case]:
    cases: list[Case] = []
    for method, path, body in ID_ROUTES:
        kwargs = {} if body is None else {"json": body}
        cases.append((f"{method} {path} id 2^63", method, path.format(BIG), kwargs, {422}, "path:"))
        cases.append((f"{method} {path} id 2^63-1", method, path.format(MAX), dict(kwargs), {404, 422, 428}, None))
    for n, bad in enumerate((HUGE, 10**30, 0, -1, "1e3", "0x10", "1_0", "١٢", "99999999999999999999999")):
        method, path, body = ID_ROUTES[n * 4 % len(ID_ROUTES)]
        kwargs = {} if body is None else {"json": body}
        cases.append((f"{method} {path} id {bad!r}", method, path.format(bad), kwargs, {404, 422}, None))
    for path, name in ID_QUERIES:
        cases.append((f"{path}?{name}=2^63", "GET", path, {"params": {name: BIG}}, {422}, f"query:{name}"))
    cases.append(("query id zero", "GET", "/api/v1/projects", {"params": {"investor_id": 0}}, {422}, None))
    cases.append(("query id text", "GET", "/api/v1/dossiers", {"params": {"project_id": "abc"}}, {422}, None))
    for path in YEAR_QUERIES:
        name = "year" if "calendar" in path else "plan_year"
        cases.append((f"{path}?{name}=2^31", "GET", path, {"params": {name: 2**31}}, {422}, f"query:{name}"))
    cases += [
        ("plan_year 2^63 on disbursements", "GET", "/api/v1/projects/1/disbursements",
         {"params": {"plan_year": BIG}}, {422}, None),
        ("plan_year 1999 on balances", "GET", "/api/v1/projects/1/balances", {"params": {"plan_year": 1999}}, {422},
         None),
        ("plan_year 2101 on allocations", "GET", "/api/v1/projects/1/allocations", {"params": {"plan_year": 2101}},
         {422}, None),
        ("plan_year -1 on schedules", "GET", "/api/v1/projects/1/schedules", {"params": {"plan_year": -1}}, {422},
         None),
        ("milestone curve year 2^31", "GET", f"/api/v1/milestone-curves/{2**31}", {}, {422}, None),
        ("advance report year 2^63", "GET", "/api/v1/reports/advances", {"params": {"year": BIG, "quarter": 1}},
         {422}, None),
        ("advance report quarter 5", "GET", "/api/v1/reports/advances", {"params": {"year": 2024, "quarter": 5}},
         {422}, None),
        ("feed after 2^63", "GET", "/api/v1/events", {"params": {"after": BIG}}, {422}, "query:after"),
        ("feed after 2^64", "GET", "/api/v1/events", {"params": {"after": HUGE}}, {422}, "query:after"),
        ("feed after 2^63-1 (beyond the head)", "GET", "/api/v1/events", {"params": {"after": MAX}}, {400}, None),
        ("feed page_size 10^30", "GET", "/api/v1/events", {"params": {"page_size": 10**30}}, {422}, None),
        ("page_size 2^63", "GET", "/api/v1/projects", {"params": {"page_size": BIG}}, {422}, None),
        ("page_size text", "GET", "/api/v1/obstacles", {"params": {"page_size": "ten"}}, {422}, None),
    ]
    return cases


def _body_int_cases(pid: int) -> list[Case]:
    disb = f"/api/v1/projects/{pid}/disbursements"
    ok = disbursement_body(1_000_000, "KB-INT")
    project = {"code": "X-9", "name": "n", "investor_id": 1, "sector": "transport", "location": "x", "group": "B",
               "stage": "ongoing", "total_investment_vnd": 1, "start_year": 2023, "end_year": 2026}
    row = {**ok, "project_id": pid}
    cases: list[Case] = [
        ("body contract_id 2^63", "POST", disb, {"json": {**ok, "contract_id": BIG}}, {422}, "/contract_id"),
        ("body contract_id as text", "POST", disb, {"json": {**ok, "contract_id": "5"}}, {422}, "/contract_id"),
        ("body contract_id true", "POST", disb, {"json": {**ok, "contract_id": True}}, {422}, "/contract_id"),
        ("body contract_id 1.5", "POST", disb, {"json": {**ok, "contract_id": 1.5}}, {422}, "/contract_id"),
        ("body plan_year 2^31", "POST", disb, {"json": {**ok, "plan_year": 2**31}}, {422}, "/plan_year"),
        ("body plan_year 2^63", "POST", disb, {"json": {**ok, "plan_year": BIG}}, {422}, "/plan_year"),
        ("body amount 2^63", "POST", disb, {"json": {**ok, "amount_vnd": BIG}}, {422}, "/amount_vnd"),
        ("body investor_id 2^63", "POST", "/api/v1/projects", {"json": {**project, "investor_id": BIG}}, {422},
         "/investor_id"),
        ("body working_group_id 2^64", "POST", "/api/v1/projects", {"json": {**project, "working_group_id": HUGE}},
         {422}, "/working_group_id"),
        ("body start_year 2^31", "POST", "/api/v1/projects", {"json": {**project, "start_year": 2**31}}, {422},
         "/start_year"),
        ("body parent_id 2^63", "POST", "/api/v1/organisations",
         {"json": {"code": "O", "name": "o", "kind": "investor", "parent_id": BIG, "valid_from": "2024-01-01"}},
         {422}, "/parent_id"),
        ("body organisation_id 2^63", "POST", "/api/v1/api-keys",
         {"json": {"organisation_id": BIG, "role": "viewer", "name": "k", "holder": "h"}}, {422}, "/organisation_id"),
        ("body successor_id 2^63", "POST", "/api/v1/organisations/1/succession",
         {"json": {"successor_id": BIG, "effective_on": "2024-07-01"}}, {422}, "/successor_id"),
        ("body obstacle working group 2^63", "POST", f"/api/v1/projects/{pid}/obstacles",
         {"json": {"category": "site_clearance", "title": "t", "working_group_id": BIG}}, {422}, "/working_group_id"),
        ("body dossier contract 2^63", "POST", f"/api/v1/projects/{pid}/dossiers",
         {"json": {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province",
                   "kind": "payment", "amount_vnd": 1, "document_number": "D", "contract_id": BIG}}, {422},
         "/contract_id"),
        ("body allocation tranche 2^63", "POST", f"/api/v1/projects/{pid}/allocations",
         {"json": {"plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province",
                   "kind": "initial", "amount_vnd": 1, "decision_number": "Q", "decision_date": "2024-01-05",
                   "authority": "UBND", "tranche": BIG}}, {422}, "/tranche"),
        ("batch row project_id 2^63", "POST", "/api/v1/disbursements/batch",
         {"json": {"rows": [row, {**row, "project_id": BIG, "document_number": "B2"}]}}, {422}, "/rows/1/project_id"),
        ("batch row contract_id 2^64", "POST", "/api/v1/disbursements/batch",
         {"json": {"rows": [{**row, "contract_id": HUGE}]}}, {422}, "/rows/0/contract_id"),
        ("batch row project_id as text", "POST", "/api/v1/disbursements/batch",
         {"json": {"rows": [{**row, "project_id": str(pid)}]}}, {422}, "/rows/0/project_id"),
        ("batch row plan_year 2^31", "POST", "/api/v1/disbursements/batch",
         {"json": {"rows": [row, row, {**row, "plan_year": 2**31}]}}, {422}, "/rows/2/plan_year"),
        ("batch rows not a list", "POST", "/api/v1/disbursements/batch", {"json": {"rows": row}}, {422}, None),
    ]
    return cases


def _text_cases(pid: int) -> list[Case]:
    """NUL and the other refused characters, in bodies (any field, nested too), queries and paths."""
    disb = f"/api/v1/projects/{pid}/disbursements"
    ok = disbursement_body(1_000_000, "KB-NUL")
    posts: list[tuple[str, str, dict, str]] = [
        ("POST", disb, {**ok, "document_number": NUL}, "/document_number"),
        ("POST", disb, {**ok, "note": "a\u0000"}, "/note"),
        ("POST", disb, {**ok, "owner_document_number": "\u0000"}, "/owner_document_number"),
        ("POST", "/api/v1/disbursements/batch",
         {"rows": [{**ok, "project_id": pid}, {**ok, "project_id": pid, "note": NUL}]}, "/rows/1/note"),
        ("POST", "/api/v1/projects", {"code": "X-1", "name": NUL, "investor_id": 1}, "/name"),
        ("POST", "/api/v1/projects", {"code": "X-1", "name": "n", "location": "Tam\u0000Đảo"}, "/location"),
        ("PATCH", f"/api/v1/projects/{pid}", {"decision_ref": NUL}, "/decision_ref"),
        ("POST", "/api/v1/organisations", {"code": "O", "name": NUL}, "/name"),
        ("POST", "/api/v1/api-keys", {"organisation_id": 1, "role": "viewer", "name": "k", "holder": NUL}, "/holder"),
        ("POST", f"/api/v1/projects/{pid}/allocations", {"decision_number": NUL}, "/decision_number"),
        ("POST", "/api/v1/disbursements/1/reversal", {"document_number": "R", "note": NUL}, "/note"),
        ("POST", f"/api/v1/projects/{pid}/schedules", {"plan_year": 2024, "note": NUL}, "/note"),
        ("POST", f"/api/v1/projects/{pid}/extra-needs", {"justification": NUL}, "/justification"),
        ("POST", "/api/v1/reallocation-proposals", {"plan_year": 2024, "title": NUL}, "/title"),
        ("POST", "/api/v1/reallocation-proposals/1/reject", {"reason": NUL}, "/reason"),
        ("POST", f"/api/v1/projects/{pid}/obstacles", {"category": "other", "title": NUL}, "/title"),
        ("PATCH", "/api/v1/obstacles/1", {"recommendation": NUL}, "/recommendation"),
        ("POST", f"/api/v1/projects/{pid}/contracts", {"contractor": NUL}, "/contractor"),
        ("PATCH", "/api/v1/contracts/1", {"approving_decision": NUL}, "/approving_decision"),
        ("POST", "/api/v1/advances/1/misuse", {"marked_on": "2024-10-01", "document_number": NUL},
         "/document_number"),
        ("POST", "/api/v1/recovery-cases/1/steps", {"kind": "reminder", "note": NUL}, "/note"),
        ("PATCH", "/api/v1/rule-sets/nd99", {"overrides": {"advance": {"note": NUL}}}, "/overrides/advance/note"),
        ("PATCH", "/api/v1/rule-sets/nd99", {"overrides": {"ke\u0000y": 1}}, "/overrides/ke\u0000y"),
        ("PUT", "/api/v1/calendar-days/2024-09-02", {"kind": "holiday", "description": NUL}, "/description"),
        ("POST", f"/api/v1/projects/{pid}/dossiers", {"document_number": NUL}, "/document_number"),
        ("POST", "/api/v1/dossiers/1/delay-reason", {"reason": NUL}, "/reason"),
        ("POST", "/api/v1/dossiers/1/pay", {"voucher_number": NUL}, "/voucher_number"),
        ("POST", disb, {**ok, "note": "bell\u0007"}, "/note"),
        ("POST", disb, {**ok, "note": "escape\u001b[31m"}, "/note"),
        ("POST", disb, {**ok, "note": "form\u000cfeed"}, "/note"),
        ("POST", disb, {**ok, "note": "back\u0008space"}, "/note"),
        ("POST", disb, {**ok, "document_number": "unit\u001fsep"}, "/document_number"),
    ]
    cases: list[Case] = [(f"{m} {u} {p} control character #{i}", m, u, {"json": b}, {422}, p)
                         for i, (m, u, b, p) in enumerate(posts)]
    # A lone surrogate cannot be encoded as UTF-8 for either database: written by hand, as json.dumps would
    # escape it the same way.
    surrogate = json.dumps({**ok, "note": "x"}).replace('"x"', '"\\ud800"').encode()
    cases.append(("lone surrogate in a body", "POST", disb, {"content": surrogate, "headers": JSON}, {422}, "/note"))
    low = json.dumps({**ok, "document_number": "x"}).replace('"x"', '"\\uDC00a"').encode()
    cases.append(("lone low surrogate in a body", "POST", disb, {"content": low, "headers": JSON}, {422},
                  "/document_number"))
    queries = [
        ("/api/v1/projects", "sector"), ("/api/v1/projects", "location"), ("/api/v1/projects", "q"),
        ("/api/v1/indicators", "sector"), ("/api/v1/audit-log", "entity_id"), ("/api/v1/audit-log", "request_id"),
        ("/api/v1/events", "types"), ("/api/v1/reallocation-proposals", "status"), ("/api/v1/summaries", "sort"),
    ]
    cases += [(f"NUL in query {u}?{n}", "GET", u, {"params": {n: NUL}}, {422}, f"query:{n}") for u, n in queries]
    cases += [
        ("control character in a query", "GET", "/api/v1/projects", {"params": {"q": "a\u0001"}}, {422}, "query:q"),
        ("NUL in a rule-set path", "GET", "/api/v1/rule-sets/nd99%00", {}, {422}, "path:code"),
        ("NUL in a calendar path", "DELETE", "/api/v1/calendar-days/2024-01-01%00", {}, {422}, "path:day"),
        ("NUL in a path id", "GET", "/api/v1/projects/1%00", {}, {422}, "path:project_id"),
    ]
    return cases


def _token_cases(token: str) -> list[Case]:
    forged: list[tuple[str, Any]] = [
        ("text position", "abc"), ("numeric text position", "12"), ("float position", 1.5), ("true position", True),
        ("null position", None), ("negative position", -1), ("position 2^63", BIG), ("position 10^400", 10**400),
        ("list position", [1]), ("object position", {"a": 1}),
    ]
    cases: list[Case] = [(f"forged token: {name}", "GET", "/api/v1/projects",
                          {"params": {"page_size": 1, "page_token": _forge(token, value)}}, {400}, None)
                         for name, value in forged]
    for name, raw in [("JSON list", b"[1, 2]"), ("JSON string", b'"a"'), ("JSON number", b"7"),
                      ("no fingerprint", b'{"a": 1}'), ("fingerprint a number", b'{"a": 1, "f": 5}'),
                      ("not JSON", b"\xff\xfe\x00"), ("deep nesting", b"[" * 120)]:
        cases.append((f"token {name}", "GET", "/api/v1/obstacles",
                      {"params": {"page_token": _b64(raw)}}, {400}, None))
    cases += [
        ("token too long", "GET", "/api/v1/projects", {"params": {"page_token": "A" * 5000}}, {400}, None),
        ("token not base64", "GET", "/api/v1/dossiers", {"params": {"page_token": "!!!"}}, {400}, None),
        ("token empty", "GET", "/api/v1/recovery-cases", {"params": {"page_token": ""}}, {400}, None),
        ("token non-ASCII", "GET", "/api/v1/audit-log", {"params": {"page_token": "Đảo"}}, {400}, None),
    ]
    return cases


def _date_cases(pid: int) -> list[Case]:
    disb = f"/api/v1/projects/{pid}/disbursements"
    ok = disbursement_body(1_000_000, "KB-DATE")
    bad_dates: list[Any] = [0, 1_700_000_000, "0", "1700000000", "2024-02-30", "1999-12-31", "2101-01-01",
                            "2024/06/10", "2024-06-10T00:00:00Z", "10-06-2024", True, 20240610, "２０２４-06-10"]
    cases: list[Case] = [(f"value_date {d!r}", "POST", disb, {"json": {**ok, "value_date": d}}, {422}, "/value_date")
                         for d in bad_dates]
    cases += [
        ("obstacle deadline as a unix time", "POST", f"/api/v1/projects/{pid}/obstacles",
         {"json": {"category": "other", "title": "t", "deadline": 1_700_000_000}}, {422}, "/deadline"),
        ("obstacle deadline 0", "PATCH", "/api/v1/obstacles/1", {"json": {"deadline": 0}}, {422}, "/deadline"),
        ("organisation valid_from 0", "POST", "/api/v1/organisations",
         {"json": {"code": "O", "name": "o", "kind": "investor", "valid_from": 0}}, {422}, "/valid_from"),
        ("calendar day as a unix time", "PUT", "/api/v1/calendar-days/1700000000",
         {"json": {"kind": "holiday", "description": "x"}}, {422}, "path:day"),
        ("calendar day 9999-12-31", "DELETE", "/api/v1/calendar-days/9999-12-31", {}, {422}, "path:day"),
        ("as_of 0", "GET", f"/api/v1/projects/{pid}/balances", {"params": {"as_of": "0"}}, {422}, "query:as_of"),
        ("as_of 9999-12-31", "GET", "/api/v1/summaries", {"params": {"as_of": "9999-12-31"}}, {422}, None),
        ("as_of 0001-01-01", "GET", "/api/v1/treasury/overdue-advances", {"params": {"as_of": "0001-01-01"}}, {422},
         None),
        ("known_on a timestamp", "GET", f"/api/v1/projects/{pid}/balances",
         {"params": {"known_on": "2024-06-10T00:00"}}, {422}, None),
        ("overdue_on a unix time", "GET", "/api/v1/obstacles", {"params": {"overdue_on": "1700000000"}}, {422}, None),
    ]
    return cases


def _shape_cases(pid: int) -> list[Case]:
    """Wrong types, huge strings, odd unicode, bad enums, malformed JSON, wrong content types."""
    disb = f"/api/v1/projects/{pid}/disbursements"
    ok = disbursement_body(1_000_000, "KB-SHAPE")
    return [
        ("amount null", "POST", disb, {"json": {**ok, "amount_vnd": None}}, {422}, "/amount_vnd"),
        ("amount a list", "POST", disb, {"json": {**ok, "amount_vnd": [1]}}, {422}, "/amount_vnd"),
        ("document number an object", "POST", disb, {"json": {**ok, "document_number": {"a": 1}}}, {422},
         "/document_number"),
        ("document number a number", "POST", disb, {"json": {**ok, "document_number": 12}}, {422},
         "/document_number"),
        ("body a string", "POST", disb, {"json": "payment"}, {422}, None),
        ("body null", "POST", disb, {"json": None}, {422}, None),
        ("is_key_project a string", "PATCH", f"/api/v1/projects/{pid}", {"json": {"is_key_project": "yes"}},
         {422, 428}, None),
        ("watch_lists a string", "POST", "/api/v1/projects", {"json": {"watch_lists": "app1"}}, {422}, None),
        ("bool query not a bool", "GET", "/api/v1/dossiers", {"params": {"pending_without_reason": "maybe"}}, {422},
         None),
        ("document number 10,000 characters", "POST", disb, {"json": {**ok, "document_number": "D" * 10_000}},
         {422}, "/document_number"),
        ("note 100,000 characters", "POST", disb, {"json": {**ok, "note": "n" * 100_000}}, {422}, "/note"),
        ("project name 1 MB", "POST", "/api/v1/projects", {"json": {"name": "Đ" * 500_000}}, {422}, None),
        ("search of 101 characters", "GET", "/api/v1/projects", {"params": {"q": "x" * 101}}, {422}, None),
        ("21 event types", "GET", "/api/v1/events", {"params": {"types": ["a"] * 21}}, {422}, None),
        ("empty document number", "POST", disb, {"json": {**ok, "document_number": ""}}, {422}, "/document_number"),
        ("unknown field with unicode name", "POST", disb, {"json": {**ok, "số_tiền": 1}}, {422}, None),
        ("unicode digits in an amount", "POST", disb, {"json": {**ok, "amount_vnd": "١٠٠٠"}}, {422}, "/amount_vnd"),
        ("kind upper case", "POST", disb, {"json": {**ok, "kind": "PAYMENT"}}, {422}, "/kind"),
        ("kind empty", "POST", disb, {"json": {**ok, "kind": ""}}, {422}, "/kind"),
        ("capital source with a zero-width space", "POST", disb,
         {"json": {**ok, "capital_source": "local\u200bbalanced"}}, {422}, "/capital_source"),
        ("budget level null", "POST", disb, {"json": {**ok, "budget_level": None}}, {422}, "/budget_level"),
        ("project status enum", "GET", "/api/v1/projects", {"params": {"status": "nope"}}, {422}, None),
        ("group_by enum", "GET", "/api/v1/summaries", {"params": {"group_by": "planet"}}, {422}, None),
        ("sort field", "GET", "/api/v1/summaries", {"params": {"group_by": "sector", "sort": "-nope"}}, {400},
         "query:sort"),
        ("flag enum", "GET", "/api/v1/indicators", {"params": {"flag": "on_fire"}}, {422}, None),
        ("bucket enum", "GET", "/api/v1/treasury/overdue-advances", {"params": {"bucket": "1-2"}}, {422}, None),
        ("report format", "GET", "/api/v1/reports/monthly", {"params": {"format": "pdf"}}, {422}, None),
        ("role enum", "POST", "/api/v1/api-keys", {"json": {"organisation_id": 1, "role": "root", "name": "k",
                                                             "holder": "h"}}, {422}, "/role"),
        ("unknown rule set", "GET", "/api/v1/rule-sets/nd00", {}, {404}, None),
        ("malformed JSON", "POST", disb, {"content": b'{"plan_year": 2024,', "headers": JSON}, {400, 422}, None),
        ("trailing comma", "POST", disb, {"content": b'{"plan_year": 2024,}', "headers": JSON}, {400, 422}, None),
        ("NaN amount", "POST", disb, {"content": json.dumps({**ok, "amount_vnd": float("nan")}).encode(),
                                      "headers": JSON}, {422}, None),
        ("Infinity amount", "POST", disb, {"content": json.dumps({**ok, "amount_vnd": float("inf")}).encode(),
                                           "headers": JSON}, {422}, None),
        ("1e999 amount", "POST", disb, {"content": json.dumps(ok).replace("1000000", "1e999").encode(),
                                        "headers": JSON}, {422}, None),
        ("deeply nested JSON", "POST", disb, {"content": b"[" * 100_000 + b"]" * 100_000, "headers": JSON},
         {400, 422}, None),
        ("raw NUL byte in JSON", "POST", disb, {"content": b'{"note": "a\x00b"}', "headers": JSON}, {400, 422}, None),
        ("text/plain", "POST", disb, {"content": json.dumps(ok).encode(), "headers": {"Content-Type": "text/plain"}},
         {415, 422}, None),
        ("form encoded", "POST", disb, {"data": {"amount_vnd": "1"}}, {415, 422}, None),
        ("XML", "POST", disb, {"content": b"<a/>", "headers": {"Content-Type": "application/xml"}}, {415, 422},
         None),
        ("multipart", "POST", "/api/v1/projects", {"files": {"f": ("a.json", b"{}")}}, {400, 415, 422}, None),
        ("JSON with charset latin-1 and bytes", "POST", disb,
         {"content": b'{"note": "\xe9"}', "headers": {"Content-Type": "application/json; charset=latin-1"}},
         {400, 422}, None),
    ]


async def test_no_bad_input_answers_500_or_changes_anything(client, world):
    project = await make_project(client, world)
    pid = project["id"]
    assert (await allocate(client, world, pid, 5_000_000_000)).status_code == 201
    await make_project(client, world, code="VP-GT-002")
    first = await client.get("/api/v1/projects", params={"page_size": 1}, headers=world.h("viewer"))
    token = first.json()["next_page_token"]
    assert token
    assert (await client.get("/api/v1/events", headers=world.h("viewer"))).status_code == 200  # publish pending
    before, audited = await _digest(), await _audit_lines()
    corpus = [*_id_cases(), *_body_int_cases(pid), *_text_cases(pid), *_token_cases(token), *_date_cases(pid),
              *_shape_cases(pid)]
    assert len(corpus) >= 150 and len({c[0] for c in corpus}) == len(corpus)
    bad = []
    for name, method, url, kwargs, statuses, pointer in corpus:
        # admin: no role masks a validation — but paying a dossier is the Treasury's alone (`dossier.pay`)
        role = "treasury" if url.endswith("/pay") else "admin"
        headers = {**world.h(role), **kwargs.get("headers", {})}
        response = await client.request(method, url, **{**kwargs, "headers": headers})
        problem = response.json() if response.headers.get("content-type") == PROBLEM else {}
        pointers = [e.get("pointer", "") for e in problem.get("errors") or []]
        fine = (response.status_code in statuses and {"type", "title", "status", "code"} <= set(problem)
                and "Traceback" not in response.text
                and (pointer is None or any(p.startswith(pointer) for p in pointers)))
        if not fine:
            bad.append(f"{name}: {response.status_code} {response.headers.get('content-type')} {response.text[:300]}")
    assert not bad, f"{len(bad)} of {len(corpus)}:\n" + "\n".join(bad)
    assert await _digest() == before, "a rejected request changed a table"
    writes = sum(1 for case in corpus if case[1] != "GET")
    assert await _audit_lines() - audited == writes, "every rejected write leaves its audit line"
    print(f"\nbad-input corpus: {len(corpus)} requests, each a 4xx problem+json with a code, no row changed")


def _unbounded(schema: Any, where: str, components: dict, seen: set[str]) -> list[str]:
    """Integers without both bounds and dates without formatMinimum/Maximum, following $refs once."""
    if isinstance(schema, list):
        return [found for item in schema for found in _unbounded(item, where, components, seen)]
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded(components[name], name, components, seen)
    found = []
    if schema.get("type") == "integer" and not ({"minimum", "exclusiveMinimum"} & schema.keys()
                                                and {"maximum", "exclusiveMaximum"} & schema.keys()):
        found.append(f"integer {where}")
    declared = {key.removeprefix("x-") for key in schema}  # the published document prefixes them with x-
    if schema.get("format") == "date" and not {"formatMinimum", "formatMaximum"} <= declared:
        found.append(f"date {where}")
    for key, value in schema.items():
        found += _unbounded(value, f"{where}/{key}" if key == "properties" or where.endswith("properties")
                            else where, components, seen)
    return found


def test_every_integer_and_date_the_api_reads_declares_its_bounds():
    """The schema says what the corpus proves: no path, query or body integer (or date) is unbounded."""
    from app.main import create_app

    spec = create_app(background_jobs=False).openapi()
    components = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']}:{parameter['name']}"
                found += _unbounded(parameter["schema"], where, components, set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                found += _unbounded(content["schema"], f"{method.upper()} {path} body", components, set())
    assert not found, "\n".join(sorted(set(found)))
