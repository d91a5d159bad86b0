"""Write-path checks for contract disbursements (giải ngân theo hợp đồng): pure rules R3–R8.

Each `check_*` returns None or a `Violation` with a stable `code`, the rule id, a human `detail`
and the numbers a client needs to correct the request (`remaining_vnd`, `allowed_max_vnd`,
`minimum_recovery_vnd`, `required_guarantee_vnd`). The service raises them as problem+json inside
the write transaction. Money is integer đồng; percentages are compared as `amount * 100 <= value *
pct`, never with floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.enums import DisbursementKind
from app.rulesets.model import AdvanceFloorBand, RuleSet


@dataclass(frozen=True, slots=True)
class ContractBalances:
    """A contract's balances before the movement (from the balance row, inside the transaction).

    `paid_vnd` is the cumulative gross value of completed work paid (thanh toán KLHT), before the
    advance recovered from it is deducted.
    """

    contract_type: str  # consulting, construction, equipment, epc, turnkey, other (R5 bands)
    value_vnd: int  # giá trị hợp đồng today, amendments included (R3, R8)
    advanced_vnd: int = 0  # cumulative advances (lũy kế tạm ứng)
    recovered_vnd: int = 0  # cumulative advance recovered (lũy kế thu hồi)
    paid_vnd: int = 0
    approved_advance_rate_pct: int | None = None  # R4: higher rate, with the approving decision
    approving_decision: str | None = None  # số quyết định, ngày
    guarantee_vnd: int = 0
    guarantee_expires_on: date | None = None
    value_at_signing_vnd: int | None = None  # R4's base; None: the contract was never amended (= value_vnd)
    agreed_advance_rate_pct: int | None = None  # R4: the level written in the contract, if any
    supply_completed: bool = False  # R8: a payment completing the supplied volume is on the books (equipment)

    @property
    def signing_value_vnd(self) -> int:
        return self.value_vnd if self.value_at_signing_vnd is None else self.value_at_signing_vnd

    def __post_init__(self) -> None:
        amounts = (self.value_vnd, self.advanced_vnd, self.recovered_vnd, self.paid_vnd, self.guarantee_vnd)
        if any(amount < 0 for amount in amounts):
            raise ValueError("amounts must not be negative")
        if self.recovered_vnd > self.advanced_vnd:
            raise ValueError("recovered more than was advanced")
        if self.approved_advance_rate_pct is not None:
            if not 0 < self.approved_advance_rate_pct <= 100:
                raise ValueError("approved_advance_rate_pct must be in 1..100")
            if not self.approving_decision:
                raise ValueError("an approved advance rate needs its approving decision (R4)")

    @property
    def outstanding_vnd(self) -> int:
        """Dư tạm ứng: advanced − recovered."""
        return self.advanced_vnd - self.recovered_vnd

    @property
    def disbursed_vnd(self) -> int:
        """Disbursed under the contract (R3): outstanding advances + gross payments."""
        return self.outstanding_vnd + self.paid_vnd


@dataclass(frozen=True, slots=True)
class Movement:
    """The proposed disbursement under the contract.

    advance: `amount_vnd` advanced. payment: `amount_vnd` gross value of completed work, of which
    `advance_recovered_vnd` is deducted as recovery (R7). clearance: `amount_vnd` of advance settled
    without new cash (treated as a recovery).
    """

    kind: DisbursementKind
    amount_vnd: int
    value_date: date
    advance_recovered_vnd: int = 0
    completes_supply: bool = False  # R8: this payment completes the supplied volume of an equipment contract

    def __post_init__(self) -> None:
        if self.amount_vnd <= 0:
            raise ValueError("amount_vnd must be positive")
        if self.advance_recovered_vnd < 0:
            raise ValueError("advance_recovered_vnd must not be negative")
        if self.advance_recovered_vnd and self.kind is not DisbursementKind.payment:
            raise ValueError("only a payment carries an advance recovery")

    @property
    def recovery_vnd(self) -> int:
        """Advance recovered by this movement."""
        if self.kind is DisbursementKind.clearance:
            return self.amount_vnd
        return self.advance_recovered_vnd


@dataclass(frozen=True, slots=True)
class Violation:
    """A rejected write: stable `code`, rule id and the numbers to correct it."""

    code: str
    rule_id: str
    detail: str
    attempted_vnd: int | None = None
    remaining_vnd: int | None = None
    allowed_max_vnd: int | None = None
    minimum_recovery_vnd: int | None = None
    required_guarantee_vnd: int | None = None

    def extensions(self) -> dict[str, int | str]:
        """problem+json extension members: the rule id and every number that is set."""
        numbers = {
            "attempted_vnd": self.attempted_vnd,
            "remaining_vnd": self.remaining_vnd,
            "allowed_max_vnd": self.allowed_max_vnd,
            "minimum_recovery_vnd": self.minimum_recovery_vnd,
            "required_guarantee_vnd": self.required_guarantee_vnd,
        }
        return {"rule": self.rule_id, **{key: value for key, value in numbers.items() if value is not None}}


@dataclass(frozen=True, slots=True)
class FloorWarning:
    """R5: an advance below the usual minimum rate. A warning, never a rejection."""

    code: str
    rule_id: str
    detail: str
    min_rate_pct: int
    floor_vnd: int  # the smallest advance that meets the rate (rounded up)
    attempted_vnd: int


def _vnd(amount: int) -> str:
    return f"{amount:,} đồng"


def check_contract_cap(balances: ContractBalances, movement: Movement) -> Violation | None:
    """R3: disbursement under the contract (outstanding advances + gross payments) ≤ contract value."""
    added = movement.amount_vnd if movement.kind is not DisbursementKind.clearance else 0
    after = balances.disbursed_vnd + added - movement.recovery_vnd
    if added == 0 or after <= balances.value_vnd:
        return None
    remaining = max(0, balances.value_vnd - balances.disbursed_vnd)
    if movement.kind is DisbursementKind.payment:
        allowed = max(0, balances.value_vnd - balances.disbursed_vnd + movement.recovery_vnd)
    else:
        allowed = remaining
    return Violation(
        "contract_cap_exceeded",
        "R3",
        f"disbursement would reach {_vnd(after)}, above the contract value {_vnd(balances.value_vnd)}",
        attempted_vnd=movement.amount_vnd,
        remaining_vnd=remaining,
        allowed_max_vnd=allowed,
    )


def advance_ceiling_pct(balances: ContractBalances, rule_set: RuleSet) -> int:
    """R4: the rule set's ceiling (or the higher rate recorded with an approving decision), and never above the
    level the contract itself agreed."""
    approved = balances.approved_advance_rate_pct
    ceiling = approved if approved is not None and approved > rule_set.advance_ceiling_pct \
        else rule_set.advance_ceiling_pct
    agreed = balances.agreed_advance_rate_pct
    return min(ceiling, agreed) if agreed is not None else ceiling


def check_advance_ceiling(
    balances: ContractBalances, movement: Movement, rule_set: RuleSet
) -> Violation | None:
    """R4: cumulative advances ≤ ceiling % of the contract value at signing."""
    if movement.kind is not DisbursementKind.advance:
        return None
    pct = advance_ceiling_pct(balances, rule_set)
    after = balances.advanced_vnd + movement.amount_vnd
    base = balances.signing_value_vnd  # an amendment never raises the ceiling
    if after * 100 <= base * pct:
        return None
    allowed = max(0, base * pct // 100 - balances.advanced_vnd)
    return Violation(
        "advance_ceiling_exceeded",
        "R4",
        f"advances would reach {_vnd(after)}, above {pct}% of the contract value at signing ({_vnd(base)})",
        attempted_vnd=movement.amount_vnd,
        remaining_vnd=allowed,
        allowed_max_vnd=allowed,
    )


def check_project_year_advances(
    advanced_in_year_vnd: int, plan_vnd: int, amount_vnd: int
) -> Violation | None:
    """R4 (second half): advances to a project in a plan year ≤ its annual plan."""
    after = advanced_in_year_vnd + amount_vnd
    if after <= plan_vnd:
        return None
    allowed = max(0, plan_vnd - advanced_in_year_vnd)
    return Violation(
        "advance_exceeds_plan",
        "R4",
        f"advances in the plan year would reach {_vnd(after)}, above the plan {_vnd(plan_vnd)}",
        attempted_vnd=amount_vnd,
        remaining_vnd=allowed,
        allowed_max_vnd=allowed,
    )


def check_guarantee(balances: ContractBalances, movement: Movement, rule_set: RuleSet) -> Violation | None:
    """R6: an advance taking the contract's advances over the threshold needs a guarantee.

    The guarantee must be at least the new outstanding advance and not expired on the value date
    (valid through its expiry day). The threshold is compared with the cumulative amount advanced,
    the decree's "contract advance value", so recoveries do not lift the requirement.
    """
    if movement.kind is not DisbursementKind.advance:
        return None
    if balances.advanced_vnd + movement.amount_vnd <= rule_set.guarantee_threshold_vnd:
        return None
    needed = balances.outstanding_vnd + movement.amount_vnd
    expires = balances.guarantee_expires_on
    if balances.guarantee_vnd > 0 and expires is not None and expires < movement.value_date:
        return Violation(
            "guarantee_expired",
            "R6",
            f"the advance guarantee expired on {expires.isoformat()}, before the value date",
            attempted_vnd=movement.amount_vnd,
            required_guarantee_vnd=needed,
        )
    if balances.guarantee_vnd >= needed:
        return None
    # Largest advance allowed now: one the guarantee covers, or one staying under the threshold.
    allowed = max(
        0,
        balances.guarantee_vnd - balances.outstanding_vnd,
        rule_set.guarantee_threshold_vnd - balances.advanced_vnd,
    )
    return Violation(
        "guarantee_required",
        "R6",
        f"an advance guarantee of at least {_vnd(needed)} is required; "
        f"{_vnd(balances.guarantee_vnd)} recorded",
        attempted_vnd=movement.amount_vnd,
        allowed_max_vnd=allowed,
        required_guarantee_vnd=needed,
    )


def check_recovery(balances: ContractBalances, movement: Movement) -> Violation | None:
    """R7: advance recovered ≤ the contract's outstanding advance."""
    if movement.recovery_vnd <= balances.outstanding_vnd:
        return None
    return Violation(
        "recovery_exceeds_outstanding",
        "R7",
        f"recovery {_vnd(movement.recovery_vnd)} exceeds the outstanding advance "
        f"{_vnd(balances.outstanding_vnd)}",
        attempted_vnd=movement.recovery_vnd,
        remaining_vnd=balances.outstanding_vnd,
        allowed_max_vnd=balances.outstanding_vnd,
    )


def reaches_completion(base_vnd: int, value_vnd: int, rule_set: RuleSet) -> bool:
    """R8: the value disbursed (`completion_base_vnd`) at or above `completion_recovery_pct` of the value."""
    return base_vnd * 100 >= value_vnd * rule_set.completion_recovery_pct


def completion_base_vnd(outstanding_vnd: int, paid_vnd: int, rule_set: RuleSet) -> int:
    """R8's "giá trị giải ngân", by the rule set's `completion_recovery_base`: the gross payments for completed
    work, or the net cash disbursed under the contract (outstanding advance + gross payments = advances +
    payments − recoveries)."""
    return paid_vnd if rule_set.completion_recovery_base == "gross_payments" else outstanding_vnd + paid_vnd


def recovered_on_supply(contract_type: str, rule_set: RuleSet) -> bool:
    """R8: an equipment contract that is not construction is recovered when the supply is complete, not at 80%."""
    return contract_type in rule_set.supply_recovery_contract_types


def r8_breached(contract_type: str, value_vnd: int, outstanding_vnd: int, paid_vnd: int, supply_completed: bool,
                rule_set: RuleSet) -> bool:
    """The state R8 forbids: advance outstanding once the value disbursed has reached 80% of the value (of a JV
    member's share, for its own figures), or once the supply of an equipment contract is complete."""
    if outstanding_vnd <= 0:
        return False
    if recovered_on_supply(contract_type, rule_set):
        return supply_completed
    return reaches_completion(completion_base_vnd(outstanding_vnd, paid_vnd, rule_set), value_vnd, rule_set)


def _largest_unreached_base(value_vnd: int, rule_set: RuleSet) -> int:
    """The largest value disbursed still below the R8 threshold (integer đồng)."""
    return (value_vnd * rule_set.completion_recovery_pct - 1) // 100


def minimum_recovery_vnd(balances: ContractBalances, movement: Movement, rule_set: RuleSet) -> int:
    """R8: the least recovery this payment must carry so that no advance stays outstanding past the threshold:
    the whole outstanding once the payment reaches it (or completes an equipment supply). With the net base a
    recovery lowers the value disbursed itself, so a payment that only reaches 80% through the advance still
    outstanding needs just enough recovery to stay below it."""
    if movement.kind is not DisbursementKind.payment:
        return 0
    outstanding = balances.outstanding_vnd
    if recovered_on_supply(balances.contract_type, rule_set):
        return outstanding if movement.completes_supply or balances.supply_completed else 0
    paid = balances.paid_vnd + movement.amount_vnd
    if reaches_completion(paid, balances.value_vnd, rule_set):  # reached whatever is recovered
        return outstanding
    if rule_set.completion_recovery_base == "gross_payments":
        return 0
    return min(outstanding, max(0, outstanding + paid - _largest_unreached_base(balances.value_vnd, rule_set)))


def check_completion_recovery(
    balances: ContractBalances, movement: Movement, rule_set: RuleSet
) -> Violation | None:
    """R8: a payment that reaches 80% of the value (or completes an equipment supply) must recover the whole
    outstanding advance; an advance that would leave a balance the rule says must be zero is refused."""
    pct = rule_set.completion_recovery_pct
    on_supply = recovered_on_supply(balances.contract_type, rule_set)
    if movement.kind is DisbursementKind.advance:
        after = balances.outstanding_vnd + movement.amount_vnd
        if not r8_breached(balances.contract_type, balances.value_vnd, after, balances.paid_vnd,
                           balances.supply_completed, rule_set):
            return None
        base = completion_base_vnd(balances.outstanding_vnd, balances.paid_vnd, rule_set)
        allowed = 0 if on_supply else max(0, _largest_unreached_base(balances.value_vnd, rule_set) - base)
        reached = "the supplied volume is complete" if on_supply else \
            f"the value disbursed ({rule_set.completion_recovery_base}) would reach {pct}% of the contract value"
        return Violation("advance_after_completion", "R8", f"{reached}; no further advance is allowed"
                         + ("" if on_supply else f" above {_vnd(allowed)}"),
                         attempted_vnd=movement.amount_vnd, allowed_max_vnd=allowed)
    minimum = minimum_recovery_vnd(balances, movement, rule_set)
    if movement.recovery_vnd >= minimum:
        return None
    reached = "this payment completes the supplied volume" if on_supply else \
        f"the value disbursed ({rule_set.completion_recovery_base}) reaches {pct}% of the contract value"
    return Violation(
        "completion_recovery_required",
        "R8",
        f"{reached}: this payment must recover at least {_vnd(minimum)} of the outstanding advance "
        f"{_vnd(balances.outstanding_vnd)}",
        attempted_vnd=movement.recovery_vnd,
        minimum_recovery_vnd=minimum,
    )


def check_movement(balances: ContractBalances, movement: Movement, rule_set: RuleSet,
                   member: ContractBalances | None = None) -> list[Violation]:
    """Every violated rule among R3, R4, R6, R7, R8 (empty list: the write may proceed).

    Under a joint venture, `member` holds the named member's figures with its share as the value: R7 and R8 apply
    to the member's own advances and share, R3, R4 and R6 to the contract."""
    own = member or balances
    checks = (
        check_contract_cap(balances, movement),
        check_advance_ceiling(balances, movement, rule_set),
        check_guarantee(balances, movement, rule_set),
        check_recovery(own, movement),
        check_completion_recovery(own, movement, rule_set),
    )
    return [violation for violation in checks if violation is not None]


def floor_band(contract_type: str, value_vnd: int, rule_set: RuleSet) -> AdvanceFloorBand | None:
    """R5: the floor band for a contract type and value (unknown types use the "other" bands)."""
    bands = [band for band in rule_set.advance_floor if band.contract_type == contract_type]
    if not bands:
        bands = [band for band in rule_set.advance_floor if band.contract_type == "other"]
    for band in bands:
        if band.up_to_vnd is None:
            return band
        if value_vnd < band.up_to_vnd or (band.upper_inclusive and value_vnd == band.up_to_vnd):
            return band
    return None


def advance_floor_warning(
    contract_type: str, value_vnd: int, first_advance_vnd: int, rule_set: RuleSet
) -> FloorWarning | None:
    """R5 (warning only): a contract's first advance below the minimum rate for its type and value."""
    band = floor_band(contract_type, value_vnd, rule_set)
    if band is None or first_advance_vnd <= 0:
        return None
    if first_advance_vnd * 100 >= value_vnd * band.min_rate_pct:
        return None
    floor = -(-value_vnd * band.min_rate_pct // 100)  # ceiling division: the floor must be met
    return FloorWarning(
        "advance_below_floor",
        "R5",
        f"first advance {_vnd(first_advance_vnd)} is below the usual minimum of {band.min_rate_pct}% "
        f"for a {contract_type} contract of this value",
        min_rate_pct=band.min_rate_pct,
        floor_vnd=floor,
        attempted_vnd=first_advance_vnd,
    )
