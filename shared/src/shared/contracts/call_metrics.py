"""Per-provider call metrics over a window: the wire shape and the window's rules."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.errors import invalid_argument

DEFAULT_WINDOW_SECONDS = 3600
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 30 * 24 * 3600


def metrics_window(raw: object) -> int:
    """`window_seconds` from a query string; absent means the last hour."""
    if raw is None or raw == "":
        return DEFAULT_WINDOW_SECONDS
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if not MIN_WINDOW_SECONDS <= value <= MAX_WINDOW_SECONDS:
        raise invalid_argument(
            "window_seconds",
            f"must be an integer between {MIN_WINDOW_SECONDS} and {MAX_WINDOW_SECONDS}",
        )
    return value


class PostDialDelay(BaseModel):
    count: int = Field(description="Attempts with a measured delay")
    avg: float | None = Field(description="Mean, ms")
    p50: float | None = Field(description="Median, ms")
    p95: float | None = Field(description="95th percentile, ms")


class FailureCode(BaseModel):
    sip_status_code: int = Field(description="Final SIP code; 0 when no final response came")
    sip_reason: str
    count: int


class ProviderCallMetrics(BaseModel):
    """Outbound INVITEs sent through one provider in the window (each failover counts)."""

    provider_id: str
    window_seconds: int
    since: str
    until: str
    attempts: int
    answered: int
    in_progress: int = Field(description="Attempts not finished yet (left out of the ratio)")
    asr: float | None = Field(description="Answered / finished attempts; null when none")
    post_dial_delay_ms: PostDialDelay = Field(
        description="INVITE to the first 18x, or to the answer when no 18x came"
    )
    failures: list[FailureCode] = Field(description="Unanswered attempts by final code")
