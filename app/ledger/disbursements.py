"""Disbursements (giải ngân): reading one, and the correcting movement (bút toán đảo) for a recorded one.

Recording goes through the posting pipeline (`app.ledger.posting.post_disbursements`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enums import AdvanceKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.kernel.errors import Conflict, NotFound
from app.ledger.fold import DisbursementInput
from app.models import Disbursement


async def get(session: AsyncSession, disbursement_id: int) -> Disbursement:
    row = await session.get(Disbursement, disbursement_id)
    if row is None:
        raise NotFound("disbursement_not_found", f"Disbursement {disbursement_id} does not exist.")
    return row


def movement_of(row: Any, original_value_date: date | None = None) -> DisbursementInput:
    """A stored disbursement (ORM object or Core row) as the movement it recorded: what the fold replays and what a
    reversal negates. A stored reversal carries its original's date (R14) and its stored `origin`."""
    return DisbursementInput(
        project_id=row.project_id, plan_year=row.plan_year, capital_source=CapitalSource(row.capital_source),
        budget_level=BudgetLevel(row.budget_level), budget_holder_id=row.budget_holder_id,
        kind=DisbursementKind(row.kind),
        advance_kind=AdvanceKind(row.advance_kind) if row.advance_kind else None, contract_id=row.contract_id,
        amount_vnd=row.amount_vnd, advance_recovered_vnd=row.advance_recovered_vnd, value_date=row.value_date,
        document_number=row.document_number, note=row.note, reverses_id=row.reverses_id,
        original_value_date=original_value_date, source=EntrySource(row.source),
        original_source=EntrySource(row.origin) if row.reverses_id is not None else None,
        owner_document_number=row.owner_document_number, completes_supply=bool(row.completes_supply),
        contract_member_id=row.contract_member_id)


async def reversal_of(session: AsyncSession, original: Disbursement, *, document_number: str, value_date: date,
                      note: str, source: EntrySource) -> DisbursementInput:
    """A correction: the original's amounts negated, in its pool, kind and contract. It is posted like any
    movement and refused when the balances it would leave break a rule (docs/rules.md, reversals)."""
    if original.reverses_id is not None:
        raise Conflict("cannot_reverse_reversal", "A reversing entry cannot itself be reversed; record anew.")
    if await session.scalar(select(Disbursement.id).where(Disbursement.reverses_id == original.id)) is not None:
        raise Conflict("already_reversed", f"Disbursement {original.id} is already reversed.")
    return negation(original, document_number=document_number, value_date=value_date, note=note, source=source)


def negation(original: Any, *, document_number: str, value_date: date, note: str,
             source: EntrySource) -> DisbursementInput:
    """The movement that undoes a stored, unreversed original (the caller has checked both)."""
    return replace(movement_of(original, original.value_date), amount_vnd=-original.amount_vnd,
                   advance_recovered_vnd=-original.advance_recovered_vnd, value_date=value_date,
                   document_number=document_number, note=note, reverses_id=original.id, source=source,
                   original_source=EntrySource(original.source), owner_document_number=None)
