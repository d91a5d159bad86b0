"""Watch-lists, people, working-group members, lead officials, progress and milestones: request and answer shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.enums import GroupRole, Milestone, ProjectFunding, ReportFrequency
from app.kernel.schemas import Id, IsoDate, Schema

Action = Literal["join", "leave"]


class WatchListCreate(Schema):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._\-/]+$", examples=["app2"])
    name: str = Field(min_length=1, max_length=300, examples=["Phụ lục 2: Dự án đầu tư công lớn, trọng điểm"])
    decision_ref: str | None = Field(None, max_length=300, description="The programme or decision that set it")
    decided_on: IsoDate | None = None
    project_funding: ProjectFunding | None = Field(
        None, description="Which projects may join: public (đầu tư công), non_budget (ngoài ngân sách); null: any")
    reporter: str | None = Field(None, max_length=300, description="Who reports (e.g. the investors, the districts)")
    report_frequency: ReportFrequency | None = Field(None, description="How often: weekly, monthly, quarterly, "
                                                     "ad_hoc (báo cáo nhanh)")
    report_to_organisation_id: Id | None = Field(None, description="To whom (e.g. Sở Kế hoạch và Đầu tư)")
    report_duty: str | None = Field(None, max_length=1000, description="The duty in the programme's words")


class WatchListOut(WatchListCreate):
    id: int
    members_now: int = Field(description="Projects on the list on `as_of` (default today)")
    created_at: datetime


class MembershipChange(Schema):
    """A project joins or leaves the list from a date (append-only: a correction is a new change)."""

    project_id: Id
    action: Action
    effective_on: IsoDate = Field(description="On or after the pair's latest change")
    decision_ref: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=500)


class MembershipChangeOut(MembershipChange):
    id: int
    watch_list_id: int
    recorded_at: datetime
    key_id: int | None


class PersonRef(Schema):
    id: int
    full_name: str
    title: str | None


class MilestoneOut(Schema):
    milestone: Milestone
    planned_on: date | None
    actual_on: date | None
    reported_on: date = Field(description="The report these dates come from (the latest dated by as_of)")


class MemberOut(Schema):
    project_id: int
    code: str
    name: str
    funding: ProjectFunding
    member_since: date
    physical_pct: float | None = Field(description="Physical progress (% of works) as last reported by as_of")
    progress_reported_on: date | None
    lead: PersonRef | None
    milestones: list[MilestoneOut]


class MembersOut(Schema):
    watch_list_id: int
    as_of: date
    items: list[MemberOut]


class PersonCreate(Schema):
    full_name: str = Field(min_length=1, max_length=200, pattern=r"\S", examples=["Trần Minh Khải"])
    title: str | None = Field(None, max_length=200, examples=["Phó Chủ tịch UBND tỉnh"])
    organisation_id: Id | None = None


class PersonOut(PersonCreate):
    id: int
    created_at: datetime


class LeadAssign(Schema):
    person_id: Id
    effective_on: IsoDate = Field(description="From this day; on or after the project's latest assignment")
    decision_ref: str | None = Field(None, max_length=100)


class LeadOut(LeadAssign):
    id: int
    project_id: int
    person: PersonRef
    recorded_at: datetime


class GroupMemberChange(Schema):
    person_id: Id
    action: Action
    role: GroupRole | None = Field(None, description="leader (tổ trưởng), deputy, member; default: the last role, "
                                   "else member")
    effective_on: IsoDate


class GroupMemberChangeOut(Schema):
    id: int
    working_group_id: int
    person_id: int
    action: Action
    role: GroupRole
    effective_on: date
    recorded_at: datetime


class GroupMemberOut(Schema):
    person: PersonRef
    role: GroupRole
    member_since: date


class GroupMembersOut(Schema):
    working_group_id: int
    as_of: date
    items: list[GroupMemberOut]


class ProgressCreate(Schema):
    reported_on: IsoDate = Field(description="The day the figure describes (not in the future)")
    physical_pct: float = Field(ge=0, le=100, strict=True, allow_inf_nan=False, description="% of the works done")
    note: str | None = Field(None, max_length=1000)


class ProgressOut(ProgressCreate):
    id: int
    project_id: int
    recorded_at: datetime
    key_id: int | None


class MilestoneCreate(Schema):
    milestone: Milestone = Field(description="start (khởi công), completion (hoàn thành), inauguration (khánh thành)")
    planned_on: IsoDate | None = None
    actual_on: IsoDate | None = Field(None, description="Not after reported_on")
    reported_on: IsoDate = Field(description="The day this is known (not in the future)")
    note: str | None = Field(None, max_length=1000)


class MilestoneReportOut(MilestoneCreate):
    id: int
    project_id: int
    recorded_at: datetime
    key_id: int | None


class ProjectProgressOut(Schema):
    project_id: int
    as_of: date
    physical_pct: float | None
    progress_reported_on: date | None
    milestones: list[MilestoneOut]
    progress_reports: list[ProgressOut] = Field(description="Reports dated by as_of, oldest first")
    milestone_reports: list[MilestoneReportOut]


class LeadsOut(Schema):
    project_id: int
    as_of: date
    lead: PersonRef | None = Field(description="The lead official on as_of")
    items: list[LeadOut] = Field(description="Every assignment, oldest first")
