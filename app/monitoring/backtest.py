"""Backtest of the R17 forecast: replay a finished plan year as known on 30/06 and 30/09, compare with 31/01.

For each project with a plan, the forecast made with the ledger as known on the cut-off date is compared
with the rate actually reached at the deadline (31/01 of Y+1, as known then); the error is in percentage
points of the plan (forecast rate − actual rate). Cohorts: all projects, by stage and by sector; the
province line compares Σ forecast ÷ Σ plan with Σ actual ÷ Σ plan. The R18 `at_risk` flag raised on the cut-off
is scored against the projects that really ended below the 95% target: precision (flagged that did end below) and
recall (ended below that were flagged).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.monitoring.forecast import PROVINCE_TARGET, deadline_for
from app.monitoring.indicators import build_snapshot
from app.monitoring.summaries import project_attrs


async def backtest(session: AsyncSession, plan_year: int) -> dict:
    deadline = deadline_for(plan_year)
    actual = await build_snapshot(session, plan_year, deadline)
    attrs = await project_attrs(session, deadline)
    result: dict = {"plan_year": plan_year, "deadline": deadline.isoformat(), "cutoffs": []}
    for cutoff in (date(plan_year, 6, 30), date(plan_year, 9, 30)):
        snap = await build_snapshot(session, plan_year, cutoff)
        errors: dict[str, list[float]] = defaultdict(list)
        plan_sum = fc_sum = act_sum = 0
        flagged: set[int] = set()
        below: set[int] = set()
        for pid, final in actual.projects.items():
            st = snap.projects.get(pid)
            plan = final.plan_vnd
            if plan <= 0 or st is None or pid not in attrs:
                continue
            # why: the plan can change after the cut-off; both rates are taken on the final plan
            err = (st.forecast_vnd - final.disbursed_vnd) * 100 / plan
            a = attrs[pid]
            for cohort in ("all", f"stage:{a.stage}", f"sector:{a.sector}"):
                errors[cohort].append(abs(err))
            plan_sum, fc_sum, act_sum = plan_sum + plan, fc_sum + st.forecast_vnd, act_sum + final.disbursed_vnd
            if any(f.code == "at_risk" for f in st.flags):
                flagged.add(pid)
            if final.disbursed_vnd < PROVINCE_TARGET * plan:
                below.add(pid)
        result["cutoffs"].append(
            {
                "as_of": cutoff.isoformat(),
                "province_forecast_rate_pct": round(fc_sum * 100 / plan_sum, 2) if plan_sum else 0.0,
                "province_actual_rate_pct": round(act_sum * 100 / plan_sum, 2) if plan_sum else 0.0,
                "at_risk": {"flagged": len(flagged), "ended_below_target": len(below),
                            "precision": round(len(flagged & below) / len(flagged), 3) if flagged else None,
                            "recall": round(len(flagged & below) / len(below), 3) if below else None},
                "cohorts": {
                    k: {"projects": len(v), "mae_pp": round(sum(v) / len(v), 2)} for k, v in sorted(errors.items())
                },
            }
        )
    return result
