"""The domain's shared vocabulary (see ../shared/DOMAIN.md §2).

String enums so that values read the same in the database, in JSON and in logs.
"""

from enum import StrEnum


class Role(StrEnum):
    """Roles of an API key (DESIGN.md, Auth)."""

    admin = "admin"
    planner = "planner"  # Sở Tài chính / Kế hoạch và Đầu tư: drafts plans and proposals
    approver = "approver"  # UBND tỉnh: approves proposals
    treasury = "treasury"  # Kho bạc Nhà nước
    owner = "owner"  # chủ đầu tư / Ban QLDA: writes for its own projects only
    viewer = "viewer"


class OrganisationKind(StrEnum):
    people_committee = "people_committee"  # UBND
    department = "department"  # Sở
    treasury = "treasury"  # Kho bạc
    investor = "investor"  # chủ đầu tư / Ban QLDA
    district = "district"  # huyện / thành phố (abolished 2025-07-01)
    commune = "commune"  # xã
    other = "other"


class CapitalSource(StrEnum):
    """Nguồn vốn."""

    central = "central"  # NSTW
    local_balanced = "local_balanced"  # cân đối NSĐP
    land_use = "land_use"  # tiền sử dụng đất
    lottery = "lottery"  # xổ số kiến thiết
    local_borrowing = "local_borrowing"  # bội chi NSĐP
    oda = "oda"  # vốn nước ngoài


class BudgetLevel(StrEnum):
    """Cấp ngân sách."""

    central = "central"
    province = "province"
    district = "district"
    commune = "commune"


class ProjectGroup(StrEnum):
    national = "national"
    a = "A"
    b = "B"
    c = "C"


class ProjectStage(StrEnum):
    new = "new"  # khởi công mới
    ongoing = "ongoing"  # chuyển tiếp
    completed = "completed"  # hoàn thành
    settled = "settled"  # quyết toán


class ProjectStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


class ProjectFunding(StrEnum):
    """How a project is financed: only public investment has a capital ledger."""

    public = "public"  # đầu tư công: plans and disbursements in the ledger
    non_budget = "non_budget"  # dự án đầu tư ngoài ngân sách (Appendix 1): progress and obstacles, no money


class Milestone(StrEnum):
    start = "start"  # khởi công
    completion = "completion"  # hoàn thành
    inauguration = "inauguration"  # khánh thành


class ReportFrequency(StrEnum):
    """How often a watch-list's members report (định kỳ báo cáo)."""

    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    ad_hoc = "ad_hoc"  # báo cáo nhanh, đột xuất


class GroupRole(StrEnum):
    leader = "leader"  # tổ trưởng
    deputy = "deputy"  # tổ phó
    member = "member"  # thành viên


class AllocationKind(StrEnum):
    """Kind of capital-plan ledger entry (kế hoạch vốn)."""

    initial = "initial"  # giao kế hoạch đầu năm
    supplement = "supplement"  # bổ sung (đợt 2, đợt 3…)
    adjustment_in = "adjustment_in"  # điều chỉnh tăng
    adjustment_out = "adjustment_out"  # điều chỉnh giảm
    extension = "extension"  # kéo dài: may be spent after the normal window
    lapse = "lapse"  # hủy dự toán: unspent plan that lapsed
    next_year_advance = "next_year_advance"  # ứng trước kế hoạch vốn năm sau (R1a): raises this year's plan
    advance_repayment = "advance_repayment"  # thu hồi vốn ứng trước (R1a): generated, never sent by a client


# Kinds whose amount increases the plan; the others decrease it, except extension which changes the window.
PLAN_INCREASING = frozenset({AllocationKind.initial, AllocationKind.supplement, AllocationKind.adjustment_in,
                             AllocationKind.next_year_advance})
PLAN_DECREASING = frozenset({AllocationKind.adjustment_out, AllocationKind.lapse, AllocationKind.advance_repayment})
# R1a: new capital of year Y+1 (its plan and supplements) first repays what was advanced from it in year Y
# (ứng trước). A reallocation's adjustment_in does not: it moves capital to where it is spent this year.
REPAYS_NEXT_YEAR_ADVANCE = frozenset({AllocationKind.initial, AllocationKind.supplement})


class PlanProvenance(StrEnum):
    """Who assigned capital of a plan (R1b)."""

    assigned = "assigned"  # giao theo kế hoạch Thủ tướng: the plan the Prime Minister assigned
    added = "added"  # giao tăng: capital the province added itself


class MediumTermKind(StrEnum):
    """Kind of medium-term plan entry (kế hoạch đầu tư công trung hạn, R1c)."""

    initial = "initial"  # giao kế hoạch trung hạn
    adjustment_in = "adjustment_in"  # điều chỉnh tăng
    adjustment_out = "adjustment_out"  # điều chỉnh giảm


class EntrySource(StrEnum):
    """Provenance of a ledger entry (R15a): the Treasury's record (xác nhận của Kho bạc) or an owner's report."""

    treasury = "treasury"  # recorded by the Treasury: money it paid
    owner = "owner"  # reported by the project owner: an estimate until the Treasury confirms it


class DisbursementKind(StrEnum):
    advance = "advance"  # tạm ứng
    payment = "payment"  # thanh toán khối lượng hoàn thành (may recover advance)
    clearance = "clearance"  # hoàn ứng GPMB: settles a site-clearance advance, no new cash


class AdvanceKind(StrEnum):
    contract = "contract"  # R9
    site_clearance = "site_clearance"  # GPMB, R10
    other = "other"  # other non-contract work, R11
