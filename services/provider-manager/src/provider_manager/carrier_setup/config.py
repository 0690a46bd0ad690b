"""What one setup needs to know, taken once from Settings (tests build it directly)."""

from __future__ import annotations

from dataclasses import dataclass

from provider_manager.carrier_setup.egress import EgressAddress
from provider_manager.settings import Settings
from provider_manager.telnyx import RetryPolicy

TELNYX_SIP_HOSTNAME = "sip.telnyx.com"
# Every carrier resource a setup creates carries `<TAG_PREFIX><setup id>` as a tag and in its
# name, so it can be found again after a crash and never collides with another setup's.
TAG_PREFIX = "trunk-setup-"


def setup_tag(setup_id: str) -> str:
    return f"{TAG_PREFIX}{setup_id}"


@dataclass(frozen=True)
class SetupConfig:
    base_url: str
    egress: tuple[EgressAddress, ...]
    destinations: tuple[str, ...]
    request_timeout: float
    connect_timeout: float
    retry: RetryPolicy
    deadline: float
    rollback_deadline: float
    sweep_budget: float
    sweep_limit: int

    @classmethod
    def from_settings(cls, settings: Settings) -> SetupConfig:
        return cls(
            base_url=settings.telnyx_api_base_url,
            egress=settings.telnyx_sip_egress_addresses,
            destinations=settings.telnyx_whitelisted_destinations,
            request_timeout=settings.telnyx_request_timeout,
            connect_timeout=settings.telnyx_connect_timeout,
            retry=RetryPolicy(
                max_attempts=settings.telnyx_max_attempts,
                base_delay=settings.telnyx_retry_base_delay,
                max_delay=settings.telnyx_retry_max_delay,
                max_server_wait=settings.telnyx_max_server_wait,
            ),
            deadline=settings.setup_deadline,
            rollback_deadline=settings.setup_rollback_deadline,
            sweep_budget=settings.setup_sweep_budget,
            sweep_limit=settings.setup_sweep_limit,
        )
