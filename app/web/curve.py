"""The province's S-curve as inline SVG, drawn on the server (no script): cumulative disbursement rate by date
against the milestone curve, last year's curve and the 95% target, with the forecast band at the deadline.

Pure: points in, coordinates out; the template draws them with presentation attributes (no inline style, so the
page keeps a strict CSP). The x axis runs from 1 January of the plan year to its deadline (31 January next year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.monitoring.forecast import CumulativeCurve, deadline_for

WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 40
MONTHS = ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12", "T1")


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    actual: str  # polyline points "x,y x,y …"
    milestone: str
    last_year: str
    target_y: float
    today_x: float
    band: tuple[float, float, float]  # x, y of the high end, y of the low end at the deadline
    forecast: tuple[float, float]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    plot: tuple[int, int, int, int]  # left, top, right, bottom


class _Scale:
    def __init__(self, plan_year: int) -> None:
        self.start = date(plan_year, 1, 1)
        self.days = (deadline_for(plan_year) - self.start).days

    def x(self, day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * min(max((day - self.start).days, 0), self.days) / self.days, 1)

    @staticmethod
    def y(pct: float) -> float:
        return round(HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * min(max(pct, 0.0), 100.0) / 100, 1)


def _curve(scale: _Scale, curve: CumulativeCurve, plan_year: int, until: date) -> str:
    days = [scale.start + timedelta(days=d) for d in range(0, (until - scale.start).days + 1, 7)] + [until]
    return " ".join(f"{scale.x(d)},{scale.y(curve.fraction_at(d, plan_year) * 100)}" for d in days)


def s_curve(plan_year: int, as_of: date, actual: list[tuple[date, float]], milestones: CumulativeCurve,
            last_year: CumulativeCurve, target_pct: float, forecast_pct: tuple[float, float, float]) -> Chart:
    """`actual`: (date, cumulative rate %) points up to `as_of`; `forecast_pct`: (low, central, high) at the
    deadline, % of plan."""
    scale = _Scale(plan_year)
    deadline = deadline_for(plan_year)
    points = [(scale.start, 0.0), *[(d, pct) for d, pct in actual if d <= as_of]]
    low, central, high = forecast_pct
    x_ticks = [(scale.x(date(plan_year, m, 1)), MONTHS[m - 1]) for m in range(1, 13)]
    x_ticks.append((scale.x(date(plan_year + 1, 1, 1)), MONTHS[12]))
    return Chart(
        width=WIDTH, height=HEIGHT,
        actual=" ".join(f"{scale.x(d)},{scale.y(p)}" for d, p in points),
        milestone=_curve(scale, milestones, plan_year, deadline),
        last_year=_curve(scale, last_year, plan_year, deadline),
        target_y=scale.y(target_pct), today_x=scale.x(as_of),
        band=(scale.x(deadline), scale.y(high), scale.y(low)),
        forecast=(scale.x(deadline), scale.y(central)),
        x_ticks=x_ticks, y_ticks=[(scale.y(p), f"{p}%") for p in range(0, 101, 20)],
        plot=(LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM),
    )
