"""The demo's plan model beyond the annual plan: R1b provenance and R1c medium-term plans (DOMAIN.md §6).

* Provenance: the 2024 plan at 30/09 is ≈ 7,895 tỷ = ≈ 7,776 assigned by the Prime Minister + 118.8 tỷ the province
  added (giao tăng). The added 118.8 tỷ is land-use revenue above the estimate, given in the second tranche (đợt 2,
  decision 1386/QĐ-UBND of 20/06/2024) to the land-use projects that received one, pro rata to what they received.
  The third tranche (đợt 3, 2378/QĐ-UBND of 08/10/2024, ≈ 1,000 tỷ of local capital) is new capital the province
  decided beyond the Prime Minister's plan: added as a whole.
* 2023's unspent plan at 31/01/2024 (nd99, R14): an ongoing project's is extended to 31/12/2024 (decision
  512/QĐ-UBND of 15/03/2024) and it spends 60% of it by September in three payments; a completed or settled
  project's lapses (hủy dự toán, 513/QĐ-UBND of the same day).
* Ứng trước (R1a, ND 254 Đ11 — its deadlines unverified, see docs/rules.md): on 02/10/2024 the province advanced
  10% of next year's plan to the three largest ongoing key projects (Appendix 2) that run ahead of schedule
  (2291/QĐ-UBND); 2025's first allocation will repay it. Decided after 30/09, so the §6 figures do not move.
* Medium-term plans 2021–2025: one ceiling per project and source, decided by the council of its budget level in
  2021 (projects new in 2024 were added to the plan in December 2023), at 5/4 of its annual plans of 2023 and 2024
  (the third tranche included), so 2025 still has headroom.
No random draws: the demo's other figures do not move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

TY = 1_000_000_000
ADDED_2024_BEFORE_TRANCHE_3 = 118_800_000_000  # DOMAIN.md §6: 7,895 ≈ 7,776 + 118.8 tỷ
SECOND_TRANCHE = "1386/QĐ-UBND"
THIRD_TRANCHE = "2378/QĐ-UBND"
EXTENDED, LAPSED, DECIDED_2023_CARRY = "512/QĐ-UBND", "513/QĐ-UBND", date(2024, 3, 15)
EXTENDED_UNTIL = date(2024, 12, 31)
EXTENDED_PAYMENTS = (date(2024, 4, 15), date(2024, 6, 14), date(2024, 8, 15))  # 20% of the extension each
NEXT_YEAR_ADVANCE, NEXT_YEAR_ADVANCE_ON = "2291/QĐ-UBND", date(2024, 10, 2)
MILLION = 1_000_000


class PlannedProject(Protocol):
    id: int
    profile: str
    watch_lists: tuple[str, ...]
    source: str
    budget_level: str
    stage: str
    plan_2023: int
    plan_2024: int
    tranche_3: int

    def pool(self) -> dict[str, Any]: ...


def mark_added(rows: list[dict[str, Any]]) -> None:
    """Set `added_vnd` on the demo's allocation rows (R1b), in place."""
    for row in rows:
        row["added_vnd"] = row["amount_vnd"] if row["decision_number"] == THIRD_TRANCHE else 0
    land_use = sorted((r for r in rows if r["decision_number"] == SECOND_TRANCHE and r["capital_source"] == "land_use"),
                      key=lambda r: r["project_id"])
    total = sum(r["amount_vnd"] for r in land_use)
    if total < ADDED_2024_BEFORE_TRANCHE_3:
        raise RuntimeError(f"the second tranche of land-use capital ({total:,}) cannot hold the added 118.8 tỷ")
    left = ADDED_2024_BEFORE_TRANCHE_3
    for row in land_use:
        row["added_vnd"] = ADDED_2024_BEFORE_TRANCHE_3 * row["amount_vnd"] // total // MILLION * MILLION
        left -= row["added_vnd"]
    for row in land_use:  # the rounding remainder, whole millions first in project order
        extra = min(left, row["amount_vnd"] - row["added_vnd"])
        row["added_vnd"] += extra
        left -= extra
    assert left == 0


def medium_term_rows(projects: Sequence[PlannedProject], advances: Sequence[dict[str, Any]] = ()
                     ) -> list[dict[str, Any]]:
    """One initial medium-term entry per project and source for 2021–2025 (R1c), ứng trước included."""
    annual: dict[tuple[int, str], int] = defaultdict(int)
    for row in advances:
        annual[(row["project_id"], row["capital_source"])] += row["amount_vnd"]
    new: dict[tuple[int, str], bool] = {}
    level: dict[tuple[int, str], str] = {}
    for p in projects:
        key = (p.id, p.source)
        annual[key] += p.plan_2023 + p.plan_2024
        new[key], level[key] = p.stage == "new", p.budget_level
        # đợt 3 is local capital in a provincial pool, never central budget (DemoProject.tranche_pool)
        tranche = (p.id, "local_balanced" if p.source == "central" else p.source)
        annual[tranche] += p.tranche_3
        new.setdefault(tranche, p.stage == "new")
        level.setdefault(tranche, "province")
    rows = []
    for (project_id, source), amount in sorted(annual.items()):
        if amount <= 0:
            continue
        decided = date(2023, 12, 8) if new[(project_id, source)] else date(2021, 8, 20)
        province = level[(project_id, source)] == "province" or source == "central"
        rows.append({
            "project_id": project_id, "period_start": 2021, "capital_source": source, "kind": "initial",
            "amount_vnd": amount * 5 // 4 // MILLION * MILLION,
            "decision_number": ("112/NQ-HĐND" if decided.year == 2023 else "31/NQ-HĐND") if province else
            ("58/NQ-HĐND" if decided.year == 2023 else "15/NQ-HĐND"),
            "decision_date": decided, "authority": "HĐND tỉnh Vĩnh Phúc" if province else "HĐND cấp huyện",
            "note": None, "known_on": decided, "created_at": datetime(decided.year, decided.month, decided.day, 3,
                                                                        tzinfo=UTC),
        })
    return rows


def _stamp(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def _entry(p: PlannedProject, year: int, kind: str, amount: int, number: str, decided: date,
           extended_until: date | None = None) -> dict[str, Any]:
    return {"project_id": p.id, "plan_year": year, **p.pool(), "kind": kind, "amount_vnd": amount, "tranche": None,
            "decision_number": number, "decision_date": decided, "authority": "UBND tỉnh Vĩnh Phúc",
            "extended_until": extended_until, "known_on": decided, "created_at": _stamp(decided), "added_vnd": 0}


def carry_over_rows(projects: Sequence[PlannedProject], spent: dict[int, int]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """2023's unspent plan after its deadline (R14): extended for ongoing projects, lapsed for the others; and the
    payments of extended capital in 2024. `spent`: each project's 2023 disbursement (its one 2023 pool) by
    31/01/2024. Returns (allocation rows, disbursement rows)."""
    entries: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    for p in projects:
        unspent = p.plan_2023 - spent.get(p.id, 0)
        if p.plan_2023 <= 0 or unspent < MILLION:
            continue
        if p.stage != "ongoing":
            entries.append(_entry(p, 2023, "lapse", -unspent, LAPSED, DECIDED_2023_CARRY))  # stored as the plan change
            continue
        extended = unspent // MILLION * MILLION
        entries.append(_entry(p, 2023, "extension", extended, EXTENDED, DECIDED_2023_CARRY, EXTENDED_UNTIL))
        if unspent > extended:
            entries.append(_entry(p, 2023, "lapse", extended - unspent, LAPSED, DECIDED_2023_CARRY))
        share = extended // 5 // MILLION * MILLION
        for n, day in enumerate(EXTENDED_PAYMENTS, start=1):
            if share <= 0:
                break
            payments.append({
                "project_id": p.id, "plan_year": 2023, **p.pool(), "kind": "payment", "advance_kind": None,
                "contract_id": None, "amount_vnd": share, "advance_recovered_vnd": 0, "net_vnd": share,
                "value_date": day, "document_number": f"KB-VP-2023KD-{p.id:04d}-{n:03d}", "reverses_id": None,
                "note": "Vốn năm 2023 kéo dài sang năm 2024", "known_on": day, "created_at": _stamp(day)})
    return entries, payments


def next_year_advance_rows(projects: Sequence[PlannedProject]) -> list[dict[str, Any]]:
    """R1a: 10% of next year's plan advanced in 2024 to the three largest ongoing key projects running ahead."""
    chosen = sorted((p for p in projects if "app2" in p.watch_lists and p.stage == "ongoing" and p.profile == "fast"
                     and p.source != "central" and p.plan_2024 > 0), key=lambda p: (-p.plan_2024, p.id))[:3]
    rows = [_entry(p, 2024, "next_year_advance", p.plan_2024 // 10 // TY * TY or TY, NEXT_YEAR_ADVANCE,
                   NEXT_YEAR_ADVANCE_ON) for p in chosen]
    for row in rows:  # R1b: the province's own decision beyond this year's Prime Minister's plan
        row["added_vnd"] = row["amount_vnd"]
    return rows
