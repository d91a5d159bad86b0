"""R19 reallocation proposal schemas (đề xuất điều chuyển vốn)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from app.enums import BudgetLevel, CapitalSource, PlanProvenance
from app.kernel.schemas import Id, IsoDate, NonNegativeVnd, PlanYear, PositiveVnd, Schema, Text200


class PoolIn(Schema):
    capital_source: CapitalSource = Field(description="Capital source (nguồn vốn)")
    budget_level: BudgetLevel = Field(description="Budget level (cấp ngân sách)")
    budget_holder_id: Id | None = Field(None, description="R1 budget holder (organisation id). In `pools`, omitted: "
                                        "every holder of this source and level, each solved on its own (R19). In an "
                                        "envelope, omitted: the province's people's committee for the central and "
                                        "province levels; required for district and commune levels")


class ProposalOptions(Schema):
    minimum_transfer_vnd: NonNegativeVnd = Field(100_000_000, description="Smallest transfer worth a decision")
    safety_margin_vnd: NonNegativeVnd = Field(0, description="Kept above each donor's forecast")
    safety_margin_pct: float = Field(0.0, ge=0, le=100, strict=True,  # strict: `false` is not 0 %
                                     description="% of a donor's plan kept above its forecast")
    protect_watch_lists: bool = Field(True, strict=True, description="Projects on a watch-list never give capital")


class EnvelopeIn(PoolIn):
    """R19 envelope mode: new capital (a tranche, đợt) of one pool to distribute to the projects able to absorb it."""

    amount_vnd: PositiveVnd = Field(description="The envelope: new capital to distribute (vốn bổ sung)")
    tranche: int | None = Field(None, ge=1, le=20, description="The tranche (đợt), written on each supplement")
    provenance: PlanProvenance = Field(PlanProvenance.added, description="R1b: who assigned the new capital — `added` "
                                       "(giao tăng: the province's own, like a third tranche of local capital) or "
                                       "`assigned` (giao theo kế hoạch Thủ tướng: a Prime Minister's supplement)")


class ProposalCreate(Schema):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "plan_year": 2024,
                    "as_of": "2024-10-11",
                    "pools": [{"capital_source": "local_balanced", "budget_level": "province"}],
                    "options": {"minimum_transfer_vnd": 500_000_000, "safety_margin_pct": 2},
                }
            ]
        }
    }

    plan_year: PlanYear
    as_of: IsoDate | None = Field(None, description="Date of the figures (default: today)")
    pools: list[PoolIn] | None = Field(None, description="Pools to consider (default: all); never mixed")
    envelope: EnvelopeIn | None = Field(None, description="Envelope mode: distribute new capital of one pool instead "
                                        "of moving capital between projects (then `pools` must be absent)")
    options: ProposalOptions = Field(default_factory=ProposalOptions)
    title: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _one_mode(self):
        if self.envelope is not None and self.pools is not None:
            raise ValueError("an envelope names its own pool: send `envelope` or `pools`, not both")
        return self


class TransferOut(Schema):
    id: int
    capital_source: CapitalSource
    budget_level: BudgetLevel
    budget_holder_id: int = Field(description="R1 budget holder: donor and recipient pools share it (R19)")
    plan_year: int
    donor_project_id: int | None = Field(description="None in envelope mode: the money is new capital")
    recipient_project_id: int
    amount_vnd: int
    reason: str


class ProposalOut(Schema):
    id: int
    plan_year: int
    as_of: IsoDate
    status: str = Field(description="draft | submitted | approved | applied | rejected")
    title: str | None
    request: dict[str, Any]
    mode: str = Field(description="zero_sum (moves capital between projects) or envelope (distributes new capital)")
    envelope_vnd: int | None = Field(description="Envelope mode: the new capital to distribute")
    tranche: int | None
    moved_vnd: int
    transfer_count: int
    expected_rate_before: float = Field(description="Σ forecast ÷ Σ plan of the pools considered")
    expected_rate_after: float
    transfers: list[TransferOut]
    analysis: dict[str, Any] = Field(
        description="Every candidate donor (surplus, floor) and recipient (capacity, "
        "limiting factor, priority weight), pool outcomes and the greedy comparison"
    )
    drafted_by_key_id: int | None
    approved_by_key_id: int | None
    authority: str | None
    decision_number: str | None
    decision_date: IsoDate | None
    rejection_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class ProposalSummary(Schema):
    id: int
    plan_year: int
    as_of: IsoDate
    status: str
    title: str | None
    mode: str
    envelope_vnd: int | None
    moved_vnd: int
    transfer_count: int
    expected_rate_before: float
    expected_rate_after: float
    version: int
    created_at: datetime


class ApproveIn(Schema):
    authority: Text200 = Field(description="Deciding authority (cơ quan quyết định), e.g. UBND tỉnh")
    decision_number: Text200 = Field(description="Decision number (số quyết định)")
    decision_date: IsoDate


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=2000)
