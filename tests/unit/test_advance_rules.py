"""Write-path checks on contracts: R3–R8 (pure, integer money)."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.enums import DisbursementKind
from app.ledger.advance_rules import (
    ContractBalances,
    Movement,
    advance_ceiling_pct,
    advance_floor_warning,
    check_advance_ceiling,
    check_completion_recovery,
    check_contract_cap,
    check_guarantee,
    check_movement,
    check_project_year_advances,
    check_recovery,
    floor_band,
    minimum_recovery_vnd,
)
from app.rulesets.model import ND99, ND254

TY = 1_000_000_000
RULE_SETS = (ND99, ND254)
DAY = date(2025, 10, 15)


def advance(amount: int, on: date = DAY) -> Movement:
    return Movement(DisbursementKind.advance, amount, on)


def payment(amount: int, recovered: int = 0) -> Movement:
    return Movement(DisbursementKind.payment, amount, DAY, advance_recovered_vnd=recovered)


def balances(**kw) -> ContractBalances:
    kw.setdefault("contract_type", "construction")
    kw.setdefault("value_vnd", 10 * TY)
    return ContractBalances(**kw)


# --- R3 contract cap ------------------------------------------------------------------------------


def test_r3_payment_up_to_the_contract_value_is_allowed():
    assert check_contract_cap(balances(paid_vnd=9 * TY), payment(TY)) is None


def test_r3_payment_above_the_contract_value_says_what_is_left():
    violation = check_contract_cap(balances(advanced_vnd=TY, paid_vnd=8 * TY), payment(TY + 1))
    assert violation.code == "contract_cap_exceeded"
    assert violation.rule_id == "R3"
    assert violation.remaining_vnd == TY
    assert violation.allowed_max_vnd == TY


def test_r3_recovery_in_the_payment_frees_room_under_the_cap():
    # 2 tỷ outstanding + 7 tỷ paid = 9 tỷ disbursed; a 3 tỷ payment recovering 2 tỷ ends at 10 tỷ.
    state = balances(advanced_vnd=2 * TY, paid_vnd=7 * TY)
    assert check_contract_cap(state, payment(3 * TY, recovered=2 * TY)) is None
    violation = check_contract_cap(state, payment(3 * TY, recovered=TY))
    assert violation.allowed_max_vnd == 2 * TY


def test_r3_advance_above_the_remaining_value_is_rejected():
    violation = check_contract_cap(balances(paid_vnd=9_500_000_000), advance(600_000_000))
    assert violation.remaining_vnd == 500_000_000


def test_r3_clearance_adds_no_disbursement():
    state = balances(advanced_vnd=TY, paid_vnd=9 * TY)
    assert check_contract_cap(state, Movement(DisbursementKind.clearance, TY, DAY)) is None


# --- R4 advance ceiling ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r4_advances_up_to_30_percent_are_allowed(rule_set):
    assert check_advance_ceiling(balances(), advance(3 * TY), rule_set) is None


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r4_advances_above_30_percent_are_rejected_with_the_allowed_maximum(rule_set):
    violation = check_advance_ceiling(balances(advanced_vnd=2 * TY), advance(TY + 1), rule_set)
    assert violation.code == "advance_ceiling_exceeded"
    assert violation.rule_id == "R4"
    assert violation.allowed_max_vnd == TY


def test_r4_higher_rate_approved_by_decision_raises_the_ceiling():
    state = balances(approved_advance_rate_pct=50, approving_decision="123/QĐ-UBND 01/03/2025")
    assert advance_ceiling_pct(state, ND254) == 50
    assert check_advance_ceiling(state, advance(5 * TY), ND254) is None
    assert check_advance_ceiling(state, advance(5 * TY + 1), ND254).allowed_max_vnd == 5 * TY


def test_r4_approved_rate_below_the_ceiling_does_not_lower_it():
    state = balances(approved_advance_rate_pct=20, approving_decision="9/QĐ")
    assert advance_ceiling_pct(state, ND99) == 30


def test_r4_approved_rate_without_its_decision_is_refused():
    with pytest.raises(ValueError, match="R4"):
        balances(approved_advance_rate_pct=50)


def test_r4_integer_arithmetic_at_an_odd_contract_value():
    # 30% of 1,000,000,001 đồng is 300,000,000.3: 300,000,000 is allowed, one more đồng is not.
    state = balances(value_vnd=1_000_000_001)
    assert check_advance_ceiling(state, advance(300_000_000), ND99) is None
    assert check_advance_ceiling(state, advance(300_000_001), ND99).allowed_max_vnd == 300_000_000


def test_r4_project_year_advances_within_the_annual_plan():
    assert check_project_year_advances(4 * TY, 5 * TY, TY) is None
    violation = check_project_year_advances(4 * TY, 5 * TY, TY + 1)
    assert (violation.code, violation.rule_id, violation.remaining_vnd) == ("advance_exceeds_plan", "R4", TY)


def test_r4_ceiling_is_on_the_value_at_signing_an_amendment_does_not_raise_it():
    # By hand: signed at 10 tỷ, amended to 20 tỷ; 30% of the value at signing is 3 tỷ, not 6.
    state = balances(value_vnd=20 * TY, value_at_signing_vnd=10 * TY)
    assert check_advance_ceiling(state, advance(3 * TY), ND99) is None
    violation = check_advance_ceiling(state, advance(3 * TY + 1), ND99)
    assert (violation.code, violation.allowed_max_vnd) == ("advance_ceiling_exceeded", 3 * TY)


def test_r4_the_level_agreed_in_the_contract_caps_below_the_ceiling():
    # By hand: 10 tỷ contract agreeing 15%: 1.5 tỷ, though the rule set would allow 30%.
    state = balances(agreed_advance_rate_pct=15)
    assert advance_ceiling_pct(state, ND254) == 15
    assert check_advance_ceiling(state, advance(1_500_000_000 + 1), ND254).allowed_max_vnd == 1_500_000_000
    # An approved higher rate is still bounded by what the contract agreed, and reaches it when the contract does.
    approved = {"approved_advance_rate_pct": 50, "approving_decision": "7/QĐ-UBND"}
    assert advance_ceiling_pct(balances(agreed_advance_rate_pct=40, **approved), ND254) == 40
    assert advance_ceiling_pct(balances(**approved), ND254) == 50


def test_r4_ceiling_ignores_payments():
    assert check_advance_ceiling(balances(advanced_vnd=3 * TY), payment(TY), ND99) is None


# --- R6 guarantee on the write path ---------------------------------------------------------------


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r6_advance_of_one_ty_needs_no_guarantee(rule_set):
    assert check_guarantee(balances(), advance(TY), rule_set) is None


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r6_advance_over_one_ty_without_guarantee_is_rejected(rule_set):
    violation = check_guarantee(balances(), advance(TY + 1), rule_set)
    assert violation.code == "guarantee_required"
    assert violation.required_guarantee_vnd == TY + 1
    assert violation.allowed_max_vnd == TY  # staying at the threshold needs no guarantee


def test_r6_guarantee_must_cover_the_new_outstanding():
    state = balances(
        advanced_vnd=2 * TY, recovered_vnd=TY, guarantee_vnd=2 * TY, guarantee_expires_on=date(2026, 6, 30)
    )
    assert check_guarantee(state, advance(TY), ND254) is None
    violation = check_guarantee(state, advance(TY + 1), ND254)
    assert violation.required_guarantee_vnd == 2 * TY + 1
    assert violation.allowed_max_vnd == TY


def test_r6_guarantee_expired_before_the_value_date_is_rejected():
    state = balances(guarantee_vnd=3 * TY, guarantee_expires_on=date(2025, 10, 14))
    violation = check_guarantee(state, advance(2 * TY, on=date(2025, 10, 15)), ND254)
    assert violation.code == "guarantee_expired"
    assert violation.rule_id == "R6"


def test_r6_guarantee_valid_through_its_expiry_day():
    state = balances(guarantee_vnd=3 * TY, guarantee_expires_on=date(2025, 10, 15))
    assert check_guarantee(state, advance(2 * TY, on=date(2025, 10, 15)), ND254) is None


def test_r6_threshold_is_data():
    assert check_guarantee(balances(), advance(TY), replace(ND254, guarantee_threshold_vnd=500_000_000))


# --- R7 recovery ----------------------------------------------------------------------------------


def test_r7_recovery_up_to_the_outstanding_is_allowed():
    assert (
        check_recovery(balances(advanced_vnd=2 * TY, recovered_vnd=TY), payment(3 * TY, recovered=TY)) is None
    )


def test_r7_recovery_above_the_outstanding_is_rejected():
    violation = check_recovery(
        balances(advanced_vnd=2 * TY, recovered_vnd=TY), payment(3 * TY, recovered=TY + 1)
    )
    assert violation.code == "recovery_exceeds_outstanding"
    assert violation.rule_id == "R7"
    assert violation.allowed_max_vnd == TY


def test_r7_clearance_settles_at_most_the_outstanding():
    state = balances(advanced_vnd=TY)
    assert check_recovery(state, Movement(DisbursementKind.clearance, TY, DAY)) is None
    assert check_recovery(state, Movement(DisbursementKind.clearance, TY + 1, DAY)).code == (
        "recovery_exceeds_outstanding"
    )


def test_r7_only_payments_carry_a_recovery():
    with pytest.raises(ValueError):
        Movement(DisbursementKind.advance, TY, DAY, advance_recovered_vnd=1)


# --- R8 80% rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule_set", RULE_SETS, ids=lambda r: r.code)
def test_r8_payment_reaching_80_percent_must_recover_the_whole_outstanding(rule_set):
    state = balances(advanced_vnd=3 * TY, recovered_vnd=TY + 250_000_000, paid_vnd=7 * TY)
    move = payment(TY, recovered=TY)
    assert minimum_recovery_vnd(state, move, rule_set) == 1_750_000_000
    violation = check_completion_recovery(state, move, rule_set)
    assert violation.code == "completion_recovery_required"
    assert violation.rule_id == "R8"
    assert violation.minimum_recovery_vnd == 1_750_000_000
    assert check_completion_recovery(state, payment(TY, recovered=1_750_000_000), rule_set) is None


def test_r8_payment_just_below_80_percent_needs_no_full_recovery():
    state = balances(advanced_vnd=3 * TY, paid_vnd=7 * TY)
    assert minimum_recovery_vnd(state, payment(TY - 1), ND99) == 0
    assert check_completion_recovery(state, payment(TY - 1), ND99) is None


def test_r8_exactly_80_percent_counts_as_reached():
    state = balances(advanced_vnd=3 * TY, paid_vnd=7 * TY)
    assert minimum_recovery_vnd(state, payment(TY), ND99) == 3 * TY


def test_r8_no_outstanding_no_recovery_needed():
    assert check_completion_recovery(balances(paid_vnd=8 * TY), payment(TY), ND254) is None


def test_r8_advance_after_80_percent_is_rejected():
    violation = check_completion_recovery(balances(paid_vnd=8 * TY), advance(TY), ND254)
    assert (violation.code, violation.rule_id, violation.allowed_max_vnd) == (
        "advance_after_completion",
        "R8",
        0,
    )


# --- all checks together --------------------------------------------------------------------------


def test_check_movement_reports_every_violated_rule():
    state = balances(advanced_vnd=3 * TY, paid_vnd=7 * TY)
    codes = {v.code for v in check_movement(state, payment(4 * TY, recovered=3 * TY + 1), ND254)}
    assert codes == {"contract_cap_exceeded", "recovery_exceeds_outstanding"}
    assert check_movement(state, payment(TY, recovered=3 * TY), ND254) == []


def test_violation_extensions_carry_the_rule_and_the_numbers_only():
    violation = check_advance_ceiling(balances(), advance(4 * TY), ND99)
    assert violation.extensions() == {
        "rule": "R4", "attempted_vnd": 4 * TY, "remaining_vnd": 3 * TY, "allowed_max_vnd": 3 * TY,
    }  # fmt: skip


def test_balances_refuse_recovered_above_advanced():
    with pytest.raises(ValueError):
        balances(advanced_vnd=1, recovered_vnd=2)


# --- R5 floor warning -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract_type", "value", "rate"),
    [
        ("consulting", 10 * TY, 20),
        ("consulting", 10 * TY + 1, 15),
        ("construction", 10 * TY - 1, 20),
        ("construction", 10 * TY, 15),  # 10–50 tỷ band starts at 10 tỷ
        ("construction", 50 * TY, 15),
        ("construction", 50 * TY + 1, 10),
        ("equipment", 100 * TY, 10),
        ("epc", TY, 10),
        ("something_new", TY, 10),  # unknown types use the "other" band
    ],
)
def test_r5_floor_bands(contract_type, value, rate):
    assert floor_band(contract_type, value, ND99).min_rate_pct == rate


def test_r5_first_advance_below_the_floor_warns_with_the_floor_amount():
    warning = advance_floor_warning("construction", 20 * TY, 2 * TY, ND254)
    assert (warning.code, warning.rule_id, warning.min_rate_pct, warning.floor_vnd) == (
        "advance_below_floor", "R5", 15, 3 * TY,
    )  # fmt: skip


def test_r5_first_advance_at_the_floor_does_not_warn():
    assert advance_floor_warning("construction", 20 * TY, 3 * TY, ND254) is None
    assert advance_floor_warning("construction", 20 * TY, 0, ND254) is None


def test_r5_floor_amount_is_rounded_up():
    assert advance_floor_warning("epc", 1_000_000_001, 1, ND99).floor_vnd == 100_000_001


# --- properties -----------------------------------------------------------------------------------

money = st.integers(min_value=0, max_value=10**13)


@given(
    value=money, advanced=money, amount=st.integers(min_value=1, max_value=10**13), pct=st.integers(1, 100)
)
def test_r4_allowed_maximum_is_exactly_the_largest_accepted_advance(value, advanced, amount, pct):
    rule_set = replace(ND99, advance_ceiling_pct=pct)
    state = balances(value_vnd=value, advanced_vnd=advanced)
    violation = check_advance_ceiling(state, advance(amount), rule_set)
    if violation is None:
        assert (advanced + amount) * 100 <= value * pct
    elif violation.allowed_max_vnd > 0:
        assert check_advance_ceiling(state, advance(violation.allowed_max_vnd), rule_set) is None
        assert check_advance_ceiling(state, advance(violation.allowed_max_vnd + 1), rule_set) is not None


@given(value=st.integers(1, 10**13), data=st.data())
def test_r8_paying_the_minimum_recovery_satisfies_r7_and_r8(value, data):
    advanced = data.draw(st.integers(0, value))
    recovered = data.draw(st.integers(0, advanced))
    paid = data.draw(st.integers(0, value))
    amount = data.draw(st.integers(1, 10**13))
    state = balances(value_vnd=value, advanced_vnd=advanced, recovered_vnd=recovered, paid_vnd=paid)
    minimum = minimum_recovery_vnd(state, payment(amount), ND254)
    move = payment(amount, recovered=minimum)
    assert check_recovery(state, move) is None
    assert check_completion_recovery(state, move, ND254) is None


# --- R8 by base, contract kind and joint-venture member (issue #11) ----------------------------------------------


def test_r8_the_net_base_counts_the_advance_still_outstanding():
    # 10 tỷ contract, 2 tỷ advanced, 5.5 tỷ paid; a 1 tỷ payment. Gross: 6.5 tỷ = 65%, no recovery needed.
    # Net: 2 + 6.5 = 8.5 tỷ ≥ 8 tỷ; the least recovery that keeps it below: 8.5 tỷ − 7,999,999,999 = 500,000,001.
    state = balances(advanced_vnd=2 * TY, paid_vnd=5_500_000_000)
    assert (ND99.completion_recovery_base, ND254.completion_recovery_base) == ("gross_payments", "net_disbursed")
    assert minimum_recovery_vnd(state, payment(TY), ND99) == 0
    assert minimum_recovery_vnd(state, payment(TY), ND254) == 500_000_001
    assert check_completion_recovery(state, payment(TY, recovered=500_000_001), ND254) is None
    assert check_completion_recovery(state, payment(TY, recovered=500_000_000), ND254).minimum_recovery_vnd == \
        500_000_001
    # Once gross payments alone reach 80%, every base asks for the whole outstanding.
    assert minimum_recovery_vnd(state, payment(2_500_000_000), ND254) == 2 * TY


def test_r8_an_equipment_contract_waits_for_the_completed_supply():
    state = balances(contract_type="equipment", advanced_vnd=TY, paid_vnd=8_500_000_000)  # 85% paid
    for rule_set in RULE_SETS:
        assert minimum_recovery_vnd(state, payment(500_000_000), rule_set) == 0
        completing = Movement(DisbursementKind.payment, TY, DAY, advance_recovered_vnd=TY, completes_supply=True)
        assert minimum_recovery_vnd(state, completing, rule_set) == TY
        assert check_completion_recovery(replace(state, supply_completed=True), advance(TY), rule_set).code == \
            "advance_after_completion"


def test_r8_a_joint_venture_member_is_measured_on_its_share():
    # 20 tỷ contract at 7/20 = 35% paid; member A (share 10 tỷ) has 7 tỷ paid and 2 tỷ outstanding. A 1 tỷ payment
    # to A takes A to 80% of its share: A's 2 tỷ must be recovered although the contract stays at 40%.
    contract = balances(value_vnd=20 * TY, advanced_vnd=3 * TY, paid_vnd=7 * TY, guarantee_vnd=3 * TY,
                        guarantee_expires_on=DAY)
    member_a = balances(value_vnd=10 * TY, advanced_vnd=2 * TY, paid_vnd=7 * TY)
    assert check_movement(contract, payment(TY), ND99) == []
    [violation] = check_movement(contract, payment(TY), ND99, member=member_a)
    assert (violation.code, violation.minimum_recovery_vnd) == ("completion_recovery_required", 2 * TY)
