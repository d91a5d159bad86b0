"""Shared schema pieces: money, ids, years, dates, pages, page tokens, and the text every field may hold."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import date
from typing import Annotated, Generic, TypeVar

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

# Every integer the API reads is bounded and says so in the schema: an id beyond BIGINT, or a year beyond the
# plan-year window, is a 422 here instead of an overflow in the database driver (a 500).
MAX_ID = 2**63 - 1  # BIGINT, the widest key either database stores
# In a JSON body an id is a JSON integer (strict: no "5", 5.0 or true); in a path or query it is text.
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
IdParam = Annotated[int, Field(ge=1, le=MAX_ID)]
PlanYearParam = Annotated[int, Field(ge=2000, le=2100, description="Plan year (năm kế hoạch)")]
FeedPosition = Annotated[int, Field(ge=0, le=MAX_ID, description="Last position you processed (0 to start)")]

# PostgreSQL refuses NUL in text and JSON, and lone surrogates cannot be encoded as UTF-8: both are refused
# with a 422 wherever text comes in (app.kernel.api.text_guard), as are the other C0 controls but tab, LF, CR.
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def replace_forbidden_characters(text: str) -> str:
    """`text` storable anywhere (e.g. the path of a rejected request, for its audit line)."""
    return _FORBIDDEN_CHARACTERS.sub("\ufffd", text)


def forbidden_character_at(value: object, loc: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The location of the first string (or key) in `value` holding a forbidden character, else None."""
    if isinstance(value, str):
        return loc if _FORBIDDEN_CHARACTERS.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _FORBIDDEN_CHARACTERS.search(key):
                return (*loc, key)
            if (found := forbidden_character_at(item, (*loc, key))) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := forbidden_character_at(item, (*loc, index))) is not None:
                return found
    return None


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
PlanYearPath = PlanYearParam

PageSize = Annotated[int, Field(ge=1, le=500, description="Items per page (default 50, max 500)")]

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = Field(None, description="Opaque token for the next page; null on the last page")


def _fingerprint(filters: dict) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:12]


def encode_page_token(after: int, filters: dict) -> str:
    raw = json.dumps({"a": after, "f": _fingerprint(filters)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_MAX_TOKEN_LENGTH = 200  # the tokens this API issues are under 80 characters


def decode_page_token(token: str | None, filters: dict) -> int | None:
    """The id after which the next page starts; 400 `invalid_page_token` on a token that is forged, malformed,
    out of range or for other filters (never a 500, whatever the token holds)."""
    if token is None:
        return None
    try:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, fingerprint = data["a"], data["f"]
        if type(after) is not int or not 0 <= after <= MAX_ID or not isinstance(fingerprint, str):
            raise ValueError("not a position")
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise BadRequest("invalid_page_token", "page_token is not a token this API issued.",
                         pointer="query:page_token") from exc
    if fingerprint != _fingerprint(filters):
        raise BadRequest("invalid_page_token", "page_token was issued for other filters; start again without it.",
                         pointer="query:page_token")
    return after


def after_id(token: str | None, filters: dict) -> int:
    """The id after which a keyset page starts (0 for the first page); 400 on a foreign or broken token."""
    return decode_page_token(token, filters) or 0


def split_page(rows: list[T], page_size: int, filters: dict, key=lambda row: row.id) -> tuple[list[T], str | None]:
    """Rows fetched with `limit = page_size + 1` → (the page, the token of the next page or None)."""
    if len(rows) > page_size:
        return rows[:page_size], encode_page_token(key(rows[page_size - 1]), filters)
    return rows, None
