"""Settings, read only from the environment (DESIGN.md, Operations)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_URL = f"sqlite+aiosqlite:///{ROOT / 'var' / 'disbursement.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str = Field(DEFAULT_SQLITE_URL, description="SQLAlchemy async URL; SQLite file by default")
    clock_today: date | None = Field(None, description="The service's business date; the real date if unset")
    environment: str = "development"
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_rows: int = 10_000
    sweep_interval_seconds: int = 300
    sweep_enabled: bool = True
    db_pool_size: int = 10
    # Read replicas (README, Scale): read-only endpoints read from a streaming standby; a client that wrote reads
    # its own write by sending back the write's `X-Read-After` (app.kernel.replica).
    database_read_url: str = Field("", description="SQLAlchemy async URL of a PostgreSQL streaming standby; "
                                   "empty: every read goes to DATABASE_URL")
    read_after_wait_ms: int = Field(250, ge=0, description="How long a read with X-Read-After waits for the standby "
                                    "to replay that far before it reads from the primary instead")
    # R18 flag thresholds
    flag_slow_margin_pp: int = 10
    flag_stalled_days: int = 60
    flag_at_risk_tolerance_pct: int = 5
    # Stored indicators (app.monitoring.indicator_store)
    indicator_refresh_enabled: bool = True
    indicator_refresh_seconds: float = 2.0
    indicator_refresh_batch: int = Field(1000, ge=1, description="Projects per background refresh transaction")
    # Edges (README, Configuration): browsers, hosts, slow or hostile clients
    cors_allow_origins: str = Field("", description="Comma-separated origins allowed by CORS; empty: CORS off")
    trusted_hosts: str = Field("*", description="Comma-separated Host names served (e.g. api.example.vn); *: any")
    auth_failure_limit: int = Field(20, ge=0, description="Failed authentications per client address and window "
                                    "before 429; 0: no limit")
    auth_failure_window_seconds: int = Field(300, ge=1)
    audit_anonymous_per_minute: int = Field(60, ge=0, description="Audit lines per minute for rejected writes "
                                            "without a valid key (the rest only counted in metrics)")
    header_timeout_seconds: float = Field(10.0, gt=0, description="Time a client has to send its request headers")
    body_timeout_seconds: float = Field(30.0, gt=0, description="Time allowed between two chunks of a request body")
    keep_alive_timeout_seconds: int = Field(5, ge=1, description="Idle keep-alive connections are closed after it")
    dashboard_session_secret: str = Field("", description="Signs the dashboard's session cookie (app/web); empty: "
                                          "a random secret kept in var/dashboard-secret (one host)")
    indicator_sync_limit: int = Field(
        300, ge=0, description="A request recomputes at most this many changed projects, else answers stale"
    )


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
