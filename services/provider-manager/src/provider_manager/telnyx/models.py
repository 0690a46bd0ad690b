"""Typed views of the Telnyx v2 objects the provider setup uses.

Parsing is lenient: unknown fields are kept (``model_extra``), ids may arrive as numbers and are
turned into strings, and only ``id`` is required.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _TelnyxModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, coerce_numbers_to_str=True)


class Balance(_TelnyxModel):
    """``GET /balance`` data. Money fields are decimal strings."""

    record_type: str = "balance"
    balance: str | None = None
    pending: str | None = None
    credit_limit: str | None = None
    available_credit: str | None = None
    currency: str | None = None


class OutboundVoiceProfile(_TelnyxModel):
    id: str
    record_type: str = "outbound_voice_profile"
    name: str = ""
    connections_count: int = 0
    traffic_type: str | None = None
    service_plan: str | None = None
    usage_payment_method: str | None = None
    whitelisted_destinations: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None


class IpConnectionInbound(_TelnyxModel):
    ani_number_format: str | None = None
    dnis_number_format: str | None = None


class IpConnectionOutbound(_TelnyxModel):
    outbound_voice_profile_id: str | None = None
    ip_authentication_method: str | None = None
    # A shared secret that identifies our traffic on shared egress IPs: keep it out of reprs.
    ip_authentication_token: str | None = Field(default=None, repr=False)
    tech_prefix: str | None = None


class IpConnection(_TelnyxModel):
    id: str
    record_type: str = "ip_connection"
    connection_name: str | None = None
    active: bool = True
    transport_protocol: str | None = None
    tags: list[str] = Field(default_factory=list)
    inbound: IpConnectionInbound = Field(default_factory=IpConnectionInbound)
    outbound: IpConnectionOutbound = Field(default_factory=IpConnectionOutbound)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def outbound_voice_profile_id(self) -> str | None:
        return self.outbound.outbound_voice_profile_id


class Ip(_TelnyxModel):
    id: str
    record_type: str = "ip"
    connection_id: str | None = None
    ip_address: str = ""
    port: int = 5060
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """Result of :meth:`TelnyxClient.check_key` (the key is usable when this is returned).

    ``billing_access`` is false when ``/balance`` answered 403 but the key could still list outbound
    voice profiles (a key restricted to voice); ``balance`` is then ``None``.
    """

    billing_access: bool
    balance: Balance | None = None
