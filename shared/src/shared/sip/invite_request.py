"""What an outbound call asks for (CallSpec) and the INVITE built from it.

Every caller-supplied string that reaches a header is validated here again, whatever the API
layer checked before: a CR/LF would let a caller write headers or a body of their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.sip.errors import InvalidHeaderError, SipParseError
from shared.sip.headers import header_name_problem, header_value_problem
from shared.sip.message import Headers, SipRequest
from shared.sip.options import DEFAULT_USER_AGENT
from shared.sip.target import TRANSPORTS, UDP, contact_uri, uri_transport_param
from shared.sip.uri import format_host_port, parse_uri, quote_display_name
from shared.sip.via import format_via

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, NOTIFY"
ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>'

_USER_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+$")  # RFC 3261 user, unescaped
_E164_RE = re.compile(r"^\+?[0-9]{1,15}$")
_PRIVACY_RE = re.compile(r"^[A-Za-z-]+(\s*;\s*[A-Za-z-]+)*$")  # RFC 3323 priv-values
_URI_CHARS_RE = re.compile(r"^[^\s<>\"]+$")


@dataclass(frozen=True, slots=True)
class CallSpec:
    """An outbound call as the call-manager describes it.

    request_uri: e.g. `sip:<tech_prefix><number><tech_postfix>@<provider host>`.
    destination: host[:port] to resolve (RFC 3263); default: the Request-URI's host[:port].
    from_host: default: the Request-URI's host.
    anonymous: From becomes "Anonymous" <sip:anonymous@anonymous.invalid>.
    privacy: a Privacy header value such as "id".
    asserted_identity: "+E164" (sent as <tel:+E164>) or a sip:/tel: URI, for P-Asserted-Identity.
    extra_headers: (name, value) pairs written verbatim, in order, case preserved.
    transport: "udp", "tcp" or "tls" forces it; "" lets RFC 3263 (and the URI) choose.
    """

    request_uri: str
    destination: str | None = None
    from_user: str = "anonymous"
    from_display: str | None = None
    from_host: str | None = None
    to_uri: str | None = None
    anonymous: bool = False
    privacy: str | None = None
    asserted_identity: str | None = None
    extra_headers: Sequence[tuple[str, str]] = ()
    user_agent: str = DEFAULT_USER_AGENT
    transport: str = ""

    def validate(self) -> None:
        """Raise InvalidHeaderError naming the first unusable field."""
        for label, value in (
            ("request_uri", self.request_uri),
            ("destination", self.destination),
            ("from_user", self.from_user),
            ("from_display", self.from_display),
            ("from_host", self.from_host),
            ("to_uri", self.to_uri),
            ("privacy", self.privacy),
            ("asserted_identity", self.asserted_identity),
            ("user_agent", self.user_agent),
        ):
            if value is not None and (problem := header_value_problem(value)):
                raise InvalidHeaderError(f"{label}: {problem}")
        for label, uri in (("request_uri", self.request_uri), ("to_uri", self.to_uri)):
            if uri is None:
                continue
            if not _URI_CHARS_RE.match(uri):
                raise InvalidHeaderError(f"{label}: {uri!r} contains spaces, quotes or <>")
            try:
                parse_uri(uri)
            except SipParseError as exc:
                raise InvalidHeaderError(f"{label}: {exc}") from None
        if not _USER_RE.match(self.from_user):
            raise InvalidHeaderError(f"from_user: {self.from_user!r} is not a SIP user part")
        if self.from_host is not None and not _URI_CHARS_RE.match(self.from_host):
            raise InvalidHeaderError(f"from_host: {self.from_host!r} is not a host")
        if self.privacy is not None and not _PRIVACY_RE.match(self.privacy):
            raise InvalidHeaderError(f"privacy: {self.privacy!r} is not a Privacy value")
        if self.asserted_identity is not None:
            pai = self.asserted_identity
            if not _E164_RE.match(pai) and not (
                pai.startswith(("sip:", "sips:", "tel:")) and _URI_CHARS_RE.match(pai)
            ):
                raise InvalidHeaderError(f"asserted_identity: {pai!r} is neither E.164 nor a URI")
        if self.transport and self.transport not in TRANSPORTS:
            raise InvalidHeaderError(f"transport: {self.transport!r} is not udp, tcp or tls")
        for name, value in self.extra_headers:
            if problem := header_name_problem(name):
                raise InvalidHeaderError(problem)
            if problem := header_value_problem(value):
                raise InvalidHeaderError(f"{name}: {problem}")

    def asserted_identity_header(self) -> str | None:
        pai = self.asserted_identity
        if pai is None:
            return None
        if _E164_RE.match(pai):
            return f"<tel:+{pai.lstrip('+')}>"
        return f"<{pai}>"

    def from_value(self, tag: str) -> str:
        if self.anonymous:
            return f"{ANONYMOUS_FROM};tag={tag}"
        host = self.from_host or parse_uri(self.request_uri).host_port
        display = quote_display_name(self.from_display) + " " if self.from_display else ""
        return f"{display}<sip:{self.from_user}@{host}>;tag={tag}"

    @property
    def secure(self) -> bool:
        """A sips: Request-URI: TLS all the way (RFC 3261 section 26.2)."""
        return self.request_uri.lower().startswith("sips:")

    def transport_hint(self) -> str | None:
        """The transport chosen for us: the spec's own, else the Request-URI's
        `;transport=` when the URI is also where the call goes. None: RFC 3263 decides."""
        if self.transport:
            return self.transport
        if self.destination is None:
            return uri_transport_param(parse_uri(self.request_uri).param("transport"))
        return None

    def destination_host_port(self) -> str:
        if self.destination is not None:
            return self.destination
        uri = parse_uri(self.request_uri)
        return format_host_port(uri.host, uri.port)


def build_invite(
    spec: CallSpec,
    *,
    sent_by: str,
    call_id: str,
    from_tag: str,
    branch: str,
    cseq: int = 1,
    sdp: bytes = b"",
    transport: str = UDP,
    contact_host: str | None = None,
    stack_headers: Sequence[tuple[str, str]] = (),
) -> SipRequest:
    """The INVITE for `spec`; `sent_by` is our host:port for the destination (Via, and
    Contact unless `contact_host` says otherwise), `transport` the one it goes over (Via
    token, Contact parameter)."""
    contact_user = None if spec.anonymous else spec.from_user
    contact = contact_uri(contact_user, contact_host or sent_by, transport, secure=spec.secure)
    headers = Headers(
        [
            ("Via", format_via(transport, sent_by, branch)),
            ("Max-Forwards", "70"),
            ("From", spec.from_value(from_tag)),
            ("To", f"<{spec.to_uri or spec.request_uri}>"),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} INVITE"),
            ("Contact", f"<{contact}>"),
            ("Allow", ALLOW),
            ("User-Agent", spec.user_agent),
        ]
    )
    if spec.privacy is not None:
        headers.add("Privacy", spec.privacy)
    pai = spec.asserted_identity_header()
    if pai is not None:
        headers.add("P-Asserted-Identity", pai)
    for name, value in stack_headers:  # the stack's own (Supported, Session-Expires)
        headers.add(name, value)
    for name, value in spec.extra_headers:
        headers.add(name, value)
    if sdp:
        headers.add("Content-Type", "application/sdp")
    return SipRequest("INVITE", spec.request_uri, headers, sdp)
