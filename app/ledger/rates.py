"""R1b: the two disbursement rates every report shows (docs/rules.md, "Two rates, one disbursed figure").

Disbursement is never split by provenance: the money disbursed from a pool is one figure, measured against two
plans — the province's plan (every entry: the Prime Minister's plan plus the capital the province added) and the
plan assigned by the Prime Minister alone. Pure; no database.
"""

from __future__ import annotations


def rate_of_province_plan_pct(disbursed_vnd: int, plan_vnd: int) -> float:
    """Disbursed ÷ the whole plan, % with 2 decimals (0 without a plan, as `rate_pct` always was)."""
    return round(disbursed_vnd * 100 / plan_vnd, 2) if plan_vnd else 0.0


def rate_of_assigned_plan_pct(disbursed_vnd: int, plan_vnd: int, added_plan_vnd: int) -> float | None:
    """Disbursed ÷ the Prime Minister's plan (plan − added), % with 2 decimals; None when there is none (a figure
    holding only capital the province added has no rate against the Prime Minister's plan, not a rate of 0)."""
    assigned = plan_vnd - added_plan_vnd
    return round(disbursed_vnd * 100 / assigned, 2) if assigned > 0 else None
