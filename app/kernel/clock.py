"""The service's clock: business dates in Asia/Ho_Chi_Minh (DOMAIN.md §3).

`CLOCK_TODAY` pins the business date (the demo runs on 2024-10-11); timestamps stay real UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.kernel.config import get_settings

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> date:
    pinned = get_settings().clock_today
    return pinned if pinned is not None else datetime.now(LOCAL_TZ).date()


def utcnow() -> datetime:
    return datetime.now(UTC)
