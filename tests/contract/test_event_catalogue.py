"""The change feed's catalogue (app.kernel.event_catalogue, published in the OpenAPI document) is complete and
exact: every type the code emits is listed, and the payloads real writes leave in the feed match it."""

from __future__ import annotations

import re

import jsonschema
from sqlalchemy import select

from app.demo import province
from app.kernel.config import ROOT
from app.kernel.db import session_scope
from app.kernel.event_catalogue import EVENT_TYPES, payload_schema
from app.models import Event
from app.treasury.sweep import run_sweep

_LITERAL = re.compile(r'"([a-z_]+\.[a-z_]+)"')
_FAMILY = re.compile(r'f"([a-z_]+)\.\{')


def test_every_emitted_type_is_in_the_catalogue():
    emitted, families = set(), set()
    for path in (ROOT / "app").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"(?:emit\(|\"type\": )([^\n]*(?:\n[^\n]*){0,2})", text):
            emitted |= {t for t in _LITERAL.findall(call.group(1)) if t.split(".")[0] in
                        {k.split(".")[0] for k in EVENT_TYPES}}
            families |= set(_FAMILY.findall(call.group(1)))
    assert emitted, "the scan found no emitted type"
    assert emitted <= set(EVENT_TYPES), sorted(emitted - set(EVENT_TYPES))
    for family in families:  # f"advance.{kind}" and the like: the catalogue lists their members
        assert any(t.startswith(f"{family}.") for t in EVENT_TYPES), family


async def test_the_demo_province_and_a_sweep_write_payloads_of_the_catalogue():
    async with session_scope() as session:
        await province.load(session)
    from datetime import date

    await run_sweep(date(2024, 10, 11))
    async with session_scope() as session:
        events = (await session.scalars(select(Event))).all()
    seen = set()
    for event in events:
        assert event.type in EVENT_TYPES, event.type
        jsonschema.validate(event.payload, payload_schema(event.type))
        seen.add(event.type)
    assert len(seen) >= 5, seen
