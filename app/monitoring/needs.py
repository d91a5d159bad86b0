"""R18 pure: which registered extra needs (nhu cầu bổ sung vốn) are still open after the capital given since.

A need is answered by new capital given to its project afterwards — a supplement (a tranche), or a reallocation's
`adjustment_in` — net of any capital advanced from the year before that the same decision repaid (R1a). Grants are
taken in decision order; each answers only the needs registered on or before its decision, oldest first, its own
pool's first and then the project's other pools (a district's project registers in its district pool and receives
the province's tranche in a provincial one, R1). What a grant leaves over answers nothing registered later.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

Pool = TypeVar("Pool", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Need(Generic[Pool]):
    pool: Pool
    amount_vnd: int
    known_on: date


@dataclass(frozen=True, slots=True)
class Grant(Generic[Pool]):
    pool: Pool
    amount_vnd: int  # new capital: > 0
    decided_on: date


def open_needs(needs: Iterable[Need[Pool]], grants: Iterable[Grant[Pool]]) -> dict[Pool, int]:
    """One project's open need per pool (every pool that registered one, 0 when answered in full)."""
    ordered = sorted(needs, key=lambda n: n.known_on)
    left = [n.amount_vnd for n in ordered]
    for grant in sorted(grants, key=lambda g: g.decided_on):
        remaining = grant.amount_vnd
        for own_pool in (True, False):
            for i, need in enumerate(ordered):
                if remaining <= 0 or need.known_on > grant.decided_on:
                    break
                if (need.pool == grant.pool) is own_pool and left[i] > 0:
                    taken = min(left[i], remaining)
                    left[i] -= taken
                    remaining -= taken
    out: dict[Pool, int] = {}
    for need, amount in zip(ordered, left, strict=True):
        out[need.pool] = out.get(need.pool, 0) + amount
    return out
