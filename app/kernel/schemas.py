"""Shared schema pieces: money, pages, page tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import date
from typing import Annotated, Generic, TypeVar

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from app.kernel.errors import BadRequest

MAX_VND = 10**15  # national totals stay below 2^53, safe as JSON numbers for JavaScript clients

PositiveVnd = Annotated[int, Field(strict=True, gt=0, le=MAX_VND, description="Amount in đồng (integer VND)",
                                   examples=[1_500_000_000])]
NonNegativeVnd = Annotated[int, Field(strict=True, ge=0, le=MAX_VND, description="Amount in đồng (integer VND)",
                                      examples=[0])]
PlanYear = Annotated[int, Field(strict=True, ge=2000, le=2100, description="Plan year (năm kế hoạch)",
                                examples=[2024])]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]

def _iso_date_only(raw: object) -> object:
    # Pydantic's lax mode reads "0" or 1700000000 as a Unix time; a business date is YYYY-MM-DD, nothing else.
    if isinstance(raw, str) and not (len(raw) == 10 and raw[4] == "-" and raw[7] == "-"):
        raise ValueError("a date must be written YYYY-MM-DD")
    if isinstance(raw, int | float):
        raise ValueError("a date must be written YYYY-MM-DD")
    return raw


def _plausible_year(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("the date must fall in the years 2000–2100")
    return value


# Every business date the API accepts lies in 2000-01-01..2100-12-31 (docs/rules.md): no date can reach a
# classifier that adds months to it, and the bound is declared in the schema (formatMinimum/formatMaximum).
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)
IsoDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_plausible_year),
                    Field(json_schema_extra={"formatMinimum": DATE_MIN.isoformat(),
                                             "formatMaximum": DATE_MAX.isoformat()})]
PlanYearPath = Annotated[int, Path(ge=2000, le=2100, description="Plan year (năm kế hoạch)")]

PageSize = Annotated[int, Field(ge=1, le=500, description="Items per page (default 50, max 500)")]

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = Field(None, description="Opaque token for the next page; null on the last page")


def _fingerprint(filters: dict) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:12]


def encode_page_token(after: int | str, filters: dict) -> str:
    raw = json.dumps({"a": after, "f": _fingerprint(filters)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str | None, filters: dict) -> int | str | None:
    """The position after which the next page starts; 400 on a token that is malformed or for other filters."""
    if token is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, fingerprint = data["a"], data["f"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest("invalid_page_token", "page_token is not a token this API issued.",
                         pointer="query:page_token") from exc
    if fingerprint != _fingerprint(filters) or not isinstance(after, int | str):
        raise BadRequest("invalid_page_token", "page_token was issued for other filters; start again without it.",
                         pointer="query:page_token")
    return after


def after_id(token: str | None, filters: dict) -> int:
    """The id after which a keyset page starts (0 for the first page); 400 on a foreign or broken token."""
    return int(decode_page_token(token, filters) or 0)


def split_page(rows: list[T], page_size: int, filters: dict, key=lambda row: row.id) -> tuple[list[T], str | None]:
    """Rows fetched with `limit = page_size + 1` → (the page, the token of the next page or None)."""
    if len(rows) > page_size:
        return rows[:page_size], encode_page_token(key(rows[page_size - 1]), filters)
    return rows, None
