"""Overdue advances and guarantees: R6, R9–R12 (pure, no database)."""

from dataclasses import replace
from datetime import date

import pytest

from app.enums import AdvanceKind
from app.rulesets.model import ND99, ND254
from app.treasury.overdue import (
    AdvanceFacts,
    AdvanceStatus,
    GuaranteeStatus,
    age_bucket,
    classify,
    classify_on,
    first_overdue_day,
    guarantee_shortfall_vnd,
    guarantee_status,
    overdue_date,
    site_clearance_settle_by,
)

TY = 1_000_000_000  # 1 tỷ đồng
RULE_SETS = (ND99, ND254)


def contract(full_recovery: date | None = date(2025, 3, 31), outstanding: int = 2 * TY, **kw) -> AdvanceFacts:
    kw.setdefault("advanced_vnd", max(outstanding, 2 * TY))
    return AdvanceFacts(
        AdvanceKind.contract,
        date(2024, 6, 1),
        outstanding_vnd=outstanding,
        full_recovery_date=full_recovery,
        **kw,
    )


def site_clearance(advanced_on: date = date(2025, 5, 31), outstanding: int = TY, **kw) -> AdvanceFacts:
    return AdvanceFacts(
        AdvanceKind.site_clearance, advanced_on, advanced_vnd=TY, outstanding_vnd=outstanding, **kw
    )


def other(advanced_on: date = date(2025, 3, 31), outstanding: int = TY, **kw) -> AdvanceFacts:
    return AdvanceFacts(AdvanceKind.other, advanced_on, advanced_vnd=TY, outstanding_vnd=outstanding, **kw)


# --- R9 contract advances -------------------------------------------------------------------------


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r9_contract_advance_not_overdue_exactly_three_months_after_full_recovery_date(rule_set):
    facts = contract(date(2025, 3, 31))
    assert overdue_date(facts, rule_set) == date(2025, 6, 30)
    result = classify(facts, date(2025, 6, 30), rule_set)
    assert result.status is AdvanceStatus.due_soon
    assert result.days_overdue == 0
    assert result.days_to_overdue == 1
    assert result.rule_id == "R9"


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r9_contract_advance_overdue_the_day_after_three_months(rule_set):
    result = classify(contract(date(2025, 3, 31)), date(2025, 7, 1), rule_set)
    assert result.status is AdvanceStatus.overdue
    assert result.days_overdue == 1
    assert result.overdue_vnd == 2 * TY
    assert first_overdue_day(contract(date(2025, 3, 31)), rule_set) == date(2025, 7, 1)


def test_r9_month_end_clamping_30_november_plus_three_months_is_end_of_february():
    assert overdue_date(contract(date(2024, 11, 30)), ND99) == date(2025, 2, 28)
    assert overdue_date(contract(date(2023, 11, 30)), ND99) == date(2024, 2, 29)
    assert classify(contract(date(2024, 11, 30)), date(2025, 2, 28), ND99).status is AdvanceStatus.due_soon
    assert classify(contract(date(2024, 11, 30)), date(2025, 3, 1), ND99).status is AdvanceStatus.overdue


def test_r9_without_full_recovery_date_is_never_overdue_by_time():
    result = classify(contract(None), date(2030, 1, 1), ND254)
    assert result.status is AdvanceStatus.current
    assert result.overdue_date is None
    assert first_overdue_day(contract(None), ND254) is None


def test_r9_treasury_marks_misuse_overdue_before_the_deadline():
    facts = contract(date(2026, 3, 31), marked_misuse=True, marked_misuse_on=date(2025, 10, 1))
    result = classify(facts, date(2025, 10, 11), ND254)
    assert result.status is AdvanceStatus.overdue
    assert result.misuse
    assert result.days_overdue == 10
    assert result.overdue_vnd == 2 * TY


def test_r9_misuse_marking_dated_in_the_future_does_not_apply_yet():
    facts = contract(date(2026, 3, 31), marked_misuse=True, marked_misuse_on=date(2025, 10, 1))
    assert classify(facts, date(2025, 9, 30), ND99).status is AdvanceStatus.current


def test_r9_misuse_after_the_deadline_counts_from_the_deadline():
    facts = contract(date(2025, 3, 31), marked_misuse=True, marked_misuse_on=date(2025, 8, 1))
    assert classify(facts, date(2025, 8, 11), ND99).days_overdue == 42


def test_r9_recovered_advance_is_recovered_even_after_the_deadline():
    result = classify(contract(outstanding=0), date(2026, 1, 1), ND254)
    assert result.status is AdvanceStatus.recovered
    assert result.overdue_vnd == 0


# --- R10 site clearance ---------------------------------------------------------------------------


def test_r10_site_clearance_overdue_three_months_after_the_advance():
    facts = site_clearance(date(2025, 5, 31))
    assert overdue_date(facts, ND99) == date(2025, 8, 31)
    assert classify(facts, date(2025, 8, 31), ND99).status is AdvanceStatus.due_soon
    result = classify(facts, date(2025, 9, 1), ND99)
    assert result.status is AdvanceStatus.overdue
    assert result.rule_id == "R10"


def test_r10_money_held_for_disputing_owners_is_not_overdue():
    facts = site_clearance(outstanding=TY, held_for_disputes_vnd=300_000_000)
    result = classify(facts, date(2025, 12, 1), ND254)
    assert result.status is AdvanceStatus.overdue
    assert result.overdue_vnd == 700_000_000


def test_r10_only_held_money_left_is_not_overdue():
    facts = site_clearance(outstanding=300_000_000, held_for_disputes_vnd=300_000_000)
    result = classify(facts, date(2025, 12, 1), ND254)
    assert result.status is AdvanceStatus.current
    assert result.overdue_vnd == 0


def test_r10_expected_settlement_within_30_days():
    assert site_clearance_settle_by(site_clearance(date(2025, 5, 31)), ND99) == date(2025, 6, 30)


def test_r10_held_money_is_refused_on_other_kinds():
    with pytest.raises(ValueError, match="R10"):
        other(held_for_disputes_vnd=1)


# --- R11 other non-contract advances --------------------------------------------------------------


def test_r11_other_advance_overdue_six_months_after_the_advance():
    facts = other(date(2025, 3, 31))
    assert overdue_date(facts, ND99) == date(2025, 9, 30)
    assert classify(facts, date(2025, 9, 30), ND254).status is AdvanceStatus.due_soon
    result = classify(facts, date(2025, 10, 1), ND254)
    assert result.status is AdvanceStatus.overdue
    assert result.rule_id == "R11"


def test_r11_extension_moves_the_deadline():
    facts = other(date(2025, 3, 31), extended_until=date(2025, 12, 31))
    assert overdue_date(facts, ND254) == date(2025, 12, 31)
    assert classify(facts, date(2025, 10, 15), ND254).status is AdvanceStatus.current


def test_r11_extension_earlier_than_six_months_never_shortens_the_deadline():
    facts = other(date(2025, 3, 31), extended_until=date(2025, 5, 1))
    assert overdue_date(facts, ND254) == date(2025, 9, 30)


def test_r11_extension_is_refused_on_contract_advances():
    with pytest.raises(ValueError, match="R11"):
        contract(extended_until=date(2026, 1, 1))


# --- R12 due soon ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "status", "days_to"),
    [
        (date(2025, 5, 31), AdvanceStatus.current, 31),  # 31 days before the first overdue day
        (date(2025, 6, 1), AdvanceStatus.due_soon, 30),  # 30 days before: due soon
        (date(2025, 6, 30), AdvanceStatus.due_soon, 1),  # the deadline itself
    ],
)
def test_r12_due_soon_within_30_days_of_becoming_overdue(as_of, status, days_to):
    result = classify(contract(date(2025, 3, 31)), as_of, ND99)
    assert result.status is status
    assert result.days_to_overdue == days_to


def test_r12_due_soon_window_comes_from_the_rule_set():
    short = replace(ND254, due_soon_days=10)
    assert classify(contract(date(2025, 3, 31)), date(2025, 6, 1), short).status is AdvanceStatus.current


# --- R9: the rule set is the one in force on the advance's own date, never the question's ----------------


def test_r9_rule_set_is_chosen_by_the_advance_date_not_the_question_date():
    before = replace(contract(date(2025, 8, 31)), advanced_on=date(2025, 9, 25))  # deadline 30/11/2025
    after = replace(before, advanced_on=date(2025, 9, 26))
    for asked in (date(2025, 9, 26), date(2025, 12, 15), date(2027, 1, 1)):
        assert classify_on(before, asked).rule_set_code == "nd99"
        assert classify_on(after, asked).rule_set_code == "nd254"


def test_r9_a_later_rule_set_change_does_not_move_an_old_advance():
    # Computed by hand: contract advance of 01/06/2024, full recovery 31/03/2025; nd99 (3 months) → overdue from
    # 01/07/2025. A later rule set with 6 months (as an override of nd254 might say) must not move it.
    old, new = ND99, replace(ND254, overdue_contract_months=6)
    facts = contract(date(2025, 3, 31))
    asked = date(2025, 10, 3)
    result = classify_on(facts, asked, (old, new))
    assert result.rule_set_code == "nd99" and result.status is AdvanceStatus.overdue
    assert result.overdue_date == date(2025, 6, 30) and result.days_overdue == (asked - date(2025, 6, 30)).days


def test_rule_set_overdue_months_are_data():
    longer = replace(ND254, overdue_contract_months=6)
    assert overdue_date(contract(date(2025, 3, 31)), longer) == date(2025, 9, 30)


# --- R6 guarantee status --------------------------------------------------------------------------


def guaranteed(
    amount: int, expires: date | None, outstanding: int = 2 * TY, advanced: int = 2 * TY
) -> AdvanceFacts:
    return contract(
        outstanding=outstanding, advanced_vnd=advanced, guarantee_vnd=amount, guarantee_expires_on=expires
    )


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r6_guarantee_covering_the_outstanding_is_covered(rule_set):
    assert guarantee_status(guaranteed(2 * TY, date(2026, 12, 31)), date(2025, 10, 1), rule_set) == "covered"


def test_r6_guarantee_below_outstanding_is_insufficient():
    facts = guaranteed(TY, date(2026, 12, 31))
    assert guarantee_status(facts, date(2025, 10, 1), ND254) is GuaranteeStatus.insufficient
    assert guarantee_shortfall_vnd(facts) == TY


def test_r6_no_guarantee_over_the_threshold_is_insufficient():
    assert guarantee_status(guaranteed(0, None), date(2025, 10, 1), ND254) is GuaranteeStatus.insufficient


def test_r6_guarantee_not_required_at_or_below_one_ty():
    facts = guaranteed(0, None, outstanding=TY, advanced=TY)
    assert guarantee_status(facts, date(2025, 10, 1), ND254) is GuaranteeStatus.not_required


def test_r6_threshold_is_on_the_amount_advanced_not_the_remaining_balance():
    facts = guaranteed(0, None, outstanding=500_000_000, advanced=2 * TY)
    assert guarantee_status(facts, date(2025, 10, 1), ND254) is GuaranteeStatus.insufficient


def test_r6_not_required_once_recovered_or_for_non_contract_advances():
    assert guarantee_status(guaranteed(0, None, outstanding=0), date(2025, 10, 1), ND99) == "not_required"
    assert guarantee_status(other(outstanding=TY), date(2025, 10, 1), ND99) is GuaranteeStatus.not_required


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        (date(2025, 11, 30), GuaranteeStatus.covered),  # 31 days before expiry
        (date(2025, 12, 1), GuaranteeStatus.expiring),  # 30 days before: flagged
        (date(2025, 12, 31), GuaranteeStatus.expiring),  # expiry day: still valid
        (date(2026, 1, 1), GuaranteeStatus.expired),  # expired with a balance: high risk
    ],
)
def test_r6_guarantee_expiry_boundaries(as_of, status):
    assert guarantee_status(guaranteed(2 * TY, date(2025, 12, 31)), as_of, ND99) is status


def test_r6_expired_is_reported_before_insufficient():
    assert guarantee_status(guaranteed(TY, date(2025, 1, 31)), date(2025, 10, 1), ND99) == "expired"


def test_r6_insufficient_is_reported_before_expiring():
    assert guarantee_status(guaranteed(TY, date(2025, 10, 15)), date(2025, 10, 1), ND99) == "insufficient"


# --- ageing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "0-30"), (30, "0-30"), (31, "31-90"), (90, "31-90"), (91, "91-180"), (180, "91-180"),
     (181, "181-365"), (365, "181-365"), (366, ">365")],
)  # fmt: skip
def test_age_bucket_boundaries(days, bucket):
    assert age_bucket(days) == bucket


def test_age_bucket_refuses_negative_days():
    with pytest.raises(ValueError):
        age_bucket(-1)


# --- facts validation and FIFO split --------------------------------------------------------------


def test_facts_refuse_outstanding_above_advanced():
    with pytest.raises(ValueError):
        AdvanceFacts(AdvanceKind.other, date(2025, 1, 1), advanced_vnd=1, outstanding_vnd=2)


def test_facts_refuse_misuse_date_without_flag():
    with pytest.raises(ValueError):
        contract(marked_misuse_on=date(2025, 1, 1))
