"""Working-day calendar (DOMAIN.md §3, used by R15) and month arithmetic (used by R9–R11)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.rulesets.calendar import (
    GOVERNMENT_CALENDAR,
    DayKind,
    WorkingCalendar,
    add_months,
    default_calendar,
)

CAL = default_calendar()
dates = st.dates(min_value=date(2023, 6, 1), max_value=date(2027, 6, 30))


def naive_count(cal: WorkingCalendar, a: date, b: date) -> int:
    return sum(cal.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


# --- weekends and ordinary days -------------------------------------------------------------------


def test_weekends_are_not_working_days():
    assert not CAL.is_working_day(date(2025, 9, 27))  # Saturday
    assert not CAL.is_working_day(date(2025, 9, 28))  # Sunday
    assert CAL.is_working_day(date(2025, 9, 29))  # Monday


def test_friday_plus_one_working_day_is_monday():
    assert CAL.add_working_days(date(2025, 10, 3), 1) == date(2025, 10, 6)


# --- Tết and government-decided days --------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2024, 2, d) for d in (8, 9, 12, 13, 14)])
def test_tet_2024_weekdays_are_off(day):
    assert not CAL.is_working_day(day)


def test_tet_2024_first_working_day_after_is_15_february():
    assert CAL.is_working_day(date(2024, 2, 15))
    assert CAL.add_working_days(date(2024, 2, 7), 1) == date(2024, 2, 15)


def test_tet_2025_off_from_25_january_to_2_february():
    for offset in range(9):
        assert not CAL.is_working_day(date(2025, 1, 25) + timedelta(days=offset))
    assert CAL.add_working_days(date(2025, 1, 24), 1) == date(2025, 2, 3)


def test_tet_2026_weekdays_are_off():
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day))
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 4, 29),  # bridge swapped with Sat 4/5/2024
        date(2024, 9, 3),  # day adjacent to National Day 2024
        date(2025, 5, 2),  # bridge swapped with Sat 26/4/2025
        date(2025, 9, 1),  # day adjacent to National Day 2025
        date(2026, 8, 31),  # bridge swapped with Sat 22/8/2026 (to confirm)
    ],
)
def test_bridge_days_are_off(day):
    assert day.weekday() < 5
    assert not CAL.is_working_day(day)


@pytest.mark.parametrize("day", [date(2024, 5, 4), date(2025, 4, 26), date(2026, 8, 22)])
def test_make_up_saturdays_are_working_days(day):
    assert day.weekday() == 5
    assert CAL.is_working_day(day)


def test_government_data_stands_without_the_holidays_package():
    cal = WorkingCalendar(use_package=False)
    assert not cal.is_working_day(date(2024, 2, 12))
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2025, 9, 1))


def test_government_data_is_consistent():
    kinds: dict[date, DayKind] = {}
    for entry in GOVERNMENT_CALENDAR:
        assert kinds.setdefault(entry.day, entry.kind) is entry.kind, entry
        assert 2024 <= entry.day.year <= 2026
        assert entry.description
        if entry.kind is DayKind.working_day:
            assert entry.day.weekday() == 5  # make-up days are Saturdays


@pytest.mark.parametrize(("year", "working_days"), [(2024, 251), (2025, 250)])
def test_working_days_in_a_year(year, working_days):
    assert CAL.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == working_days


# --- administrator days ---------------------------------------------------------------------------


def test_administrator_days_override_the_package_and_the_data():
    cal = WorkingCalendar(extra_days_off=[date(2025, 10, 1)], extra_working_days=[date(2025, 9, 1)])
    assert not cal.is_working_day(date(2025, 10, 1))
    assert cal.is_working_day(date(2025, 9, 1))
    assert CAL.is_working_day(date(2025, 10, 1))  # other calendars untouched


def test_a_day_both_off_and_working_is_refused():
    with pytest.raises(ValueError, match="both off and working"):
        WorkingCalendar(extra_days_off=[date(2025, 10, 1)], extra_working_days=[date(2025, 10, 1)])


def test_exceptions_are_cached_per_year():
    cal = WorkingCalendar()
    assert cal._exceptions(2025) is cal._exceptions(2025)
    assert default_calendar() is default_calendar()


# --- add_working_days / working_days_between ------------------------------------------------------


def test_add_zero_working_days_returns_start():
    assert CAL.add_working_days(date(2025, 9, 27), 0) == date(2025, 9, 27)


def test_add_negative_working_days_counts_backwards():
    assert CAL.add_working_days(date(2024, 2, 15), -1) == date(2024, 2, 7)


def test_start_on_a_weekend_counts_from_monday():
    assert CAL.add_working_days(date(2025, 9, 27), 1) == date(2025, 9, 29)


def test_working_days_between_excludes_start_and_includes_end():
    assert CAL.working_days_between(date(2025, 9, 25), date(2025, 9, 30)) == 3
    assert CAL.working_days_between(date(2025, 9, 30), date(2025, 9, 25)) == -3
    assert CAL.working_days_between(date(2025, 9, 25), date(2025, 9, 25)) == 0


def test_next_working_day():
    assert CAL.next_working_day(date(2025, 9, 29)) == date(2025, 9, 29)
    assert CAL.next_working_day(date(2025, 8, 30)) == date(2025, 9, 3)


@given(start=dates, n=st.integers(min_value=1, max_value=60))
def test_add_working_days_lands_on_a_working_day(start, n):
    assert CAL.is_working_day(CAL.add_working_days(start, n))


@given(start=dates, n=st.integers(min_value=0, max_value=60))
def test_add_working_days_is_monotonic_in_n(start, n):
    assert CAL.add_working_days(start, n) < CAL.add_working_days(start, n + 1)


@given(a=dates, b=dates, n=st.integers(min_value=0, max_value=30))
def test_add_working_days_is_monotonic_in_start(a, b, n):
    a, b = min(a, b), max(a, b)
    assert CAL.add_working_days(a, n) <= CAL.add_working_days(b, n)


@given(start=dates, n=st.integers(min_value=-40, max_value=40))
def test_working_days_between_inverts_add_working_days(start, n):
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


@given(a=dates, b=dates)
def test_working_days_between_matches_a_day_by_day_count(a, b):
    if a <= b:
        assert CAL.working_days_between(a, b) == naive_count(CAL, a, b)
    else:
        one = timedelta(days=1)
        assert CAL.working_days_between(a, b) == -naive_count(CAL, b - one, a - one)  # [b, a)


# --- months (R9–R11) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),  # leap year
        (date(2025, 5, 31), 3, date(2025, 8, 31)),
        (date(2025, 3, 31), 6, date(2025, 9, 30)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 10, 15), 3, date(2026, 1, 15)),  # year rollover
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


@given(day=dates, months=st.integers(min_value=-24, max_value=24))
def test_add_months_moves_exactly_that_many_months_and_never_a_later_day(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    assert result.day == day.day or (result + timedelta(days=1)).month != result.month
