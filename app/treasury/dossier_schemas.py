"""Payment and advance dossier schemas (R15)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.enums import AdvanceKind
from app.kernel.schemas import Id, IsoDate, NonNegativeVnd, PositiveVnd, Schema, Text200
from app.ledger.schemas import HeldPool, PoolFields
from app.treasury.sla import DossierKind, DossierStatus


class DossierCreate(PoolFields):
    """A dossier the investor files with the Treasury (hồ sơ đề nghị thanh toán / tạm ứng)."""

    model_config = {"json_schema_extra": {"examples": [{
        "plan_year": 2024, "capital_source": "local_balanced", "budget_level": "province", "kind": "payment",
        "amount_vnd": 2_400_000_000, "document_number": "HS-2024-0915", "submitted_on": "2024-10-09"}]}}

    kind: DossierKind = Field(description="payment (hồ sơ thanh toán) or advance (hồ sơ tạm ứng)")
    contract_id: Id | None = None
    amount_vnd: PositiveVnd
    document_number: Text200 = Field(description="Dossier number; unique per project")
    submitted_on: IsoDate | None = Field(None, description="Default: today")


class DossierAction(Schema):
    on: IsoDate | None = Field(None, description="Day of the action (default today)")
    reason: str | None = Field(None, max_length=1000, description="Required to return a dossier (lý do trả lại)")


class DossierPayment(DossierAction):
    """Paying a dossier posts the Treasury's disbursement (R15, R15a) through the same rules as any movement."""

    voucher_number: Text200 | None = Field(None, description="The Treasury's voucher (chứng từ); default: the "
                                           "dossier's number prefixed `KB-`")
    advance_recovered_vnd: NonNegativeVnd = Field(0, description="Payment dossier: advance recovered from it (R7)")
    advance_kind: AdvanceKind | None = Field(None, description="Advance dossier: contract (default with a contract), "
                                             "site_clearance or other (default without)")
    contract_member_id: Id | None = Field(None, description="A joint-venture contract's dossier (liên danh): the "
                                          "member paid (R8: each member at 80% of its share); required then")


class DelayReason(Schema):
    reason: str = Field(min_length=1, max_length=1000, description="Why the dossier is not processed in time")


class DossierOut(HeldPool):
    id: int
    project_id: int
    contract_id: int | None
    kind: DossierKind
    amount_vnd: int
    document_number: str
    status: DossierStatus
    submitted_on: IsoDate
    completed_on: IsoDate | None
    sla_due: IsoDate | None = Field(description="R15: last day to act — to accept as complete or return (from "
                                    "receipt), then to pay or return (from completion), in working days")
    disbursement_id: int | None = Field(None, description="The Treasury's disbursement posted when it was paid")
    pending_without_reason: bool = Field(description="R15: past its SLA with no recorded reason")
    delay_reason: str | None
    return_reason: str | None
    closed_on: IsoDate | None
    version: int
    created_at: datetime
