"""Vietnamese working-day calendar (lịch ngày làm việc): DOMAIN.md §3, used by R15 SLAs.

A day is a working day when it is Monday–Friday and not a public holiday, unless a decision says
otherwise. Three layers decide, each overriding the one before:

1. the `holidays` package's Vietnam calendar (statutory holidays, Tết, observed days and the
   substitutions it knows);
2. `GOVERNMENT_CALENDAR` below: the days off and make-up working Saturdays (ngày nghỉ bù / làm bù)
   decided each year by the government, kept as data so that they do not depend on the package
   version;
3. days an administrator adds (passed to `WorkingCalendar`), so a late decision needs no release.

Date arithmetic on months (`add_months`) also lives here because the overdue rules (R9–R11) count
in calendar months.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays


class DayKind(StrEnum):
    day_off = "day_off"  # ngày nghỉ
    working_day = "working_day"  # ngày làm việc (e.g. a make-up Saturday, ngày làm bù)


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One government-decided exception to the Monday–Friday rule."""

    day: date
    kind: DayKind
    description: str
    confirmed: bool = True  # False: best knowledge at the time of writing, to be checked


def _off(first: date, last: date, description: str, confirmed: bool = True) -> tuple[CalendarEntry, ...]:
    """Days off from `first` to `last` inclusive (weekends included: harmless, reads like the decision)."""
    count = (last - first).days + 1
    return tuple(
        CalendarEntry(first + timedelta(days=i), DayKind.day_off, description, confirmed)
        for i in range(count)
    )


def _work(day: date, description: str, confirmed: bool = True) -> tuple[CalendarEntry, ...]:
    return (CalendarEntry(day, DayKind.working_day, description, confirmed),)


# Public-sector calendar (cán bộ, công chức, viên chức). Sources: the yearly announcements of the
# Ministry of Labour (Bộ LĐTBXH, now Bộ Nội vụ) and Government Office dispatches (Công văn VPCP).
GOVERNMENT_CALENDAR: tuple[CalendarEntry, ...] = (
    # 2024
    *_off(date(2024, 1, 1), date(2024, 1, 1), "Tết Dương lịch 2024"),
    *_off(date(2024, 2, 8), date(2024, 2, 14), "Tết Giáp Thìn 2024 (29 Tết – mùng 5)"),
    *_off(date(2024, 4, 18), date(2024, 4, 18), "Giỗ Tổ Hùng Vương 2024"),
    *_off(
        date(2024, 4, 29), date(2024, 5, 1), "30/4–1/5 2024, 29/4 swapped with Sat 4/5 (CV 2450/VPCP-KGVX)"
    ),
    *_work(date(2024, 5, 4), "Make-up working Saturday for 29/4/2024"),
    *_off(date(2024, 9, 2), date(2024, 9, 3), "Quốc khánh 2024 (2/9 and the adjacent 3/9)"),
    # 2025
    *_off(date(2025, 1, 1), date(2025, 1, 1), "Tết Dương lịch 2025"),
    *_off(date(2025, 1, 25), date(2025, 2, 2), "Tết Ất Tỵ 2025 (TB 6150/TB-BLĐTBXH)"),
    *_off(date(2025, 4, 7), date(2025, 4, 7), "Giỗ Tổ Hùng Vương 2025"),
    *_off(date(2025, 4, 30), date(2025, 5, 2), "30/4–1/5 2025, 2/5 swapped with Sat 26/4"),
    *_work(date(2025, 4, 26), "Make-up working Saturday for 2/5/2025"),
    *_off(date(2025, 9, 1), date(2025, 9, 2), "Quốc khánh 2025 (1/9 and 2/9)"),
    # 2026: best knowledge when written; entries marked confirmed=False must be checked against the
    # decisions and corrected through the administrator's extra days if wrong.
    *_off(date(2026, 1, 1), date(2026, 1, 1), "Tết Dương lịch 2026"),
    # Uncertain, not applied: a 2/1/2026 bridge swapped with a Saturday was discussed; add it as an
    # administrator day off (and the make-up Saturday as a working day) if it was decided.
    *_off(date(2026, 2, 14), date(2026, 2, 22), "Tết Bính Ngọ 2026 (9 days, 27 Chạp – mùng 6)", False),
    *_off(date(2026, 4, 27), date(2026, 4, 27), "Giỗ Tổ Hùng Vương 2026 (26/4 is a Sunday)", False),
    *_off(date(2026, 4, 30), date(2026, 5, 1), "30/4–1/5 2026"),
    *_off(date(2026, 8, 31), date(2026, 9, 2), "Quốc khánh 2026, 31/8 swapped with Sat 22/8", False),
    *_work(date(2026, 8, 22), "Make-up working Saturday for 31/8/2026", False),
    # 24/11 (Ngày Văn hóa Việt Nam, from 2026) comes from the holidays package, not from this list.
)


def add_months(day: date, months: int) -> date:
    """`day` plus `months` calendar months, clamped to the end of the target month.

    30/11 + 3 months = 28/02 (29/02 in a leap year); 31/05 + 3 months = 31/08. Clamping is the usual
    reading of "three months after" (Civil Code 2015 art. 147: a period in months ends on the same
    day of the last month, or on that month's last day when it has no such day).
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


@lru_cache(maxsize=64)
def _package_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, weekend working days) of `year` from the holidays package, computed once per year."""
    vn = holidays.country_holidays("VN", years=year)
    off = frozenset(d for d in vn if d.year == year)
    working = frozenset(d for d in vn.weekend_workdays if d.year == year)
    return off, working


def _weekdays_through(day: date) -> int:
    """Monday–Friday days from 0001-01-01 (a Monday) to `day` inclusive."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


class WorkingCalendar:
    """Working days for Treasury SLAs (R15).

    Construct once and reuse: each year's exceptions are computed on first use and cached on the
    instance. `extra_days_off` / `extra_working_days` come from the administrator (database) and win
    over the package and `GOVERNMENT_CALENDAR`.
    """

    def __init__(
        self,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        *,
        entries: Iterable[CalendarEntry] = GOVERNMENT_CALENDAR,
        use_package: bool = True,
    ) -> None:
        admin_off = frozenset(extra_days_off)
        admin_working = frozenset(extra_working_days)
        both = admin_off & admin_working
        if both:
            raise ValueError(f"days both off and working: {sorted(d.isoformat() for d in both)}")
        self._use_package = use_package
        self._by_year: dict[int, dict[date, bool]] = {}
        self._entries: dict[int, dict[date, bool]] = {}
        for entry in entries:
            self._entries.setdefault(entry.day.year, {})[entry.day] = entry.kind is DayKind.working_day
        self._admin: dict[int, dict[date, bool]] = {}
        for day in admin_off:
            self._admin.setdefault(day.year, {})[day] = False
        for day in admin_working:
            self._admin.setdefault(day.year, {})[day] = True

    def _exceptions(self, year: int) -> dict[date, bool]:
        """Days of `year` whose status differs from (or restates) the weekday rule: True = working."""
        cached = self._by_year.get(year)
        if cached is not None:
            return cached
        result: dict[date, bool] = {}
        if self._use_package:
            off, working = _package_year(year)
            result.update(dict.fromkeys(off, False))
            result.update(dict.fromkeys(working, True))
        result.update(self._entries.get(year, {}))
        result.update(self._admin.get(year, {}))
        self._by_year[year] = result
        return result

    def is_working_day(self, day: date) -> bool:
        """True when `day` is a working day (ngày làm việc)."""
        decided = self._exceptions(day.year).get(day)
        if decided is not None:
            return decided
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself is not counted); n < 0 counts backwards.

        With n = 0 the result is `start` unchanged, working day or not. A deadline "within 3 working
        days" of a dossier completed on Thursday 25/09/2025 is therefore Tuesday 30/09/2025.
        """
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        day = start
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Signed working-day steps from `a` to `b`: working days in (a, b], or minus those in [b, a).

        The inverse of `add_working_days`: `working_days_between(a, add_working_days(a, n)) == n` for
        every n. Computed on weekdays and corrected by each year's exceptions, so a long range costs
        no loop over its days.
        """
        if b < a:
            one_day = timedelta(days=1)
            return -self.working_days_between(b - one_day, a - one_day)
        count = _weekdays_through(b) - _weekdays_through(a)
        for year in range(a.year, b.year + 1):
            for day, working in self._exceptions(year).items():
                if a < day <= b:
                    count += int(working) - int(day.weekday() < 5)
        return count

    def next_working_day(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """A shared calendar without administrator days (tests, and callers without a database)."""
    return WorkingCalendar()
