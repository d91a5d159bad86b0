"""Pure: effective-dated histories read on a day (no SQLAlchemy, no FastAPI).

A membership (a project on a watch-list, a person in a working group) is an append-only list of `join` and
`leave` changes, each effective on a date; on a day it is the fold of the changes effective by then, in
(effective date, id) order. Its periods are the same fold written as from/to intervals (to = the leave's date,
exclusive). A lead, a progress figure or a milestone date is the latest report dated by that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from app.kernel.errors import Conflict, DomainError, RuleViolation


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    effective_on: date
    joins: bool  # True: join; False: leave


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date | None  # exclusive: the day it left; None while it stays


def ordered(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.effective_on, c.id))


def member_on(changes: Iterable[Change], day: date) -> bool:
    """A member on `day`: its latest change effective by then is a join."""
    latest = None
    for c in ordered(changes):
        if c.effective_on > day:
            break
        latest = c
    return latest is not None and latest.joins


def periods(changes: Iterable[Change]) -> list[Period]:
    """The changes as from/to intervals; a join while a member and a leave while out change nothing."""
    out: list[Period] = []
    start: date | None = None
    for c in ordered(changes):
        if c.joins and start is None:
            start = c.effective_on
        elif not c.joins and start is not None:
            if c.effective_on > start:
                out.append(Period(start, c.effective_on))
            start = None
    if start is not None:
        out.append(Period(start, None))
    return out


def refusal(changes: Sequence[Change], new: Change) -> str | None:
    """Why a change cannot be appended, or None: a history is written forward only (a change effective before
    the latest one would rewrite what past reports showed), and a change must change something."""
    history = ordered(changes)
    if history and new.effective_on < history[-1].effective_on:
        return "change_before_latest"
    current = bool(history) and history[-1].joins
    if new.joins and current:
        return "already_member"
    if not new.joins and not current:
        return "not_a_member"
    return None


def refused(why: str, who: str, what: str, latest: date | None) -> DomainError:
    """The problem for a `refusal` reason (R21)."""
    if why == "change_before_latest":
        return RuleViolation("change_before_latest", f"R21: {who}'s history on {what} already has a change "
                             f"effective {latest}; a change is effective on or after it.", pointer="/effective_on",
                             earliest=latest.isoformat() if latest else None)
    if why == "already_member":
        return Conflict("already_member", f"{who} is already on {what}.", pointer="/action")
    return Conflict("not_a_member", f"{who} is not on {what}.", pointer="/action")


T = TypeVar("T")


def latest_by(items: Iterable[tuple[date, int, T]], day: date) -> T | None:
    """The item of the latest (date, id) on or before `day`."""
    best: tuple[date, int, T] | None = None
    for item in items:
        if item[0] <= day and (best is None or (item[0], item[1]) > (best[0], best[1])):
            best = item
    return best[2] if best is not None else None
