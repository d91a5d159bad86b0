"""The published OpenAPI document (openapi.json) is what the code serves, and it is valid OpenAPI."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from app.kernel.config import ROOT
from app.main import create_app

DOCUMENT = ROOT / "openapi.json"


def test_committed_openapi_json_is_not_stale():
    generated = create_app(background_jobs=False).openapi()
    committed = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert committed == generated, "openapi.json is stale: run `make openapi` and commit it"


def test_openapi_json_is_a_valid_openapi_document():
    validate(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def test_every_operation_is_named_tagged_and_secured():
    document = create_app(background_jobs=False).openapi()
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation.get("tags") and operation.get("summary"), (method, path)
            assert "security" in operation, (method, path)
    assert len(ids) == len(set(ids)), "operationIds must be unique"
