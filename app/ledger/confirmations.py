"""R15a: the Treasury's entry supersedes the owner's report it pays (docs/rules.md, "Reconciliation").

An owner's report is an estimate. The Treasury's entry for the same payment names the owner's document
(`owner_document_number`, the payment request's number); posting it also posts, first and in the same call, a
reversal of the owner's report — so the money is counted once, as the Treasury's, and the books stay append-only.
An owner reporting a document the Treasury has already recorded is refused (`recorded_by_treasury`).

Runs inside the posting pipeline after the project locks (every writer of a project's ledger holds its lock),
so a report and its confirmation cannot race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, String, and_, bindparam, exists, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.enums import DisbursementKind, EntrySource
from app.kernel.db import dialect_name
from app.ledger.disbursements import negation
from app.ledger.fold import DisbursementInput
from app.ledger.posting_rules import RowError
from app.models import Disbursement

# Document number of the superseding reversal: one per report (a report is superseded once), short and unique.
SUPERSEDE_DOCUMENT = "DC-{report_id}"  # đối chiếu
_CHUNK = 5000  # pairs per IN (two binds each: within SQLite's 32,766 variables)


@dataclass(slots=True)
class Expanded:
    """A call's rows with the superseding reversals inserted before the entries that cause them."""

    rows: list[DisbursementInput] = field(default_factory=list)
    caller_index: list[int] = field(default_factory=list)  # row → the caller's row it came from
    generated: list[bool] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def add(self, row: DisbursementInput, index: int, generated: bool = False) -> None:
        self.rows.append(row)
        self.caller_index.append(index)
        self.generated.append(generated)

    def blame(self, position: int, error: RowError) -> RowError:
        """Point an error at the caller's row; a superseding reversal's refusal is the owner document's."""
        error.index = self.caller_index[position]
        if self.generated[position]:
            error.pointer = "/owner_document_number"
            error.detail = f"Superseding the owner's report {self.rows[position].document_number}: {error.detail}"
        return error


async def select_in(session: AsyncSession, query: Any, columns: tuple[Any, Any],
                    keys: list[tuple[int, str]]) -> list[Any]:
    """`query` restricted to rows whose (`columns`) pair is in `keys`, in chunks (the posting pipeline's probes)."""
    if dialect_name(session) == "postgresql":
        # The keys bound as two arrays (one probe of the pair's index per key), whatever their count.
        k = (func.unnest(bindparam(None, [p for p, _ in keys], type_=ARRAY(BigInteger)),
                         bindparam(None, [n for _, n in keys], type_=ARRAY(String)))
             .table_valued("p", "n").render_derived())
        return list((await session.execute(query.join(k, and_(columns[0] == k.c.p, columns[1] == k.c.n)))).all())
    found: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        found += (await session.execute(query.where(tuple_(*columns).in_(keys[start:start + _CHUNK])))).all()
    return found


def _reserved(document_number: str) -> bool:
    prefix, _, rest = document_number.partition("-")
    return prefix == "DC" and rest.isdigit()


async def with_superseded_reports(session: AsyncSession, rows: Sequence[DisbursementInput]) -> Expanded:
    confirming = sorted({(r.project_id, r.owner_document_number) for r in rows
                         if r.owner_document_number is not None and r.reverses_id is None})
    reporting = sorted({(r.project_id, r.document_number) for r in rows
                        if r.source is EntrySource.owner and r.reverses_id is None})
    d = Disbursement.__table__
    reports: dict[tuple[int, str], Any] = {}
    confirmed: dict[tuple[int, str], int] = {}
    if confirming:
        reversal = aliased(Disbursement)
        query = select(d).where(d.c.source == EntrySource.owner.value, d.c.reverses_id.is_(None),
                                ~exists().where(reversal.reverses_id == d.c.id))
        reports = {(r.project_id, r.document_number): r
                   for r in await select_in(session, query, (d.c.project_id, d.c.document_number), confirming)}
    if confirming or reporting:
        query = select(d.c.id, d.c.project_id, d.c.owner_document_number)
        confirmed = {(r.project_id, r.owner_document_number): r.id for r in await select_in(
            session, query, (d.c.project_id, d.c.owner_document_number), sorted(set(confirming) | set(reporting)))}
    out, superseding = Expanded(), []
    seen: set[tuple[int, str]] = set()
    for index, row in enumerate(rows):
        if _reserved(row.document_number):
            out.errors.append(RowError(index, "reserved_document_number", "Document numbers DC-<number> are the "
                                       "service's own, for the reversals that supersede owners' reports.",
                                       "/document_number"))
        if row.source is EntrySource.owner and row.reverses_id is None \
                and (entry := confirmed.get((row.project_id, row.document_number))) is not None:
            out.errors.append(RowError(index, "recorded_by_treasury", f"The Treasury has recorded document "
                                       f"{row.document_number!r} (entry {entry}); there is nothing to estimate.",
                                       "/document_number", {"treasury_entry_id": entry}))
        if row.owner_document_number is not None and row.reverses_id is None:
            key = (row.project_id, row.owner_document_number)
            if key in confirmed or key in seen:
                paid_by = {"treasury_entry_id": confirmed[key]} if key in confirmed else {}
                out.errors.append(RowError(index, "owner_document_confirmed", f"The owner's document "
                                           f"{row.owner_document_number!r} is already paid by a Treasury entry"
                                           f"{'' if paid_by else ' of this call'}.", "/owner_document_number",
                                           paid_by))
            elif (report := reports.get(key)) is not None:
                # Dated at the later of the report and the payment: as of any date, the money counts once and an
                # estimate is never taken back before it was made.
                superseding.append((index, negation(
                    report, document_number=SUPERSEDE_DOCUMENT.format(report_id=report.id),
                    value_date=max(report.value_date, row.value_date), source=EntrySource.treasury,
                    note=f"Superseded by the Treasury's entry {row.document_number}")))
            seen.add(key)
    # The superseding reversals go first, those of payments before those of advances: a call that confirms an
    # advance and the payment recovering it un-recovers the owner's advance before taking it back (R13).
    for index, undo in sorted(superseding, key=lambda item: (item[1].kind is DisbursementKind.advance, item[0])):
        out.add(undo, index, generated=True)
    for index, row in enumerate(rows):
        out.add(row, index)
    return out
