"""Vietnamese words for the codes the API speaks, and the units people read (R20): the dashboard (app/web), the
report workbooks and the Excel import all use these, so a code reads the same everywhere.

Pure: no database, no web. Amounts are integer đồng in; `million` gives triệu đồng (the unit of the TT 37 forms)
as a number rounded half up to two decimals, for a cell with a number format, never as text.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CAPITAL_SOURCES = {
    "central": "Ngân sách trung ương",
    "local_balanced": "Cân đối ngân sách địa phương",
    "land_use": "Tiền sử dụng đất",
    "lottery": "Xổ số kiến thiết",
    "local_borrowing": "Bội chi ngân sách địa phương",
    "oda": "Vốn nước ngoài (ODA)",
}
BUDGET_LEVELS = {"central": "Trung ương", "province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
DISBURSEMENT_KINDS = {"advance": "Tạm ứng", "payment": "Thanh toán KLHT", "clearance": "Hoàn ứng GPMB"}
ADVANCE_KINDS = {"contract": "Theo hợp đồng", "site_clearance": "Bồi thường, GPMB", "other": "Khác"}
ALLOCATION_KINDS = {
    "initial": "Giao đầu năm", "supplement": "Bổ sung", "adjustment_in": "Điều chỉnh tăng",
    "adjustment_out": "Điều chỉnh giảm", "extension": "Kéo dài", "lapse": "Hủy dự toán",
    "next_year_advance": "Ứng trước kế hoạch năm sau", "advance_repayment": "Thu hồi vốn ứng trước",
}
SOURCES = {"treasury": "Kho bạc xác nhận", "owner": "Chủ đầu tư báo cáo"}
FLAGS = {
    "slow": "Chậm giải ngân",
    "stalled": "Không giải ngân",
    "at_risk": "Nguy cơ không giải ngân hết",
    "able_to_absorb": "Có khả năng giải ngân thêm",
    "overdue_advances": "Tạm ứng quá hạn",
    "no_schedule": "Chưa đăng ký kế hoạch giải ngân",
}
FLAG_REASONS = {
    "behind_schedule": "chậm so với kế hoạch giải ngân tháng",
    "behind_milestone": "chậm so với mốc giải ngân",
    "behind_schedule_and_milestone": "chậm so với kế hoạch tháng và mốc giải ngân",
    "never_disbursed": "chưa giải ngân từ đầu năm",
    "no_disbursement_since": "không giải ngân từ lần gần nhất",
    "forecast_below_plan": "dự báo đến hạn thấp hơn kế hoạch",
    "capacity_and_need_exceed_plan": "năng lực và nhu cầu vượt kế hoạch",
    "overdue_outstanding": "còn dư tạm ứng quá hạn",
    "schedule_not_registered": "chưa đăng ký kế hoạch giải ngân",
}
# The numbers a flag carries (FlagOut.numbers), in words; `_vnd` ones are amounts, `_pct`/`_pp` percentages.
NUMBERS = {
    "plan_vnd": "Kế hoạch", "disbursed_vnd": "Đã giải ngân", "rate_pct": "Tỷ lệ",
    "milestone_target_pct": "Mốc", "milestone_gap_pp": "Chậm so với mốc", "margin_pp": "Ngưỡng",
    "scheduled_to_date_vnd": "Kế hoạch tháng đến nay", "schedule_gap_pp": "Chậm so với kế hoạch tháng",
    "days_without_disbursement": "Số ngày không giải ngân", "threshold_days": "Ngưỡng (ngày)",
    "forecast_vnd": "Dự báo đến hạn", "at_risk_vnd": "Có nguy cơ hủy", "forecast_rate_pct": "Tỷ lệ dự báo",
    "tolerance_pct": "Dung sai", "unconstrained_capacity_vnd": "Năng lực giải ngân",
    "registered_extra_need_vnd": "Nhu cầu bổ sung", "absorbable_vnd": "Có thể nhận thêm",
    "overdue_advance_vnd": "Tạm ứng quá hạn",
}
SECTORS = {
    "administration": "Quản lý nhà nước", "culture": "Văn hóa", "education": "Giáo dục", "environment": "Môi trường",
    "health": "Y tế", "irrigation": "Thủy lợi", "site_clearance": "Bồi thường, GPMB", "transport": "Giao thông",
    "urban": "Đô thị", "industrial_park": "Hạ tầng khu công nghiệp", "social_housing": "Nhà ở xã hội",
    "urban_area": "Khu đô thị",
}
FREQUENCIES = {"weekly": "hằng tuần", "monthly": "hằng tháng", "quarterly": "hằng quý",
               "ad_hoc": "báo cáo nhanh, đột xuất"}
GROUPS = {
    "investor": "Chủ đầu tư", "location": "Địa bàn (huyện, thành phố)", "sector": "Lĩnh vực",
    "capital_source": "Nguồn vốn", "budget_level": "Cấp ngân sách", "working_group": "Tổ công tác",
    "lead_official": "Lãnh đạo theo dõi", "watch_list": "Danh mục theo dõi",
}
PROPOSAL_STATUSES = {
    "draft": "Dự thảo", "submitted": "Đã trình", "approved": "Đã phê duyệt", "applied": "Đã thực hiện",
    "rejected": "Bị từ chối",
}
CASE_STATES = {
    "open": "Mới mở", "notice_sent": "Đã gửi thông báo", "committed": "Đã cam kết", "escalated": "Đã báo cáo cấp trên",
    "closed": "Đã đóng",
}
RECOVERY_STEPS = {"notice_sent": "Thông báo", "commitment": "Cam kết", "escalation": "Báo cáo cấp trên"}
DOSSIER_STATUSES = {"submitted": "Đã nộp", "complete": "Đủ hồ sơ", "paid": "Đã thanh toán", "returned": "Trả lại"}
OVERDUE_RULES = {"R9": "Tạm ứng hợp đồng (R9)", "R10": "Tạm ứng GPMB (R10)", "R11": "Tạm ứng khác (R11)"}


def label(table: dict[str, str], code: object) -> str:
    """The Vietnamese word for a code; an unknown code is shown as it is (never hidden)."""
    if code is None:
        return "—"
    key = getattr(code, "value", code)
    return table.get(str(key), str(key))


def flag_text(codes: list[str]) -> str:
    return "; ".join(label(FLAGS, c) for c in codes)


def million(amount_vnd: int) -> Decimal:
    """Đồng → triệu đồng, two decimals, half up (Decimal: no float rounding surprises in totals)."""
    return (Decimal(amount_vnd) / Decimal(1_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def billion_text(amount_vnd: int) -> str:
    """Tỷ đồng with one decimal, Vietnamese separators (1.234,5): the dashboard's headline unit."""
    value = (Decimal(amount_vnd) / Decimal(1_000_000_000)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return number_text(value, 1)


def number_text(value: int | float | Decimal, decimals: int = 0) -> str:
    """A number with Vietnamese separators: '.' groups thousands, ',' marks decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def date_text(day: date | str | None) -> str:
    """dd/mm/yyyy."""
    if day is None:
        return "—"
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return day.strftime("%d/%m/%Y")
