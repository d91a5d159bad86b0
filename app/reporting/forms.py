"""R20: the monthly forms 01a–01d of Circular TT 37/2025 (plan years from 2025) and the quarterly advance summary
08.b, as data. docs/report-forms.md says what the circular's text established and what is our reading.

Every figure comes from the one computation that already exists: the monthly report (`reports.monthly`, per
capital source or per project and source) and the quarterly advance report (`advance_report.build`, advances
outstanding on the quarter's last day through `books.advances_outstanding_on`). This module only regroups them,
adds the extended capital as of the end of last month (the monthly report of that day) and the R1b rates
(`ledger.rates`).

* 01a / 01b: this year's plan and the plans of earlier years extended into it, per capital source (01a) or per
  project and source (01b): actual to the end of last month, estimate to the end of this month, both R1b rates.
* 01c / 01d: the same year's plan with capital advanced from next year's plan (ứng trước, R1a) shown apart: how
  much, how much next year's plan has repaid, what is left, and what this year's plan repaid of last year's.
* 08.b: the quarterly advance report per investor (08.a is per project).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import rates
from app.models import Project
from app.reporting import advance_report, reports


class MonthlyForm(StrEnum):
    """TT 37/2025 monthly forms (our reading of their split, docs/report-forms.md)."""

    f01a = "01a"  # tổng hợp theo nguồn vốn: kế hoạch năm và kế hoạch các năm trước kéo dài
    f01b = "01b"  # chi tiết theo dự án: the same
    f01c = "01c"  # tổng hợp theo nguồn vốn, có vốn ứng trước kế hoạch năm sau (R1a)
    f01d = "01d"  # chi tiết theo dự án: the same


class AdvanceForm(StrEnum):
    """Quarterly advance report forms: 08.a per project, 08.b per investor."""

    f08a = "08a"
    f08b = "08b"


DETAILED = frozenset({MonthlyForm.f01b, MonthlyForm.f01d})
WITH_NEXT_YEAR_ADVANCE = frozenset({MonthlyForm.f01c, MonthlyForm.f01d})
FIGURES = ("plan_vnd", "assigned_plan_vnd", "added_plan_vnd", "actual_to_last_month_vnd", "estimate_to_month_end_vnd",
           "extended_plan_vnd", "extended_to_last_month_vnd", "extended_estimate_vnd", "next_year_advance_vnd",
           "next_year_advance_repaid_vnd", "next_year_advance_unrepaid_vnd", "advance_repayment_vnd")


def _figures(now: dict, before: dict | None) -> dict:
    """One row of a form from the monthly report's row of the report date (`now`) and that of the end of last month
    (`before`, for the extended capital disbursed by then)."""
    out = {
        "plan_vnd": now["plan_vnd"], "assigned_plan_vnd": now["assigned_plan_vnd"],
        "added_plan_vnd": now["plan_vnd"] - now["assigned_plan_vnd"],
        "actual_to_last_month_vnd": now["actual_to_last_month_vnd"],
        "estimate_to_month_end_vnd": now["estimate_to_month_end_vnd"],
        "extended_plan_vnd": now["extended_plan_vnd"],
        "extended_to_last_month_vnd": before["extended_disbursed_vnd"] if before else 0,
        # no forecast exists for extended capital: its estimate is what is disbursed by the report date
        "extended_estimate_vnd": now["extended_disbursed_vnd"],
        "next_year_advance_vnd": now["next_year_advance_vnd"],
        "next_year_advance_repaid_vnd": now["next_year_advance_repaid_vnd"],
        "next_year_advance_unrepaid_vnd": now["next_year_advance_vnd"] - now["next_year_advance_repaid_vnd"],
        "advance_repayment_vnd": now["advance_repayment_vnd"],
    }
    return _with_rates(out)


def _with_rates(r: dict) -> dict:
    """R1b: both rates of the actual to last month and of the estimate; one rate of the extended capital."""
    for rate, amount in (("rate_to_last_month", "actual_to_last_month_vnd"),
                         ("estimate_rate", "estimate_to_month_end_vnd")):
        r[f"{rate}_pct"] = rates.rate_of_province_plan_pct(r[amount], r["plan_vnd"])
        r[f"{rate}_of_assigned_plan_pct"] = rates.rate_of_assigned_plan_pct(r[amount], r["plan_vnd"],
                                                                            r["added_plan_vnd"])
    r["extended_estimate_rate_pct"] = rates.rate_of_province_plan_pct(r["extended_estimate_vnd"],
                                                                       r["extended_plan_vnd"])
    return r


async def monthly_form(session: AsyncSession, form: MonthlyForm, plan_year: int, as_of: date) -> dict:
    """Form `form` of plan year `plan_year` on `as_of`, every figure as known on that day."""
    detailed = form in DETAILED
    now = await reports.monthly(session, plan_year, as_of, by_project=detailed)
    before = await reports.monthly(session, plan_year, date.fromisoformat(now["last_month_end"]), by_project=detailed,
                                   known_on=as_of)

    def key(r: dict) -> tuple[int, str]:
        return r.get("project_id", 0), r["capital_source"]

    earlier = {key(r): r for r in before["rows"]}
    projects: dict[int, Project] = {}
    if detailed:
        ids = sorted({r["project_id"] for r in now["rows"]})
        projects = {p.id: p for p in await session.scalars(select(Project).where(Project.id.in_(ids)))} if ids else {}
    rows = []
    for r in now["rows"]:
        head = {"capital_source": r["capital_source"], "project_id": None, "project_code": None, "project_name": None}
        if detailed:
            p = projects[r["project_id"]]
            head |= {"project_id": p.id, "project_code": p.code, "project_name": p.name}
        rows.append(head | _figures(r, earlier.get(key(r))))
    rows.sort(key=lambda r: (r["project_code"] or "", r["capital_source"]))
    total = _with_rates({k: sum(r[k] for r in rows) for k in FIGURES})
    return {"form": form.value, "plan_year": plan_year, "as_of": now["as_of"], "last_month_end": now["last_month_end"],
            "rows": rows, "total": total}


ADVANCE_AMOUNTS = ("outstanding_vnd", "overdue_vnd", "due_soon_vnd")


async def advance_summary(session: AsyncSession, year: int, quarter: int, today: date) -> dict:
    """Form 08.b (our reading): the quarterly advance report (`advance_report.build`) per investor."""
    report = await advance_report.build(session, year, quarter, today)
    by_investor: dict[int, dict] = {}
    for i in report["items"]:
        row = by_investor.setdefault(i["investor_id"], {
            "investor_id": i["investor_id"], "investor_name": i["investor_name"], "projects": 0,
            **dict.fromkeys(ADVANCE_AMOUNTS, 0), "overdue_by_rule_vnd": {"R9": 0, "R10": 0, "R11": 0},
            "reasons": [], "remedies": []})
        row["projects"] += 1
        for k in ADVANCE_AMOUNTS:
            row[k] += i[k]
        for rule, amount in i["overdue_by_rule_vnd"].items():
            row["overdue_by_rule_vnd"][rule] += amount
        row["reasons"] += [x for x in i["reasons"] if x not in row["reasons"]]
        row["remedies"] += [x for x in i["remedies"] if x not in row["remedies"]]
    items = sorted(by_investor.values(), key=lambda r: r["investor_name"])
    for row in items:
        row["overdue_share_pct"] = _share(row["overdue_vnd"], row["outstanding_vnd"])
    totals = dict(report["totals"])
    return {"form": AdvanceForm.f08b.value, "year": year, "quarter": quarter, "as_of": report["as_of"],
            "rule_set": report["rule_set"], "items": items, "totals": totals,
            "overdue_share_pct": _share(totals["overdue_vnd"], totals["outstanding_vnd"])}


def _share(part_vnd: int, whole_vnd: int) -> float:
    """Overdue ÷ outstanding, % with 2 decimals (0 with nothing outstanding). Not a plan rate (R1b)."""
    return round(part_vnd * 100 / whole_vnd, 2) if whole_vnd else 0.0
