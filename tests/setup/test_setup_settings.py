"""Carrier-setup settings are validated at startup, so a bad value stops the process with a
clear message instead of failing (or registering a useless address) at the carrier."""

from __future__ import annotations

from typing import Any

import pytest
from provider_manager.carrier_setup.egress import EgressAddress
from provider_manager.settings import Settings
from pydantic import ValidationError


def settings(**env: Any) -> Settings:
    return Settings.model_validate(env)


def test_egress_addresses_parse_from_a_comma_list() -> None:
    parsed = settings(TELNYX_SIP_EGRESS_ADDRESSES=" 203.0.113.10:5060, 198.51.100.7 ,")
    assert parsed.telnyx_sip_egress_addresses == (
        EgressAddress(ip="203.0.113.10", port=5060),
        EgressAddress(ip="198.51.100.7", port=5060),
    )
    assert settings(TELNYX_SIP_EGRESS_ADDRESSES="").telnyx_sip_egress_addresses == ()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("127.0.0.1:5060", "cannot reach"),
        ("0.0.0.0:5060", "cannot reach"),
        ("169.254.1.1:5060", "cannot reach"),
        ("sbc.example.com:5060", "expected IPv4"),
        ("2001:db8::1", "expected IPv4"),
        ("203.0.113.10:70000", "port must be"),
        ("203.0.113.10:5060,203.0.113.10", "listed twice"),
    ],
)
def test_bad_egress_addresses_stop_the_start(value: str, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        settings(TELNYX_SIP_EGRESS_ADDRESSES=value)
    assert "TELNYX_SIP_EGRESS_ADDRESSES" in str(info.value) and why in str(info.value)


def test_destinations_and_base_url_and_budgets() -> None:
    assert settings(
        TELNYX_WHITELISTED_DESTINATIONS="us, gb,US"
    ).telnyx_whitelisted_destinations == (
        "US",
        "GB",
    )
    with pytest.raises(ValidationError, match="ISO 3166-1"):
        settings(TELNYX_WHITELISTED_DESTINATIONS="USA")
    with pytest.raises(ValidationError, match="http"):
        settings(TELNYX_API_BASE_URL="api.telnyx.com/v2")
    # Forward and rollback budgets must fit the gateway's 30 s deadline for setup.
    with pytest.raises(ValidationError, match="30 s"):
        settings(PROVIDER_MANAGER_SETUP_DEADLINE=25, PROVIDER_MANAGER_SETUP_ROLLBACK_DEADLINE=5)
    defaults = settings()
    assert defaults.telnyx_api_base_url == "https://api.telnyx.com/v2"
    assert defaults.setup_deadline + defaults.setup_rollback_deadline <= 28
