"""R21: effective-dated histories (watch-list and working-group memberships) folded on a day, pure."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.programme.timeline import Change, Period, latest_by, member_on, periods, refusal

D = date(2024, 1, 1)


def _day(n: int) -> date:
    return D + timedelta(days=n)


def test_r21_periods_fold_joins_and_leaves_in_date_order():
    # recorded out of order (ids), folded by (effective date, id): join 10, leave 40, join 60
    history = [Change(3, _day(60), True), Change(1, _day(10), True), Change(2, _day(40), False)]
    assert periods(history) == [Period(_day(10), _day(40)), Period(_day(60), None)]
    assert [member_on(history, _day(n)) for n in (9, 10, 39, 40, 59, 60, 400)] == [
        False, True, True, False, False, True, True]  # the leave's day is out


def test_r21_a_same_day_join_and_leave_leaves_no_period():
    assert periods([Change(1, _day(5), True), Change(2, _day(5), False)]) == []


def test_r21_refusal_keeps_the_history_forward_and_meaningful():
    history = [Change(1, _day(10), True)]
    assert refusal(history, Change(9, _day(9), False)) == "change_before_latest"
    assert refusal(history, Change(9, _day(11), True)) == "already_member"
    assert refusal(history, Change(9, _day(10), False)) is None  # same day is allowed
    assert refusal([], Change(9, _day(1), False)) == "not_a_member"


def test_r21_latest_by_takes_the_last_report_dated_by_the_day():
    reports = [(_day(30), 2, "June"), (_day(90), 3, "Sept"), (_day(30), 1, "June, earlier id")]
    assert latest_by(reports, _day(29)) is None
    assert latest_by(reports, _day(60)) == "June"  # same date: the later id supersedes
    assert latest_by(reports, _day(90)) == "Sept"


@given(st.lists(st.tuples(st.integers(0, 60), st.booleans()), max_size=12), st.integers(0, 70))
def test_r21_member_on_a_day_iff_a_period_holds_it(raw, day):
    history: list[Change] = []
    for n, (offset, joins) in enumerate(sorted(raw, key=lambda r: r[0])):
        if refusal(history, Change(n + 1, _day(offset), joins)) is None:  # only what the API would accept
            history.append(Change(n + 1, _day(offset), joins))
    inside = any(p.start <= _day(day) and (p.end is None or _day(day) < p.end) for p in periods(history))
    assert member_on(history, _day(day)) == inside
