"""R1b provenance and R1c medium-term ceilings in the pure posting decision, the two rates and the optimiser's
capacity. No database, no HTTP; figures by hand (B = 1 tỷ)."""

from __future__ import annotations

from datetime import date

from app.enums import AllocationKind, BudgetLevel, CapitalSource, MediumTermKind, ProjectStatus
from app.ledger.fold import AllocationInput, PoolKey, PoolState, ProjectState
from app.ledger.medium_term_rules import MediumTermInput, MediumTermKey, MediumTermState, period_label, period_of
from app.ledger.posting_rules import ProjectFacts, decide_allocation, decide_medium_term
from app.ledger.rates import rate_of_assigned_plan_pct, rate_of_province_plan_pct
from app.reallocation.optimiser import CapitalPool, Priority, Recipient, recipient_capacity_vnd
from app.rulesets.model import DEFAULT_RULE_SETS

B = 1_000_000_000
TODAY = date(2024, 10, 11)
SOURCE = CapitalSource.local_balanced
KEY = PoolKey(1, 2024, SOURCE, BudgetLevel.province, 1)
PROJECT = ProjectFacts(1, "P-1", ProjectStatus.active, 500 * B, 1)


def _entry(kind: AllocationKind, amount: int, added: int = 0) -> AllocationInput:
    return AllocationInput(1, 2024, SOURCE, KEY.budget_level, kind, amount, "01/QĐ-UBND", date(2024, 6, 1), "UBND",
                           added_vnd=added)


def _decide(entry: AllocationInput, pool: PoolState, ceiling: int | None, annual: int):
    state = MediumTermState(MediumTermKey(1, 2021, SOURCE), ceiling, annual)
    return decide_allocation(entry, PROJECT, pool, ProjectState(1, pool.plan_vnd), state, TODAY, DEFAULT_RULE_SETS)


def test_r1c_periods_are_five_plan_years_from_2021():
    assert [period_of(y) for y in (2016, 2020, 2021, 2024, 2025, 2026, 2030, 2031)] == [
        2016, 2016, 2021, 2021, 2021, 2026, 2026, 2031]
    assert period_label(2026) == "2026-2030"


def test_r1b_two_rates_of_one_disbursed_figure():
    # 65 disbursed; plan 110 of which 30 added → 80 of the Prime Minister's
    assert rate_of_province_plan_pct(65 * B, 110 * B) == 59.09  # 59.0909…
    assert rate_of_assigned_plan_pct(65 * B, 110 * B, 30 * B) == 81.25
    assert rate_of_assigned_plan_pct(5 * B, 10 * B, 10 * B) is None  # only added capital: no such rate
    assert rate_of_province_plan_pct(0, 0) == 0.0


def test_r1c_the_ceiling_is_checked_on_increases_only_with_the_headroom():
    pool = PoolState(1, KEY, plan_vnd=70 * B)
    # ceiling 150, annual plans 130: 20 of headroom
    error = _decide(_entry(AllocationKind.supplement, 25 * B), pool, 150 * B, 130 * B)
    assert error is not None and error.code == "medium_term_ceiling_exceeded"
    assert (error.numbers["remaining_vnd"], error.numbers["period"]) == (20 * B, "2021-2025")
    assert _decide(_entry(AllocationKind.supplement, 20 * B), pool, 150 * B, 130 * B) is None
    missing = _decide(_entry(AllocationKind.initial, 1 * B), pool, None, 0)
    assert missing is not None and missing.code == "medium_term_plan_missing"
    # a decrease needs no medium-term plan and no headroom (here even a ceiling already exceeded)
    assert _decide(_entry(AllocationKind.adjustment_out, 10 * B), pool, None, 70 * B) is None
    assert _decide(_entry(AllocationKind.lapse, 10 * B), pool, 50 * B, 70 * B) is None


def test_r1b_a_decrease_takes_each_provenance_from_what_the_pool_holds():
    pool = PoolState(1, KEY, plan_vnd=100 * B, added_plan_vnd=20 * B)  # 80 of the Prime Minister's + 20 added
    refused = _decide(_entry(AllocationKind.adjustment_out, 90 * B), pool, 500 * B, 100 * B)
    # 90 all from the Prime Minister's 80: no; it must take 10..20 of the added part
    assert refused is not None and refused.code == "provenance_plan_exceeded"
    assert (refused.numbers["allowed_min_added_vnd"], refused.numbers["allowed_max_added_vnd"]) == (10 * B, 20 * B)
    assert _decide(_entry(AllocationKind.adjustment_out, 90 * B, 10 * B), pool, 500 * B, 100 * B) is None
    over = _decide(_entry(AllocationKind.supplement, 5 * B, 6 * B), pool, 500 * B, 100 * B)
    assert over is not None and over.code == "added_exceeds_amount"


def test_r1c_a_ceiling_decision_never_goes_below_the_annual_plans():
    state = MediumTermState(MediumTermKey(1, 2021, SOURCE), 100 * B, 90 * B)

    def entry(kind: MediumTermKind, amount: int) -> MediumTermInput:
        return MediumTermInput(1, 2021, SOURCE, kind, amount, "45/NQ-HĐND", date(2024, 7, 10), "HĐND tỉnh")

    cut = decide_medium_term(entry(MediumTermKind.adjustment_out, 11 * B), state, TODAY)
    assert cut is not None and (cut.code, cut.numbers["remaining_vnd"]) == ("medium_term_below_annual_plans", 10 * B)
    assert decide_medium_term(entry(MediumTermKind.adjustment_out, 10 * B), state, TODAY) is None
    twice = decide_medium_term(entry(MediumTermKind.initial, 1 * B), state, TODAY)
    assert twice is not None and twice.code == "medium_term_plan_exists"


def test_r1c_medium_term_headroom_caps_a_recipient():
    pool = CapitalPool("local_balanced", "province", 2024, 1)
    # need 30, TMĐT headroom 400, pace 50, medium-term headroom 7 → 7, limited by the medium-term plan
    r = Recipient(1, pool, 50 * B, 30 * B, 400 * B, 50 * B, Priority.completed, medium_term_headroom_vnd=7 * B)
    assert recipient_capacity_vnd(r) == (7 * B, "medium_term_headroom")
    # outside the medium-term plan: headroom 0, nothing can be given
    assert recipient_capacity_vnd(Recipient(1, pool, 50 * B, 30 * B, 400 * B, 50 * B, Priority.completed,
                                            medium_term_headroom_vnd=0)) == (0, "medium_term_headroom")
