"""Project and organisation schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from app.enums import OrganisationKind, ProjectFunding, ProjectGroup, ProjectStage, ProjectStatus, Role
from app.kernel.schemas import Id, IsoDate, PositiveVnd, Schema

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-/]+$")]
Year = Annotated[int, Field(strict=True, ge=1990, le=2100)]
WatchListCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-/]+$")]


class ProjectBase(Schema):
    name: str = Field(min_length=1, max_length=500, description="Project name (tên dự án)")
    investor_id: Id = Field(description="Investor organisation (chủ đầu tư / Ban QLDA)")
    sector: str = Field(min_length=1, max_length=60, description="Sector (lĩnh vực), e.g. transport",
                        examples=["transport"])
    location: str = Field(min_length=1, max_length=120, description="Location (địa điểm), e.g. a district",
                          examples=["Vĩnh Yên"])
    group: ProjectGroup = Field(description="Project group (nhóm dự án): national, A, B, C")
    stage: ProjectStage = Field(description="Stage: new (khởi công mới), ongoing (chuyển tiếp), completed, settled")
    total_investment_vnd: PositiveVnd = Field(description="Total investment (tổng mức đầu tư, TMĐT) in đồng")
    decision_ref: str | None = Field(None, max_length=100, description="Investment decision number (số quyết định)")
    decision_date: IsoDate | None = None
    start_year: Year
    end_year: Year
    watch_lists: list[WatchListCode] = Field(
        default_factory=list, max_length=20, description="Codes of the watch-lists it is on today (e.g. app1/app2/"
        "app3, the action programme's appendices). Written, it joins and leaves lists from today: "
        "POST /watch-lists/{id}/changes records a date and a decision")
    is_key_project: bool = Field(False, description="Key project (dự án trọng điểm)")
    lead_person_id: Id | None = Field(None, description="Its lead official today (a person). Written, the person "
                                      "leads it from today: POST /projects/{id}/leads records a date and a decision")
    working_group_id: Id | None = Field(None, description="Provincial working group (Tổ công tác)")


class ProjectCreate(ProjectBase):
    code: Code = Field(description="Project code (mã dự án)", examples=["VP-GT-0001"])
    funding: ProjectFunding = Field(ProjectFunding.public, description="public (đầu tư công) or non_budget (ngoài "
                                    "ngân sách: progress, milestones and obstacles, never plans or disbursements)")


class ProjectUpdate(Schema):
    """Fields to change; absent fields stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=500)
    investor_id: Id | None = Field(None, description="A new investor from today: recorded as an investor-history "
                                   "entry (POST …/investors for a change effective on an earlier date)")
    sector: str | None = Field(None, min_length=1, max_length=60)
    location: str | None = Field(None, min_length=1, max_length=120)
    group: ProjectGroup | None = None
    stage: ProjectStage | None = None
    total_investment_vnd: PositiveVnd | None = None
    decision_ref: str | None = Field(None, max_length=100)
    decision_date: IsoDate | None = None
    end_year: Year | None = None
    watch_lists: list[WatchListCode] | None = Field(None, max_length=20)
    is_key_project: bool | None = None
    lead_person_id: Id | None = None
    working_group_id: Id | None = None
    status: ProjectStatus | None = None


class ProjectOut(ProjectBase):
    id: int
    code: str
    funding: ProjectFunding
    lead_official: str | None = Field(description="The lead official's title and name today (read only)")
    status: ProjectStatus
    version: int = Field(description="Increases on every change; the ETag is derived from it")
    created_at: datetime
    updated_at: datetime


class OrganisationCreate(Schema):
    code: Code
    name: str = Field(min_length=1, max_length=300)
    kind: OrganisationKind
    parent_id: Id | None = None
    valid_from: IsoDate
    valid_to: IsoDate | None = None


class OrganisationOut(Schema):
    id: int
    code: str
    name: str
    kind: OrganisationKind
    parent_id: int | None
    valid_from: IsoDate
    valid_to: IsoDate | None


class OrganisationDetail(OrganisationOut):
    predecessor_ids: list[int] = Field(description="Organisations this one took over")
    successor_ids: list[int] = Field(description="Organisations that took this one over")


class SuccessionCreate(Schema):
    """This organisation is taken over by `successor_id` (e.g. the 2025-07-01 provincial merger)."""

    successor_id: Id
    effective_on: IsoDate
    decision_ref: str | None = Field(None, max_length=100)


class WorkingGroupOut(Schema):
    id: int
    code: str
    name: str
    leader_person_id: int | None = Field(description="Its leader today (tổ trưởng): GET …/members for them all")
    leader_name: str | None = Field(description="The leader's title and name")


class ApiKeyCreate(Schema):
    organisation_id: Id
    role: Role
    name: str = Field(min_length=1, max_length=200, description="A label for the key")
    holder: str = Field(min_length=1, max_length=200, pattern=r"\S",
                        description="The person the key is issued to (R19: a proposal's drafter and approver must be "
                        "different people)", examples=["Nguyễn Văn An"])
    expires_at: AwareDatetime | None = Field(None, description="When the key stops working (RFC 3339, in the future); "
                                             "omitted: it works until revoked")


class ApiKeyOut(Schema):
    id: int
    name: str
    holder: str = Field(description="The person the key is issued to")
    role: Role
    organisation_id: int
    prefix: str
    issued_by_key_id: int | None = Field(description="The key that issued this one; null for keys made by the "
                                         "command line or the demo")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret key. Shown once; store it now.")


class InvestorChangeCreate(Schema):
    """A change of a project's investor (chủ đầu tư), e.g. to the successor after a merger; appended to its history."""

    model_config = {"json_schema_extra": {"examples": [{
        "investor_id": 12, "effective_from": "2025-07-01", "decision_ref": "1234/QĐ-UBND"}]}}

    investor_id: Id = Field(description="The new investor organisation")
    effective_from: IsoDate = Field(description="From this date (today or earlier, after the last change) the "
                                    "organisation is the investor; reports as of an earlier date keep the old one")
    decision_ref: str | None = Field(None, max_length=200, description="Decision assigning the project (số quyết định)")


class ProjectInvestorOut(Schema):
    id: int
    project_id: int
    investor_id: int
    effective_from: IsoDate | None = Field(description="From this date; null: since the project was registered")
    decision_ref: str | None
    known_on: IsoDate = Field(description="Business date the entry was recorded (reports as of earlier dates ignore "
                              "it)")
    created_at: datetime
