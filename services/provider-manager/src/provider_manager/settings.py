"""provider-manager settings (env prefix PROVIDER_MANAGER_ for its own knobs)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode
from shared.settings import CommonSettings

from provider_manager.carrier_setup.egress import EgressAddress, parse_egress_addresses

SERVICE = "provider-manager"
SCHEMA = "provider_manager"
# The gateway waits this long for POST /v1/providers/setup (docs/architecture.md, section 2).
SETUP_RPC_DEADLINE = 30.0


class Settings(CommonSettings):
    ops_port: int = Field(default=9101, validation_alias="PROVIDER_MANAGER_OPS_PORT")
    rpc_prefetch: int = Field(default=64, validation_alias="PROVIDER_MANAGER_RPC_PREFETCH")
    # Owner of the system-wide default routes, tried after a customer's own (VoIPbin's
    # IDBasicRoute); also the owner of a route created without a customer_id.
    default_route_customer_id: uuid.UUID = Field(
        default=uuid.UUID("00000000-0000-0000-0000-000000000001"),
        validation_alias="PROVIDER_MANAGER_DEFAULT_ROUTE_CUSTOMER_ID",
    )

    # -- provider passwords at rest (see credentials.py) ------------------------------------
    # 32 bytes, base64. Neither set: passwords are refused (503), never stored in clear.
    credentials_key: SecretStr | None = Field(
        default=None, validation_alias="PROVIDER_CREDENTIALS_KEY"
    )
    credentials_key_file: Path | None = Field(
        default=None, validation_alias="PROVIDER_CREDENTIALS_KEY_FILE"
    )

    # -- one-step carrier setup (POST /v1/providers/setup) -------------------------------------
    telnyx_api_base_url: str = Field(
        default="https://api.telnyx.com/v2", validation_alias="TELNYX_API_BASE_URL"
    )
    # Where our SBC sends SIP from, registered as the trunk's IPs. No default: a loopback
    # default would be registered at the carrier and silently break every trunk, so an unset
    # value makes setup answer 503 CARRIER_SETUP_NOT_CONFIGURED instead.
    telnyx_sip_egress_addresses: Annotated[tuple[EgressAddress, ...], NoDecode] = Field(
        default=(), validation_alias="TELNYX_SIP_EGRESS_ADDRESSES"
    )
    # Telnyx's own default; more countries mean more toll-fraud exposure.
    telnyx_whitelisted_destinations: Annotated[tuple[str, ...], NoDecode] = Field(
        default=("US", "CA"), validation_alias="TELNYX_WHITELISTED_DESTINATIONS"
    )
    telnyx_request_timeout: float = Field(
        default=5.0, gt=0, validation_alias="TELNYX_REQUEST_TIMEOUT"
    )
    telnyx_connect_timeout: float = Field(
        default=3.0, gt=0, validation_alias="TELNYX_CONNECT_TIMEOUT"
    )
    telnyx_max_attempts: int = Field(default=3, ge=1, validation_alias="TELNYX_MAX_ATTEMPTS")
    telnyx_retry_base_delay: float = Field(
        default=0.5, ge=0, validation_alias="TELNYX_RETRY_BASE_DELAY"
    )
    telnyx_retry_max_delay: float = Field(
        default=2.0, ge=0, validation_alias="TELNYX_RETRY_MAX_DELAY"
    )
    # A 429 asking for a longer wait than this fails the setup (502) instead of waiting.
    telnyx_max_server_wait: float = Field(
        default=5.0, ge=0, validation_alias="TELNYX_MAX_SERVER_WAIT"
    )
    # Budgets: forward steps, then compensation; together they stay under the gateway's
    # 30 s RPC deadline for setup, so a failed setup is rolled back before the caller gives up.
    setup_deadline: float = Field(
        default=18.0, gt=0, validation_alias="PROVIDER_MANAGER_SETUP_DEADLINE"
    )
    setup_rollback_deadline: float = Field(
        default=8.0, gt=0, validation_alias="PROVIDER_MANAGER_SETUP_ROLLBACK_DEADLINE"
    )
    # Cleaning up setups a crash left unfinished, at the start of each setup.
    setup_sweep_budget: float = Field(
        default=5.0, gt=0, validation_alias="PROVIDER_MANAGER_SETUP_SWEEP_BUDGET"
    )
    setup_sweep_limit: int = Field(
        default=10, ge=0, validation_alias="PROVIDER_MANAGER_SETUP_SWEEP_LIMIT"
    )

    @field_validator("telnyx_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL, e.g. https://api.telnyx.com/v2")
        return value.rstrip("/")

    @field_validator("telnyx_sip_egress_addresses", mode="before")
    @classmethod
    def _egress(cls, value: Any) -> tuple[EgressAddress, ...]:
        return parse_egress_addresses(value)

    @field_validator("telnyx_whitelisted_destinations", mode="before")
    @classmethod
    def _destinations(cls, value: Any) -> tuple[str, ...]:
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        codes = tuple(dict.fromkeys(str(c).strip().upper() for c in items if str(c).strip()))
        bad = [c for c in codes if len(c) != 2 or not c.isalpha() or not c.isascii()]
        if bad or not codes:
            raise ValueError("expected a comma list of ISO 3166-1 alpha-2 country codes")
        return codes

    @model_validator(mode="after")
    def _budgets(self) -> Self:
        if self.setup_deadline + self.setup_rollback_deadline > SETUP_RPC_DEADLINE - 2:
            raise ValueError(
                "PROVIDER_MANAGER_SETUP_DEADLINE + PROVIDER_MANAGER_SETUP_ROLLBACK_DEADLINE "
                f"must stay under the {SETUP_RPC_DEADLINE:g} s RPC deadline (minus 2 s)"
            )
        return self
