"""A corpus of bad input: each gets a 4xx problem+json and changes nothing (SQLite and PostgreSQL).

Rejected writes leave an audit line by design, so the audit log is the one table allowed to grow.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.kernel.config import get_settings
from app.kernel.db import session_scope
from app.models import Base
from tests.conftest import allocate, disbursement_body, make_project

PROBLEM = "application/problem+json"
AUDIT_TABLE = "audit_log"
SQL = "1'; DROP TABLE disbursements; --"
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)>"


async def _row_counts() -> dict[str, int]:
    async with session_scope() as session:
        return {
            t.name: await session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
            if t.name != AUDIT_TABLE
        }


def _corpus(pid: int) -> list[tuple[str, str, str, dict, set[int]]]:
    """(name, method, url, httpx kwargs, acceptable statuses)."""
    disb = f"/api/v1/projects/{pid}/disbursements"
    ok = disbursement_body(1_000_000, "KB-BAD")
    raw = {"headers": {"Content-Type": "application/json"}}
    cases: list[tuple[str, str, str, dict, set[int]]] = [
        ("malformed json", "POST", disb, {"content": b'{"plan_year": 2024,', **raw}, {400, 422}),
        ("not utf-8", "POST", disb, {"content": b'\xff\xfe{"a":1}', **raw}, {400, 422}),
        ("json array", "POST", disb, {"json": [ok]}, {422}),
        ("empty body", "POST", disb, {"content": b"", **raw}, {400, 422}),
        ("amount as string", "POST", disb, {"json": {**ok, "amount_vnd": "1000000"}}, {422}),
        ("amount as float", "POST", disb, {"json": {**ok, "amount_vnd": 1000000.5}}, {422}),
        ("plan_year as string", "POST", disb, {"json": {**ok, "plan_year": "2024"}}, {422}),
        ("amount huge", "POST", disb, {"json": {**ok, "amount_vnd": 10**30}}, {422}),
        ("amount above MAX_VND", "POST", disb, {"json": {**ok, "amount_vnd": 10**15 + 1}}, {422}),
        ("amount negative", "POST", disb, {"json": {**ok, "amount_vnd": -5}}, {422}),
        ("amount zero", "POST", disb, {"json": {**ok, "amount_vnd": 0}}, {422}),
        ("recovered negative", "POST", disb, {"json": {**ok, "advance_recovered_vnd": -1}}, {422}),
        ("value date in future", "POST", disb, {"json": {**ok, "value_date": "2030-01-01"}}, {422}),
        ("value date before plan year", "POST", disb, {"json": {**ok, "value_date": "2019-06-01"}}, {422}),
        ("value date not a date", "POST", disb, {"json": {**ok, "value_date": "2024-02-30"}}, {422}),
        ("unknown field", "POST", disb, {"json": {**ok, "amount": 5}}, {422}),
        ("unknown project", "POST", "/api/v1/projects/987654321/disbursements", {"json": ok}, {404}),
        ("unknown contract", "POST", disb, {"json": {**ok, "contract_id": 987654321}}, {404, 422}),
        (
            "unknown disbursement reversal",
            "POST",
            "/api/v1/disbursements/987654321/reversal",
            {"json": {"document_number": "R-1", "value_date": "2024-10-01", "note": "x"}},
            {404},
        ),
        (
            "batch of 10,001 rows",
            "POST",
            "/api/v1/disbursements/batch",
            {
                "json": {
                    "rows": [{**disbursement_body(1_000, f"B-{i}"), "project_id": pid} for i in range(10_001)]
                }
            },
            {422},
        ),
        ("empty batch", "POST", "/api/v1/disbursements/batch", {"json": {"rows": []}}, {422}),
        (
            "batch with unknown project",
            "POST",
            "/api/v1/disbursements/batch",
            {"json": {"rows": [{**disbursement_body(1_000, "B-U"), "project_id": 987654321}]}},
            {404, 422},
        ),
        (
            "idempotency key too long",
            "POST",
            disb,
            {"json": ok, "headers": {"Idempotency-Key": "k" * 201}},
            {422},
        ),
        ("SQL in enum", "POST", disb, {"json": {**ok, "capital_source": SQL}}, {422}),
        ("HTML in enum", "POST", disb, {"json": {**ok, "kind": HTML}}, {422}),
        ("SQL in path id", "GET", f"/api/v1/projects/{SQL}", {}, {404, 422}),
        ("SQL in page_token", "GET", "/api/v1/projects", {"params": {"page_token": SQL}}, {400}),
        (
            "HTML in page_token",
            "GET",
            f"/api/v1/projects/{pid}/disbursements",
            {"params": {"page_token": HTML}},
            {400},
        ),
        (
            "garbage page_token",
            "GET",
            "/api/v1/projects",
            {"params": {"page_token": "eyJub3QiOiJ0b2tlbiJ9"}},
            {400},
        ),
        ("page_size 0", "GET", "/api/v1/projects", {"params": {"page_size": 0}}, {422}),
        ("page_size 501", "GET", "/api/v1/projects", {"params": {"page_size": 501}}, {422}),
        ("negative feed position", "GET", "/api/v1/events", {"params": {"after": -1}}, {422}),
        ("as_of not a date", "GET", f"/api/v1/projects/{pid}/balances", {"params": {"as_of": HTML}}, {422}),
        (
            "project with SQL in enum",
            "POST",
            "/api/v1/projects",
            {
                "json": {
                    "code": "X-1",
                    "name": SQL,
                    "investor_id": 1,
                    "sector": "transport",
                    "location": "x",
                    "group": SQL,
                    "stage": "ongoing",
                    "total_investment_vnd": 1,
                    "start_year": 2023,
                    "end_year": 2026,
                }
            },
            {422},
        ),
        (
            "project with huge TMĐT",
            "POST",
            "/api/v1/projects",
            {
                "json": {
                    "code": "X-2",
                    "name": HTML,
                    "investor_id": 1,
                    "sector": "transport",
                    "location": "x",
                    "group": "B",
                    "stage": "ongoing",
                    "total_investment_vnd": 10**40,
                    "start_year": 2023,
                    "end_year": 2026,
                }
            },
            {422},
        ),
    ]
    return cases


async def test_bad_input_corpus_is_rejected_with_problem_json_and_changes_nothing(client, world):
    project = await make_project(client, world)
    assert (await allocate(client, world, project["id"], 5_000_000_000)).status_code == 201
    await make_project(client, world, code="VP-GT-002")
    # A real page token issued for other filters is a bad cursor too.
    first = await client.get(
        "/api/v1/projects", params={"page_size": 1, "sector": "transport"}, headers=world.h("viewer")
    )
    token = first.json()["next_page_token"]
    assert token
    before = await _row_counts()
    corpus = [
        *_corpus(project["id"]),
        (
            "token for other filters",
            "GET",
            "/api/v1/projects",
            {"params": {"page_size": 1, "sector": "energy", "page_token": token}},
            {400},
        ),
    ]
    bad = []
    for name, method, url, kwargs, statuses in corpus:
        headers = {**world.h("admin"), **kwargs.pop("headers", {})}  # admin: no role masks a validation
        response = await client.request(method, url, headers=headers, **kwargs)
        ok = (
            response.status_code in statuses
            and response.headers.get("content-type") == PROBLEM
            and {"type", "title", "status", "code"} <= set(response.json())
        )
        if not ok:
            kind = response.headers.get("content-type")
            bad.append(f"{name}: {response.status_code} {kind} {response.text[:200]}")
        elif name.startswith(("SQL", "HTML")):
            assert "Traceback" not in response.text
    assert not bad, "\n".join(bad)
    assert await _row_counts() == before
    print(f"\nbad-input corpus: {len(corpus)} requests, each a 4xx problem+json, no row changed")


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_oversized_body_is_413_problem_json(client, world, declared):
    project = await make_project(client, world)
    before = await _row_counts()
    limit = get_settings().max_body_bytes
    payload = json.dumps({**disbursement_body(1_000_000, "KB-BIG"), "note": "x" * (limit + 1)}).encode()
    url = f"/api/v1/projects/{project['id']}/disbursements"
    headers = {**world.h("treasury"), "Content-Type": "application/json"}
    if declared:
        response = await client.post(url, content=payload, headers=headers)
    else:

        async def chunks():
            for start in range(0, len(payload), 1 << 20):
                yield payload[start : start + (1 << 20)]

        response = await client.post(url, content=chunks(), headers=headers)
    assert response.status_code == 413, response.text[:200]
    assert response.headers["content-type"] == PROBLEM and response.json()["code"] == "payload_too_large"
    assert await _row_counts() == before
