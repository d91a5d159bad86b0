"""Capital plan, disbursement and balance schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, computed_field, model_validator

from app.enums import AdvanceKind, AllocationKind, BudgetLevel, CapitalSource, DisbursementKind, EntrySource
from app.kernel.schemas import Id, IsoDate, NonNegativeVnd, PlanYear, PositiveVnd, Schema, Text200

_HOLDER = ("R1 budget holder (organisation id): whose budget the pool is — for central and province levels the "
           "province's people's committee, for district and commune levels that government. Omitted: the nearest "
           "organisation of that kind above the project's investor (central/province: else the only top-level "
           "people's committee); `budget_holder_required` when there is none")


class PoolFields(Schema):
    plan_year: PlanYear
    capital_source: CapitalSource = Field(description="Capital source (nguồn vốn)")
    budget_level: BudgetLevel = Field(description="Budget level (cấp ngân sách)")
    budget_holder_id: Id | None = Field(None, description=_HOLDER)


class HeldPool(PoolFields):
    """A stored pool: its holder is always known."""

    budget_holder_id: int = Field(description="R1 budget holder (organisation id): whose budget the pool is")


class AllocationCreate(PoolFields):
    """One decision's change to a project's capital plan (kế hoạch vốn)."""

    model_config = {"json_schema_extra": {"examples": [{
        "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "kind": "supplement",
        "amount_vnd": 25_000_000_000, "tranche": 3, "decision_number": "2145/QĐ-UBND",
        "decision_date": "2024-10-08", "authority": "UBND tỉnh Vĩnh Phúc"}]}}

    kind: AllocationKind = Field(description="initial (giao đầu năm), supplement (bổ sung), adjustment_in/out "
                                 "(điều chỉnh tăng/giảm), extension (kéo dài), lapse (hủy dự toán), "
                                 "next_year_advance (ứng trước kế hoạch vốn năm sau, R1a); advance_repayment "
                                 "(thu hồi vốn ứng trước) is recorded by the service with the next year's first "
                                 "new capital and refused here (`generated_kind`)")
    amount_vnd: PositiveVnd = Field(description="Positive amount in đồng; the kind gives the direction")
    added_vnd: NonNegativeVnd = Field(0, description="R1b provenance: of amount_vnd, the capital added by the "
                                      "province itself (giao tăng); the rest is the plan assigned by the Prime "
                                      "Minister (giao theo kế hoạch Thủ tướng). A decrease names the part of each it "
                                      "takes; an extension carries none")
    tranche: int | None = Field(None, ge=1, le=20, description="Allocation tranche (đợt), e.g. 3 for đợt 3")
    decision_number: Text200 = Field(description="Decision number (số quyết định)")
    decision_date: IsoDate
    authority: Text200 = Field(description="Deciding authority (cơ quan quyết định)")
    extended_until: IsoDate | None = Field(None, description="For an extension: last day the capital may be spent")
    note: str | None = Field(None, max_length=1000)


class AllocationOut(HeldPool):
    id: int
    project_id: int
    kind: AllocationKind
    amount_vnd: int = Field(description="Signed change of the plan (extension: amount extended)")
    added_vnd: int = Field(description="R1b: of amount_vnd (same sign), the capital added by the province (giao tăng)")
    tranche: int | None
    decision_number: str
    decision_date: IsoDate
    authority: str
    extended_until: IsoDate | None
    reallocation_proposal_id: int | None
    note: str | None
    known_on: IsoDate
    created_at: datetime

    @computed_field(description="R1b: of amount_vnd, the plan assigned by the Prime Minister (giao theo kế hoạch "  # type: ignore[prop-decorator]
                    "Thủ tướng)")
    @property
    def assigned_vnd(self) -> int:
        return self.amount_vnd - self.added_vnd if self.kind is not AllocationKind.extension else 0


class DisbursementFields(PoolFields):
    kind: DisbursementKind = Field(description="advance (tạm ứng), payment (thanh toán KLHT), clearance "
                                   "(hoàn ứng GPMB: settles a site-clearance advance without new cash)")
    advance_kind: AdvanceKind | None = Field(None, description="For an advance: contract, site_clearance (GPMB), other")
    contract_id: Id | None = Field(None, description="Contract the money is paid under (hợp đồng)")
    contract_member_id: Id | None = Field(None, description="Under a joint-venture contract (liên danh): the member "
                                          "paid; R7 and R8 apply to its own advances and share")
    amount_vnd: PositiveVnd = Field(description="Advance amount, or value of completed work paid, or value settled")
    advance_recovered_vnd: NonNegativeVnd = Field(
        0, description="Advance recovered from this payment (thu hồi tạm ứng)")
    value_date: IsoDate = Field(description="Date the Treasury paid (ngày giá trị)")
    document_number: Text200 = Field(description="Treasury voucher or owner document number; unique per project")
    owner_document_number: Text200 | None = Field(
        None, description="Treasury only (R15a): the owner's document (payment request, giấy đề nghị thanh toán) "
        "this entry pays. The owner's report of that number is superseded by a reversal posted with this entry, so "
        "the money counts once, as confirmed; an owner cannot later report it (`recorded_by_treasury`)")
    note: str | None = Field(None, max_length=1000)
    completes_supply: bool = Field(False, description="R8: this payment completes the supplied volume (hoàn thành "
                                   "cung cấp khối lượng) of an equipment contract, which must then recover its whole "
                                   "outstanding advance; equipment contracts are not recovered at 80%")

    @model_validator(mode="after")
    def _clearance_recovers_itself(self):
        if self.kind is DisbursementKind.clearance:
            self.advance_recovered_vnd = self.amount_vnd
        return self


class DisbursementCreate(DisbursementFields):
    model_config = {"json_schema_extra": {"examples": [{
        "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "kind": "payment",
        "amount_vnd": 3_200_000_000, "advance_recovered_vnd": 800_000_000, "value_date": "2024-10-10",
        "document_number": "KB-VP-2024-018734"}]}}


class BatchRow(DisbursementFields):
    project_id: Id


class DisbursementBatch(Schema):
    rows: list[BatchRow] = Field(min_length=1, max_length=10_000, description="Up to 10,000 rows; all or nothing")


class ReversalCreate(Schema):
    """A correction: a new entry that negates a recorded disbursement."""

    document_number: Text200 = Field(description="Number of the correcting document")
    value_date: IsoDate
    note: str = Field(min_length=1, max_length=1000, description="Why the entry is reversed")


class RuleWarning(Schema):
    """A rule that warns without rejecting (R5 advance floor)."""

    model_config = {"extra": "allow"}

    code: str = Field(examples=["advance_below_floor"])
    rule: str = Field(examples=["R5"])
    detail: str


class DisbursementOut(HeldPool):
    id: int
    project_id: int
    kind: DisbursementKind
    advance_kind: AdvanceKind | None
    contract_id: int | None
    contract_member_id: int | None = None
    amount_vnd: int
    advance_recovered_vnd: int
    net_vnd: int = Field(description="Cash paid out (amount − recovered); counts against the plan")
    value_date: IsoDate
    document_number: str
    reverses_id: int | None
    note: str | None
    source: EntrySource = Field(description="R15a: `treasury` — the Treasury's record (money it paid); `owner` — the "
                                "owner's report, an estimate until the Treasury confirms it")
    origin: EntrySource = Field(description="Whose money the row moves: its `source`, or for a reversal the source of "
                                "the entry it reverses. Σ net where `treasury` is the confirmed part of a figure")
    owner_document_number: str | None = Field(description="On a Treasury entry: the owner's document it pays")
    completes_supply: bool = Field(False, description="R8: a payment completing an equipment contract's supply")
    known_on: IsoDate
    created_at: datetime
    warnings: list[RuleWarning] = Field(default_factory=list, description="Warnings that did not reject the "
                                        "write, e.g. R5: first advance below the usual minimum rate")


class BatchResult(Schema):
    created: int
    ids: list[int]


class PoolBalanceOut(HeldPool):
    project_id: int
    plan_vnd: int = Field(description="Plan (kế hoạch vốn) for the pool: the province's plan, all provenances")
    assigned_plan_vnd: int = Field(description="R1b: of plan_vnd, the plan assigned by the Prime Minister "
                                   "(giao theo kế hoạch Thủ tướng)")
    added_plan_vnd: int = Field(description="R1b: of plan_vnd, the capital added by the province (giao tăng)")
    extended_vnd: int = Field(description="Part of the plan extended beyond the normal window (kéo dài)")
    disbursed_vnd: int = Field(description="Net disbursed (giải ngân)")
    advanced_vnd: int
    advance_recovered_vnd: int
    paid_vnd: int = Field(description="Completed work paid (gross)")
    remaining_vnd: int = Field(description="Plan − disbursed")
    rate_pct: float = Field(description="R1b rate of the province's plan: disbursed ÷ plan_vnd × 100 (0 without plan)")
    rate_of_assigned_plan_pct: float | None = Field(
        description="R1b rate of the Prime Minister's plan: the same disbursed ÷ assigned_plan_vnd × 100; null when "
        "the pool holds only capital the province added")


class ProjectBalancesOut(Schema):
    project_id: int
    as_of: IsoDate
    pools: list[PoolBalanceOut]
