"""What goes into an outbound INVITE, decided from the provider and the call (pure).

Request-URI `sip:<tech_prefix><target><tech_postfix>@<hostname>` for tel targets; a sip
target keeps its own URI and the provider is only the next hop. Anonymity follows RFC 3323
(Privacy: id, anonymous From) and RFC 3325 (P-Asserted-Identity with the real number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shared.sip.headers import header_name_problem, header_value_problem
from shared.sip.uri import format_host_port, split_host_port

from call_manager.dialing.leg import InviteSpec

# What a user part may hold (RFC 3261 25.1 unreserved / user-unreserved / escaped).
_USER_SAFE = "-_.!~*'()&=+$,;?/"
_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,256}$")


class InviteError(ValueError):
    """The provider's settings cannot form a valid INVITE (caught as a failed call)."""


@dataclass(frozen=True, slots=True)
class ProviderRoute:
    hostname: str
    tech_prefix: str = ""
    tech_postfix: str = ""
    tech_headers: tuple[tuple[str, str], ...] = ()
    # "" = RFC 3263 chooses; "udp" / "tcp" / "tls" force one (issue 9).
    transport: str = ""
    provider_id: str = ""
    # Digest user name; the password is fetched from provider-manager only on a challenge.
    auth_username: str = ""
    auth_password_set: bool = False

    @classmethod
    def from_wire(cls, provider: dict[str, Any]) -> ProviderRoute:
        headers = provider.get("tech_headers") or {}
        return cls(
            hostname=str(provider["hostname"]),
            tech_prefix=str(provider.get("tech_prefix") or ""),
            tech_postfix=str(provider.get("tech_postfix") or ""),
            tech_headers=tuple((str(k), str(v)) for k, v in headers.items()),
            transport=str(provider.get("transport") or ""),
            provider_id=str(provider.get("id") or ""),
            auth_username=str(provider.get("auth_username") or ""),
            auth_password_set=bool(provider.get("auth_password_set")),
        )


def _host_part(hostname: str) -> str:
    host, port = split_host_port(hostname)
    return format_host_port(host, port)


def _safe_headers(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """tech_headers as given, minus any that could inject or override (checked again here:
    this is the last stop before the wire, whatever provider-manager let through)."""
    out: list[tuple[str, str]] = []
    for name, value in pairs:
        if header_name_problem(name) or header_value_problem(value):
            raise InviteError(f"provider tech header {name!r} is not allowed")
        out.append((name, value))
    return out


def build_invite(
    provider: ProviderRoute,
    source: dict[str, Any],
    destination: dict[str, Any],
    anonymous: str,
) -> InviteSpec:
    host = _host_part(provider.hostname)
    kind, target = destination["type"], destination["target"]
    if kind == "tel":
        # Carriers' affixes may hold '#' and the like: escape them (RFC 3261 section 19.1.2).
        user = quote(f"{provider.tech_prefix}{target}{provider.tech_postfix}", safe=_USER_SAFE)
        if not _USER.match(user):
            raise InviteError("tech_prefix/tech_postfix make an invalid SIP user part")
        request_uri = f"sip:{user}@{host}"
    elif kind == "sip":
        request_uri = f"sip:{target}"
    else:
        raise InviteError(f"{kind} destinations are dialed through their addresses")

    if source["type"] == "tel":
        from_user, from_host = str(source["target"]), None
    else:
        from_user, _, from_host = str(source["target"]).partition("@")
    hidden = anonymous == "yes"
    return InviteSpec(
        request_uri=request_uri,
        next_hop=provider.hostname,
        from_user=from_user,
        from_host=from_host,
        from_display=str(source.get("target_name") or ""),
        anonymous=hidden,
        # RFC 3323/3325: the called party sees Anonymous; the carrier still bills the number.
        privacy="id" if hidden else None,
        asserted_identity=str(source["target"]) if hidden else None,
        extra_headers=tuple(_safe_headers(provider.tech_headers)),
        transport=provider.transport,
        credentials_provider_id=(
            provider.provider_id
            if provider.provider_id and provider.auth_username and provider.auth_password_set
            else ""
        ),
    )
