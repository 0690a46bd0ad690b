"""Health-check wire shapes: results the health-checker writes back to provider-manager,
and the probe history operators read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.providers import Provider

# What a probe can conclude; `unknown` is provider-manager's state before any result.
ProbeStatus = Literal["healthy", "unhealthy"]

# Results per write-back call: big enough that a 10,000-provider round is ~20 calls,
# small enough that one call stays well under the RPC deadline.
MAX_HEALTH_BATCH = 1000
HISTORY_LIMIT = 100


class ProviderHealthResult(BaseModel):
    """One probe's verdict. Applied only while the provider still has `hostname`."""

    model_config = ConfigDict(extra="ignore")

    provider_id: str
    hostname: str
    status: ProbeStatus
    checked_at: str = Field(description="When the probe concluded (UTC, the seeds' format)")


class ProviderHealthBatch(BaseModel):
    """Body of provider-manager's `POST /v1/providers/health`."""

    model_config = ConfigDict(extra="ignore")

    results: list[ProviderHealthResult] = Field(max_length=MAX_HEALTH_BATCH)


class ProviderHealthApplied(BaseModel):
    """Reply of `POST /v1/providers/health`: how many results took effect."""

    applied: int
    changed: int
    ignored: int


class HealthCheck(BaseModel):
    """One probe in a provider's history."""

    checked_at: str = Field(description="When the probe concluded (UTC)")
    hostname: str = Field(description="The provider hostname that was probed")
    address: str | None = Field(description="ip:port the OPTIONS went to (last one tried)")
    outcome: ProbeStatus
    status_code: int | None = Field(description="SIP status code of the response, if any")
    reason: str | None = Field(description="SIP reason phrase of the response, if any")
    rtt_ms: float | None = Field(description="First transmission to first response, ms")
    error: str | None = Field(description="Why the probe failed (timeout, DNS), if it did")


class HealthCheckList(BaseModel):
    """A page of the last 100 probes of a provider, newest first."""

    result: list[HealthCheck]
    next_page_token: str


class ProviderHealthChanged(BaseModel):
    """Data of the `provider_health_changed` event: a provider's health_status changed."""

    provider_id: str
    hostname: str = Field(description="The hostname the deciding probe was sent to")
    old_status: Literal["unknown", "healthy", "unhealthy"]
    new_status: Literal["unknown", "healthy", "unhealthy"]
    checked_at: str | None = Field(description="When the deciding probe concluded (UTC)")
    provider: Provider = Field(description="The provider after the change")
