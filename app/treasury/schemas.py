"""Schemas of issue #3: contracts, overdue advances, recovery cases, rule sets and calendar days."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.enums import AdvanceKind, BudgetLevel, CapitalSource
from app.kernel.schemas import IsoDate, NonNegativeVnd, PositiveVnd, Schema, Text200
from app.rulesets.calendar import DayKind
from app.treasury.recovery_rules import CaseState, Escalation, StepKind

ContractType = Literal["consulting", "construction", "equipment", "epc", "turnkey", "other"]


class ContractMemberIn(Schema):
    """A joint-venture member (thành viên liên danh) and its share of the contract value (R8)."""

    name: Text200 = Field(description="Member contractor (nhà thầu thành viên); unique in the contract")
    share_vnd: PositiveVnd = Field(description="Its share of the contract value (giá trị phần việc); the shares sum "
                                   "to the value, and 80% applies to each member's share")


class ContractMemberOut(ContractMemberIn):
    id: int
    advanced_vnd: int = Field(description="Advanced to this member (lũy kế tạm ứng)")
    recovered_vnd: int
    outstanding_vnd: int = Field(description="This member's outstanding advance (dư tạm ứng)")
    paid_vnd: int = Field(description="Completed work paid to this member, gross")


class ContractFields(Schema):
    contractor: Text200 = Field(description="Contractor (nhà thầu)")
    full_recovery_date: IsoDate | None = Field(None, description="Planned full-recovery date of advances "
                                            "(thời hạn thu hồi hết tạm ứng); R9 counts three months from it")
    agreed_advance_rate_pct: int | None = Field(None, ge=1, le=100, description="R4: the advance level agreed in "
                                                "the contract (tỷ lệ tạm ứng theo hợp đồng), if it states one; "
                                                "advances stay within it and within the ceiling")
    approved_advance_rate_pct: int | None = Field(None, ge=1, le=100, description="R4: advance rate above the "
                                                  "ceiling approved by a decision")
    approving_decision: str | None = Field(None, max_length=200, description="Decision approving the higher rate")
    guarantee_vnd: NonNegativeVnd = Field(0, description="Advance guarantee (bảo lãnh tạm ứng), R6")
    guarantee_expires_on: IsoDate | None = Field(None, description="Expiry of the advance guarantee")


class ContractCreate(ContractFields):
    """A contract (hợp đồng) under a project."""

    model_config = {"json_schema_extra": {"examples": [{
        "number": "15/2024/HĐXD", "contract_type": "construction", "contractor": "Công ty CP Xây dựng Vĩnh Phúc",
        "value_vnd": 48_000_000_000, "signed_on": "2024-03-15", "full_recovery_date": "2025-03-31",
        "guarantee_vnd": 7_200_000_000, "guarantee_expires_on": "2025-06-30"}]}}

    number: Text200 = Field(description="Contract number (số hợp đồng); unique per project")
    contract_type: ContractType = Field(description="consulting (tư vấn), construction (thi công xây dựng), "
                                        "equipment (thiết bị), epc, turnkey (chìa khóa trao tay), other")
    value_vnd: PositiveVnd = Field(description="Contract value at signing (giá trị hợp đồng)")
    signed_on: IsoDate = Field(description="Signing date (ngày ký)")
    members: list[ContractMemberIn] | None = Field(None, min_length=2, max_length=20, description="A joint venture "
                                                   "(liên danh): its members and their shares, summing to the value; "
                                                   "every advance and payment then names its member")


class ContractUpdate(Schema):
    contractor: Text200 | None = None
    contract_type: ContractType | None = Field(None, description="R8 depends on it (equipment: recovered on completed "
                                               "supply); the Treasury's once the contract has advances")
    members: list[ContractMemberIn] | None = Field(None, min_length=2, max_length=20, description="New shares of the "
                                                   "same joint-venture members (by name), summing to the value")
    value_vnd: PositiveVnd | None = Field(None, description="An amendment (phụ lục): R3 and R8 use the new value; "
                                          "R4's ceiling stays on the value at signing")
    agreed_advance_rate_pct: int | None = Field(None, ge=1, le=100)
    full_recovery_date: IsoDate | None = None
    approved_advance_rate_pct: int | None = Field(None, ge=1, le=100)
    approving_decision: str | None = Field(None, max_length=200)
    guarantee_vnd: NonNegativeVnd | None = None
    guarantee_expires_on: IsoDate | None = None


class ContractOut(ContractCreate):
    model_config = {"extra": "ignore"}

    id: int
    project_id: int
    version: int
    value_vnd: int = Field(description="Contract value today, amendments included (giá trị hợp đồng): R3, R8")
    value_at_signing_vnd: int = Field(description="Contract value at signing, kept: R4's ceiling is a share of it")
    advanced_vnd: int = Field(description="Cumulative advances (lũy kế tạm ứng)")
    recovered_vnd: int = Field(description="Cumulative advance recovered (lũy kế thu hồi)")
    outstanding_vnd: int = Field(description="Outstanding advance (dư tạm ứng)")
    paid_vnd: int = Field(description="Completed work paid, gross (thanh toán KLHT)")
    supply_complete: bool = Field(False, description="R8: a payment completing the supplied volume is on the books")
    members: list[ContractMemberOut] | None = None  # type: ignore[assignment]  # with their balances
    created_at: datetime
    updated_at: datetime


class OverdueAdvanceOut(Schema):
    advance_id: int
    disbursement_id: int
    project_id: int
    project_code: str
    investor_id: int
    contract_id: int | None
    kind: AdvanceKind = Field(description="contract (R9), site_clearance (GPMB, R10), other (R11)")
    plan_year: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    budget_holder_id: int = Field(description="R1 budget holder (organisation id) of the advance's pool")
    advanced_on: IsoDate
    amount_vnd: int
    outstanding_vnd: int = Field(description="Dư tạm ứng of this advance after FIFO recoveries")
    overdue_vnd: int = Field(description="Tạm ứng quá hạn")
    rule: str = Field(examples=["R9"])
    rule_set: str = Field(examples=["nd99"])
    deadline: IsoDate | None = Field(description="Recovery deadline (hạn thu hồi); overdue from the day after")
    days_overdue: int
    bucket: str = Field(examples=["31-90"])
    version: int


class BucketTotal(Schema):
    count: int
    overdue_vnd: int


class OverdueAdvancePage(Schema):
    as_of: IsoDate
    totals: dict[str, BucketTotal] = Field(description="Per age bucket: 0-30, 31-90, 91-180, 181-365, >365 days")
    total_overdue_vnd: int
    items: list[OverdueAdvanceOut]
    next_page_token: str | None = None


class RecoveryStepCreate(Schema):
    """A step of an R16 recovery case."""

    model_config = {"json_schema_extra": {"examples": [{
        "kind": "notice_sent", "document_number": "125/TB-KBVP", "document_date": "2024-10-11",
        "deadline": "2024-11-10", "note": "Đề nghị thu hồi tạm ứng quá hạn"}]}}

    kind: Literal["notice_sent", "commitment", "escalation"] = Field(
        description="notice_sent (thông báo), commitment (cam kết của chủ đầu tư), escalation")
    document_number: str | None = Field(None, max_length=100, description="Document number (số văn bản)")
    document_date: IsoDate | None = None
    deadline: IsoDate | None = Field(None, description="notice_sent: deadline given to the investor")
    amount_vnd: NonNegativeVnd | None = Field(None, description="commitment: amount the investor commits to recover")
    committed_date: IsoDate | None = Field(None, description="commitment: date by which the investor will recover")
    escalation: Escalation | None = Field(None, description="people_committee_report (báo cáo UBND), "
                                          "guarantee_claim (thực hiện bảo lãnh), account_debit (trích tài khoản)")
    note: str | None = Field(None, max_length=1000)


class RecoveryStepOut(Schema):
    id: int
    kind: StepKind
    escalation: Escalation | None
    document_number: str | None
    document_date: IsoDate | None
    deadline: IsoDate | None
    amount_vnd: int | None
    note: str | None
    actor_key_id: int | None
    at: datetime


class RecoveryCaseOut(Schema):
    id: int
    advance_id: int
    project_id: int
    contract_id: int | None
    state: CaseState
    opened_on: IsoDate
    deadline: IsoDate | None
    deadline_passed: bool = Field(description="R16: the current deadline passed while the case is open")
    closed_on: IsoDate | None
    outstanding_vnd: int
    version: int
    steps: list[RecoveryStepOut]


class RuleSetOut(Schema):
    code: str
    effective_from: IsoDate
    effective_to: IsoDate | None
    version: int
    values: dict[str, Any] = Field(description="Effective values (defaults with overrides applied)")
    overrides: dict[str, Any] = Field(description="The administrator's overrides of the defaults")


class RuleSetPatch(Schema):
    """Overrides to merge; a null value removes that override."""

    model_config = {"json_schema_extra": {"examples": [{"overrides": {"due_soon_days": 45}}]}}

    overrides: dict[str, Any] = Field(min_length=1)


class CalendarDayIn(Schema):
    kind: DayKind = Field(description="day_off (ngày nghỉ) or working_day (ngày làm bù)")
    description: Text200


class CalendarDayOut(Schema):
    day: IsoDate
    kind: DayKind
    description: str


class AdvanceOut(Schema):
    """One advance (tạm ứng) and how it stands today (R9–R12)."""

    id: int
    project_id: int
    contract_id: int | None
    kind: AdvanceKind
    plan_year: int
    advanced_on: IsoDate
    amount_vnd: int
    recovered_vnd: int
    outstanding_vnd: int
    held_for_disputes_vnd: int = Field(description="R10: money held for owners who refuse or dispute compensation")
    extended_until: IsoDate | None = Field(description="R11: deadline extended (gia hạn) by a decision")
    extension_decision_number: str | None
    misuse_marked_on: IsoDate | None = Field(description="R9: marked overdue for misuse by the Treasury")
    misuse_document_number: str | None
    status: str = Field(description="current, due_soon, overdue or recovered, as of today")
    rule: str = Field(description="The rule that sets its deadline: R9, R10 or R11")
    overdue_date: IsoDate | None = Field(description="Last day before it becomes overdue")
    overdue_vnd: int


class AdvanceExtension(Schema):
    """R11: the competent authority extends an `other` advance's recovery deadline (gia hạn tạm ứng)."""

    extended_until: IsoDate = Field(description="New last day before the advance is overdue")
    decision_number: Text200 = Field(description="Decision granting the extension (số quyết định)")
    decided_on: IsoDate = Field(description="Date of the decision")


class MisuseMark(Schema):
    marked_on: IsoDate = Field(description="Date of the Treasury's finding")
    document_number: Text200 = Field(description="The Treasury's document (số văn bản)")


class HeldForDisputes(Schema):
    amount_vnd: NonNegativeVnd = Field(description="Money held for refusing or disputing owners (R10)")
    document_number: Text200
