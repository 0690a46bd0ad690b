"""Via header values (RFC 3261 section 20.42, RFC 3581 rport)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.sip.errors import SipParseError
from shared.sip.numbers import MAX_PORT, parse_uint
from shared.sip.uri import Params, format_host_port, format_params, parse_params, split_host_port

# LWS is allowed around the slashes of the sent-protocol, so match it loosely.
_VIA_RE = re.compile(r"\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9]+)\s+([^;\s]+)\s*(.*)", re.DOTALL)


@dataclass(slots=True)
class Via:
    transport: str
    host: str
    port: int | None = None
    params: Params = field(default_factory=dict)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | None:
        """The port the server saw us on (None when absent or left empty by the request)."""
        value = self.params.get("rport")
        if not value:
            return None
        try:
            return parse_uint(value, "rport", MAX_PORT, minimum=1)
        except SipParseError:
            return None

    def __str__(self) -> str:
        sent_by = format_host_port(self.host, self.port)
        return f"SIP/2.0/{self.transport} {sent_by}{format_params(self.params)}"


def parse_via(value: str) -> Via:
    """Parse ONE via-parm (split comma lists first, e.g. with Headers.get_list)."""
    m = _VIA_RE.match(value)
    if m is None:
        raise SipParseError(f"invalid Via: {value!r}")
    host, port = split_host_port(m.group(2))
    return Via(transport=m.group(1).upper(), host=host, port=port, params=parse_params(m.group(3)))


def top_branch(via_value: str) -> str | None:
    """Branch of the first via-parm of a Via header line; a cheap path for response dispatch."""
    comma = via_value.find(",")
    top = via_value if comma < 0 else via_value[:comma]
    i = top.find(";branch=")
    if i < 0:
        i = top.lower().find(";branch=")
        if i < 0:
            i = top.replace(" ", "").lower().find(";branch=")
            if i < 0:
                return None
            return parse_via(top).branch
    start = i + 8
    end = len(top)
    for stop in (";", " ", "\t"):
        j = top.find(stop, start)
        if 0 <= j < end:
            end = j
    return top[start:end]


def format_via(transport: str, sent_by: str, branch: str) -> str:
    """Our Via for a request: `transport` is the token (UDP, TCP, TLS); we always ask for
    rport (RFC 3581) so responses find their way back through NAT."""
    return f"SIP/2.0/{transport.upper()} {sent_by};branch={branch};rport"
