"""Quarterly advance report (báo cáo tình hình tạm ứng, form 08.a shape), R20.

Per investor and project: outstanding advances, overdue balances by rule (R9–R11), reasons and remedies
from the recovery cases (R16). Classified on the quarter's last day (or today, for the current quarter).
Balances are those of the quarter's last day as the ledger knew them then (`view.outstanding_advances` with
`as_of`): a recovery recorded after the quarter end does not change a past report.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Organisation, Project, RecoveryCase, RecoveryStep
from app.registry import investors
from app.rulesets.model import ruleset_for
from app.rulesets.service import effective_rule_sets
from app.treasury import overdue
from app.treasury.view import outstanding_advances

REMEDY_VI = {"open": "Chưa gửi thông báo thu hồi", "notice_sent": "Đã gửi thông báo thu hồi",
             "committed": "Chủ đầu tư cam kết thu hồi",
             "escalated": "Đã báo cáo / xử lý theo bảo lãnh, trích tài khoản",
             "closed": "Đã thu hồi hết"}


def quarter_end(year: int, quarter: int) -> date:
    return date(year, 12, 31) if quarter == 4 else date(year, quarter * 3 + 1, 1) - timedelta(days=1)


async def build(session: AsyncSession, year: int, quarter: int, today: date) -> dict:
    as_of = min(quarter_end(year, quarter), today)
    rule_sets = await effective_rule_sets(session)
    rule_set = ruleset_for(as_of, rule_sets)  # the report date's rule set, named in the header
    rows = await outstanding_advances(session, as_of=as_of)
    project_ids = sorted({r.advance.project_id for r in rows})
    projects = {p.id: p for p in await session.scalars(select(Project).where(Project.id.in_(project_ids)))}
    investor_of = await investors.investors_on(session, as_of)  # the investor of the report's day
    investor_ids = sorted({investor_of[pid] for pid in projects})
    names = dict((await session.execute(select(Organisation.id, Organisation.name)
                                        .where(Organisation.id.in_(investor_ids)))).all())
    cases = {c.advance_id: c for c in await session.scalars(
        select(RecoveryCase).where(RecoveryCase.advance_id.in_([r.advance.id for r in rows])))}
    notes: dict[int, list[str]] = {}
    for step in await session.scalars(select(RecoveryStep).where(RecoveryStep.case_id.in_(
            [c.id for c in cases.values()])).order_by(RecoveryStep.id)):
        if step.note:
            notes.setdefault(step.case_id, []).append(step.note)
    by_project: dict[int, dict] = {}
    for r in rows:
        c = overdue.classify_on(r.facts, as_of, rule_sets)  # R9: each advance under its own date's rule set
        p = projects[r.advance.project_id]
        item = by_project.setdefault(p.id, {
            "investor_id": investor_of[p.id], "investor_name": names.get(investor_of[p.id], ""), "project_id": p.id,
            "project_code": p.code, "project_name": p.name, "outstanding_vnd": 0, "overdue_vnd": 0,
            "overdue_by_rule_vnd": {"R9": 0, "R10": 0, "R11": 0}, "due_soon_vnd": 0, "reasons": [],
            "remedies": []})
        item["outstanding_vnd"] += r.outstanding_vnd
        if c.status is overdue.AdvanceStatus.overdue:
            item["overdue_vnd"] += c.overdue_vnd
            item["overdue_by_rule_vnd"][c.rule_id] += c.overdue_vnd
        elif c.status is overdue.AdvanceStatus.due_soon:
            item["due_soon_vnd"] += r.outstanding_vnd
        case = cases.get(r.advance.id)
        if case is not None:
            item["reasons"].extend(n for n in notes.get(case.id, []) if n not in item["reasons"])
            remedy = REMEDY_VI[case.state]
            if remedy not in item["remedies"]:
                item["remedies"].append(remedy)
    items = sorted(by_project.values(), key=lambda i: (i["investor_name"], i["project_code"]))
    totals = {k: sum(i[k] for i in items) for k in ("outstanding_vnd", "overdue_vnd", "due_soon_vnd")}
    return {"year": year, "quarter": quarter, "as_of": as_of, "rule_set": rule_set.code, "items": items,
            "totals": totals}
