"""The demo province's treasury part: every overdue rule, due soon, guarantees, cases, dossiers past SLA."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo import province
from app.kernel.db import session_scope
from app.models import RecoveryCase, RecoveryStep, SweepTransition
from app.treasury import dossiers
from app.treasury.view import OverdueFilter, overdue_snapshot


async def test_demo_treasury_covers_r9_r10_r11_r12_r6_r15_r16():
    async with session_scope() as session:
        context = await province.load(session)
    async with session_scope() as session:
        items = await overdue_snapshot(session, OverdueFilter(), context.as_of)
        assert {i.classification.rule_id for i in items} >= {"R9", "R10", "R11"}
        kinds = dict((await session.execute(select(SweepTransition.kind, func.count())
                                            .group_by(SweepTransition.kind))).all())
        assert kinds.get("due_soon", 0) >= 2 and kinds.get("guarantee_expired") == 1
        # swept monthly through the year: the guarantee that has expired was "expiring" first, the other still is
        assert kinds.get("guarantee_expiring") == 2
        states = set(await session.scalars(select(RecoveryCase.state)))
        assert {"open", "notice_sent", "committed", "escalated"} <= states
        # R16: a case opens when its advance falls overdue, before any step taken about it (never after the notice)
        first_step = dict((await session.execute(select(RecoveryStep.case_id, func.min(RecoveryStep.document_date))
                                                 .group_by(RecoveryStep.case_id))).all())
        opened = dict((await session.execute(select(RecoveryCase.id, RecoveryCase.opened_on))).all())
        assert first_step and all(opened[case] <= day for case, day in first_step.items())
        late = await dossiers.list_page(session, project_id=None, status=None,
                                        pending_without_reason_on=context.as_of, after_id=0, limit=100)
        assert len(late) == 2
        # A recovered contract advance is not listed.
        assert all(i.row.advance.outstanding_vnd > 0 for i in items)
