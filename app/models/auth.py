"""API keys: random, shown once, stored as a SHA-256 hash, tied to a role and an organisation.

Each key records the person holding it (`holder`), the key that issued it (`issued_by_key_id`; null only for keys
made by the command line, the bootstrap or the demo) and an optional expiry: R19's separation of duties and the
audit trail of who may act for whom are read from these (docs/rules.md, R19).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.enums import Role
from app.models.base import Base, BigId, pk


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = pk()
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    organisation_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    issued_by_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
