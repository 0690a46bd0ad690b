"""What a provider hostname may be: a DNS name or an IP literal, with an optional port."""

from __future__ import annotations

import ipaddress
import re

MAX_LENGTH = 253  # the longest DNS name; ports and IP literals fit well within
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_PORT = re.compile(r"^[0-9]{1,5}$")

# The same rule as one regular expression, for the API documents (and checked last below, so
# the document and the server agree): a DNS name whose last label starts with a letter, an
# IPv4 address, or an IPv6 address (in brackets when a port follows), then an optional port.
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TOP_LABEL = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (
    rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}"
    rf"|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}"
    rf"|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?::{_H}){{1,6}}|:(?:(?::{_H}){{1,7}}|:))"
)
_PORT_NUMBER = (
    r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
)
HOST_PATTERN = (
    rf"(?:(?:(?:{_DNS_LABEL}\.)*{_TOP_LABEL}|(?:{_OCTET}\.){{3}}{_OCTET}|\[{_IPV6}\])"
    rf"(?::{_PORT_NUMBER})?|{_IPV6})"
)
HOSTNAME_PATTERN = rf"^{HOST_PATTERN}$"
_HOSTNAME = re.compile(HOST_PATTERN)
_IPV6_ONLY = re.compile(_IPV6)


def hostname_problem(value: str) -> str | None:
    """Why `value` is not an acceptable hostname[:port], or None when it is."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if any(ch.isspace() for ch in value) or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "must not contain whitespace or control characters"
    if "://" in value or value.lower().startswith(("sip:", "sips:", "tel:")):
        return "must not include a scheme; give the host only, e.g. sip.example.com"
    if "/" in value or "?" in value or "#" in value:
        return "must not include a path"
    if "@" in value:
        return "must not include a user part"
    host, port = _split_port(value)
    if port is not None and (not _PORT.match(port) or not 1 <= int(port) <= 65535):
        return "port must be a number between 1 and 65535"
    if host.startswith("[") and host.endswith("]"):
        return _ipv6_problem(host[1:-1], "is not a valid IPv6 address")
    if ":" in host:
        return _ipv6_problem(host, "is not a valid host, IPv4 or IPv6 address")
    labels = host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return "is not a valid IPv4 address"
        return None
    if not all(_LABEL.match(label) for label in labels):
        return "is not a valid DNS name"
    if not labels[-1][:1].isalpha():
        return "is not a valid DNS name (the last label must start with a letter)"
    return None if _HOSTNAME.fullmatch(value) else "is not a valid host"


def _ipv6_problem(text: str, problem: str) -> str | None:
    # ipaddress accepts a zone ("fe80::1%eth0"), which a SIP URI host cannot carry and
    # which names an interface of this machine, not a carrier.
    if "%" in text:
        return "must not include an IPv6 zone (%...)"
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return problem
    # Hex groups only: the embedded-IPv4 forms (::ffff:1.2.3.4) are not a carrier's address.
    return None if _IPV6_ONLY.fullmatch(text) else problem


def _split_port(value: str) -> tuple[str, str | None]:
    """Split host and port; a bare IPv6 address has no port (it needs brackets for one)."""
    if value.startswith("["):
        end = value.find("]")
        if end != -1 and value[end + 1 : end + 2] == ":":
            return value[: end + 1], value[end + 2 :]
        return value, None
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, port
    return value, None
