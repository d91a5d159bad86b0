"""Demo treasury data for Vĩnh Phúc 2024 (as of 2024-10-11): contracts, advances of every kind and status,
an expired and an expiring guarantee, recovery cases at several steps, dossiers (some past SLA).

Called by app.demo.province.load as `load(session, rng, context)` before balances are rebuilt.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger.books import rebuild
from app.models import Contract, ContractBalance, Disbursement, Dossier, RecoveryCase
from app.rulesets.service import working_calendar
from app.treasury import recovery, sla
from app.treasury.sweep import sweep

TY = 1_000_000_000

# (type, value tỷ, signed, full recovery, guarantee tỷ, guarantee expiry, advances [(day, tỷ)], recovered tỷ)
ContractSpec = tuple[str, int, date, date, int, date | None, list[tuple[date, float]], float]
CONTRACTS: tuple[ContractSpec, ...] = (
    ("construction", 20, date(2024, 3, 1), date(2024, 12, 31), 4, date(2025, 3, 31), [(date(2024, 3, 10), 4)], 0),
    ("construction", 8, date(2024, 1, 5), date(2024, 4, 30), 2, date(2024, 9, 30), [(date(2024, 1, 15), 2)], 0.5),
    ("equipment", 12, date(2024, 2, 1), date(2024, 7, 15), 3, date(2024, 12, 31), [(date(2024, 2, 20), 3)], 1),
    ("consulting", 3, date(2024, 2, 1), date(2024, 9, 30), 0, None, [(date(2024, 2, 10), 0.6)], 0.6),
    ("construction", 15, date(2023, 4, 1), date(2023, 9, 30), 0, None, [(date(2023, 5, 10), 1)], 0.2),
    ("epc", 40, date(2024, 4, 1), date(2025, 6, 30), 8, date(2024, 10, 30), [(date(2024, 4, 15), 6)], 0),
)
# Non-contract advances: (kind, plan year, day, tỷ)
OTHER_ADVANCES = (
    ("site_clearance", 2024, date(2024, 5, 20), 1.5),  # R10 overdue
    ("site_clearance", 2024, date(2024, 7, 25), 0.8),  # R12 due soon
    ("other", 2024, date(2024, 2, 15), 0.4),  # R11 overdue
    ("other", 2023, date(2023, 11, 20), 0.3),  # R11 overdue, 91-180 days
)


def _stamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _vnd(tỷ: float) -> int:
    return int(round(tỷ * 1000)) * 1_000_000


async def load(session: AsyncSession, rng: random.Random, context) -> None:
    as_of: date = context.as_of
    spent_2023 = dict((await session.execute(
        select(Disbursement.project_id, func.sum(Disbursement.net_vnd)).where(Disbursement.plan_year == 2023)
        .group_by(Disbursement.project_id))).all())
    candidates = [p for p in context.projects if p.plan_2024 >= 30 * TY and p.plan_2023 > 0
                  and p.profile in ("normal", "slow")]
    rng.shuffle(candidates)
    # R1: the 2023 contract (index 4) and the 2023 other advance (index 7) need room in the 2023 plan.
    roomy = sorted((p for p in context.projects if p.plan_2024 > 0 and p.plan_2023 > 0),
                   key=lambda p: (int(spent_2023.get(p.id) or 0) - p.plan_2023, p.id))
    rest = [p for p in candidates if p not in roomy[:2]]
    chosen = rest[: len(CONTRACTS) + 2]
    chosen[4], chosen[len(CONTRACTS) + 1] = roomy[0], roomy[1]
    rows: list[dict] = []

    def ledger(p, year: int, kind: str, amount: int, recovered: int, day: date, advance_kind: str | None,
               contract_id: int | None, doc: str) -> None:
        rows.append({"project_id": p.id, "plan_year": year, **p.pool(),
                     "kind": kind, "advance_kind": advance_kind, "contract_id": contract_id, "amount_vnd": amount,
                     "advance_recovered_vnd": recovered, "net_vnd": amount - recovered, "value_date": day,
                     "document_number": doc, "reverses_id": None, "note": "demo: treasury", "known_on": day,
                     "created_at": _stamp(day)})

    now = _stamp(as_of)
    for n, (ctype, value, signed, full, guarantee, expires, advances, recovered) in enumerate(CONTRACTS):
        p = chosen[n]
        contract = Contract(project_id=p.id, number=f"{n + 1:02d}/{signed.year}/HĐ-{p.code}", contract_type=ctype,
                            contractor=f"Công ty CP Xây dựng {rng.choice(['Tam Đảo', 'Vĩnh Yên', 'Phúc Yên'])}",
                            value_vnd=value * TY, value_at_signing_vnd=value * TY, signed_on=signed,
                            full_recovery_date=full,
                            guarantee_vnd=guarantee * TY, guarantee_expires_on=expires, version=1,
                            created_at=_stamp(signed), updated_at=_stamp(signed))
        session.add(contract)
        await session.flush()
        session.add(ContractBalance(contract_id=contract.id, updated_at=now))
        for i, (day, amount) in enumerate(advances):
            ledger(p, day.year, "advance", _vnd(amount), 0, day, "contract", contract.id, f"KB-TU-{contract.id}-{i}")
        if recovered:
            day = date(2024, 6, 20) if signed.year == 2024 else date(2023, 12, 15)
            ledger(p, day.year, "payment", _vnd(recovered) * 3, _vnd(recovered), day, None, contract.id,
                   f"KB-TT-{contract.id}")
    for i, (kind, year, day, amount) in enumerate(OTHER_ADVANCES):
        p = chosen[len(CONTRACTS) + i % 2]
        ledger(p, year, "advance", _vnd(amount), 0, day, kind, None, f"KB-TU-NC-{i}")
    await session.execute(insert(Disbursement), rows)
    await rebuild(session)  # advances and contract balances from the rows above, before the sweep reads them
    # The Treasury sweeps as the year goes (here on each month's first day, then on the demo's day), so a recovery case
    # opens in the month its advance fell overdue — before the notices sent about it, never after them.
    for month in range(2, as_of.month + 1):
        await sweep(session, date(as_of.year, month, 1))
    await sweep(session, as_of)
    await _case_steps(session, as_of)
    await _dossiers(session, rng, context, as_of)


async def _case_steps(session: AsyncSession, as_of: date) -> None:
    cases = list(await session.scalars(select(RecoveryCase).order_by(RecoveryCase.id)))
    steps = [
        [{"kind": "notice_sent", "document_number": "215/TB-KBVP", "document_date": date(2024, 9, 5),
          "deadline": date(2024, 10, 5), "note": "Nhà thầu chậm tiến độ, chưa đủ khối lượng để thu hồi"}],
        [{"kind": "notice_sent", "document_number": "221/TB-KBVP", "document_date": date(2024, 9, 10),
          "deadline": date(2024, 10, 10), "note": "Vướng GPMB, hộ dân chưa nhận tiền bồi thường"},
         {"kind": "commitment", "document_number": "45/CV-BQL", "document_date": date(2024, 9, 25),
          "amount_vnd": 500_000_000, "committed_date": date(2024, 11, 30), "note": "Cam kết thu hồi trong quý IV"}],
        [{"kind": "notice_sent", "document_number": "198/TB-KBVP", "document_date": date(2024, 8, 20),
          "deadline": date(2024, 9, 20), "note": "Chủ đầu tư chưa phản hồi"},
         {"kind": "escalation", "escalation": "people_committee_report", "document_number": "230/BC-KBVP",
          "document_date": date(2024, 10, 1), "note": "Báo cáo UBND tỉnh chỉ đạo thu hồi"}],
    ]
    for case, plan in zip(cases, steps, strict=False):
        for fields in plan:
            await recovery.add_step(session, case.id, None, dict(fields), None, as_of)


async def _dossiers(session: AsyncSession, rng: random.Random, context, as_of: date) -> None:
    calendar = await working_calendar(session)
    from app.rulesets.model import ruleset_for

    pool = [p for p in context.projects if p.plan_2024 > 0]
    plan = (  # (status, submitted, completed, delay reason)
        ("paid", date(2024, 9, 23), date(2024, 9, 24), None),
        ("returned", date(2024, 9, 25), None, None),
        ("complete", date(2024, 9, 30), date(2024, 10, 1), None),  # past SLA without reason
        ("complete", date(2024, 10, 1), date(2024, 10, 2), None),  # past SLA without reason
        ("complete", date(2024, 10, 2), date(2024, 10, 3), "Chờ ý kiến chủ đầu tư về khối lượng phát sinh"),
        ("complete", date(2024, 10, 9), date(2024, 10, 10), None),  # within SLA
        ("submitted", date(2024, 10, 10), None, None),
        ("submitted", date(2024, 10, 11), None, None),
    )
    now = _stamp(as_of)
    for n, (status, submitted, completed, reason) in enumerate(plan):
        p = rng.choice(pool)
        kind = sla.DossierKind.advance if n % 3 == 0 else sla.DossierKind.payment
        due = sla.sla_due(completed, kind, ruleset_for(completed), calendar) if completed else None
        session.add(Dossier(
            project_id=p.id, kind=kind.value, plan_year=2024, **p.pool(),
            amount_vnd=rng.randint(5, 60) * 100_000_000, document_number=f"HS-2024-{n + 1:04d}", status=status,
            submitted_on=submitted, completed_on=completed, sla_due=due, delay_reason=reason,
            return_reason="Thiếu biên bản nghiệm thu khối lượng" if status == "returned" else None,
            closed_on=completed if status == "paid" else (submitted if status == "returned" else None),
            version=1, created_at=now, updated_at=now))
    await session.flush()
