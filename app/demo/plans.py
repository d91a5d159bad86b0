"""The demo's plan model beyond the annual plan: R1b provenance and R1c medium-term plans (DOMAIN.md §6).

* Provenance: the 2024 plan at 30/09 is ≈ 7,895 tỷ = ≈ 7,776 assigned by the Prime Minister + 118.8 tỷ the province
  added (giao tăng). The added 118.8 tỷ is land-use revenue above the estimate, given in the second tranche (đợt 2,
  decision 1386/QĐ-UBND of 20/06/2024) to the land-use projects that received one, pro rata to what they received.
  The third tranche (đợt 3, 2378/QĐ-UBND of 08/10/2024, ≈ 1,000 tỷ of local capital) is new capital the province
  decided beyond the Prime Minister's plan: added as a whole.
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
MILLION = 1_000_000


class PlannedProject(Protocol):
    id: int
    source: str
    budget_level: str
    stage: str
    plan_2023: int
    plan_2024: int
    tranche_3: int


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


def medium_term_rows(projects: Sequence[PlannedProject]) -> list[dict[str, Any]]:
    """One initial medium-term entry per project and source for 2021–2025 (R1c)."""
    annual: dict[tuple[int, str], int] = defaultdict(int)
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
