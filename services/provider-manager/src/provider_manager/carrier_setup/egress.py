"""The platform's SIP egress addresses, which carrier setup registers as the trunk's IPs."""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_SIP_PORT = 5060


class EgressAddress(BaseModel):
    """One `ip:port` our SBC sends SIP from (IPv4: Telnyx IPs are IPv4 only)."""

    model_config = ConfigDict(frozen=True)

    ip: str
    port: int = Field(default=DEFAULT_SIP_PORT, ge=1, le=65535)

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


def parse_egress_addresses(raw: Any) -> tuple[EgressAddress, ...]:
    """Parse `"ip:port,ip:port"` (a bare ip means port 5060); raise ValueError saying why not.

    Addresses a carrier can never reach (loopback, unspecified, multicast, link-local) are
    refused at startup rather than registered at the carrier.
    """
    if isinstance(raw, tuple | list):
        items = [str(item) for item in raw]
    elif raw is None:
        items = []
    else:
        items = str(raw).split(",")
    out: list[EgressAddress] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        host, sep, port_text = item.rpartition(":")
        if not sep:
            host, port_text = item, str(DEFAULT_SIP_PORT)
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{item!r}: expected IPv4 ip:port") from None
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ValueError(f"{item!r}: port must be 1-65535")
        if (
            address.is_loopback
            or address.is_unspecified
            or address.is_multicast
            or address.is_link_local
        ):
            raise ValueError(f"{item!r}: a carrier cannot reach this address")
        egress = EgressAddress(ip=str(address), port=int(port_text))
        if egress in out:
            raise ValueError(f"{item!r}: listed twice")
        out.append(egress)
    return tuple(out)
