"""Demo provenance (R15a) for Vĩnh Phúc 2024: of the Treasury's 2024 payments from mid-September, some were
reported by their owners first and then paid (a few at a slightly different amount), some are still only the
owners' reports, and the rest were never reported. Totals are unchanged: a report the Treasury paid is superseded
by its reversal, as the posting pipeline does (`app.ledger.confirmations`).

Called by app.demo.province.load as `load(session, rng, context)` before balances are rebuilt.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.province import _stamp  # noqa: PLC2701 (the demo's one timestamp convention)
from app.ledger.confirmations import SUPERSEDE_DOCUMENT
from app.models import Disbursement

SINCE = date(2024, 9, 16)
UNCONFIRMED, REPORTED_THEN_PAID = 0.25, 0.65  # shares of the payments: cumulative thresholds


async def load(session: AsyncSession, rng: random.Random, context: Any) -> None:
    d = Disbursement.__table__
    payments = (await session.execute(
        select(d.c.id, d.c.project_id, d.c.plan_year, d.c.capital_source, d.c.budget_level,
               d.c.budget_holder_id, d.c.amount_vnd,
               d.c.value_date, d.c.document_number)
        .where(d.c.plan_year == 2024, d.c.kind == "payment", d.c.advance_recovered_vnd == 0,
               d.c.value_date >= SINCE, d.c.source == "treasury").order_by(d.c.id))).all()
    reports, paid = [], []
    for p in payments:
        owner_document = f"GDN-{p.project_id:04d}-{p.id:06d}"  # the owner's payment request (giấy đề nghị)
        draw = rng.random()
        if draw < UNCONFIRMED:
            await session.execute(update(Disbursement).where(Disbursement.id == p.id).values(
                source="owner", origin="owner", document_number=owner_document))
        elif draw < REPORTED_THEN_PAID:
            # One report in five differs from what the Treasury paid (the owner's estimate was off by 1–3%).
            reported = p.amount_vnd if rng.random() < 0.8 else p.amount_vnd * rng.randint(97, 99) // 100
            reported_on = max(SINCE, p.value_date - timedelta(days=2))
            reports.append({"project_id": p.project_id, "plan_year": p.plan_year, "capital_source": p.capital_source,
                            "budget_level": p.budget_level, "budget_holder_id": p.budget_holder_id,
                            "kind": "payment", "advance_kind": None,
                            "contract_id": None, "amount_vnd": reported, "advance_recovered_vnd": 0,
                            "net_vnd": reported, "value_date": reported_on, "document_number": owner_document,
                            "reverses_id": None, "note": None, "source": "owner", "origin": "owner",
                            "known_on": reported_on, "created_at": _stamp(reported_on)})
            paid.append((p, owner_document))
    if not reports:
        return
    await session.execute(insert(Disbursement), reports)
    ids = dict((await session.execute(select(d.c.document_number, d.c.id).where(
        d.c.document_number.in_([doc for _, doc in paid])))).all())
    reversals = []
    for (p, owner_document), report in zip(paid, reports, strict=True):
        report_id = ids[owner_document]
        reversals.append({**report, "amount_vnd": -report["amount_vnd"], "net_vnd": -report["net_vnd"],
                          "value_date": p.value_date, "known_on": p.value_date, "created_at": _stamp(p.value_date),
                          "document_number": SUPERSEDE_DOCUMENT.format(report_id=report_id), "reverses_id": report_id,
                          "source": "treasury", "note": f"Superseded by the Treasury's entry {p.document_number}"})
        await session.execute(update(Disbursement).where(Disbursement.id == p.id).values(
            owner_document_number=owner_document))
    await session.execute(insert(Disbursement), reversals)
