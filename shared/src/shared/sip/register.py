"""Outbound REGISTER (RFC 3261 section 10) with Digest, one binding per `Binding`.

A `Binding` keeps its Call-ID and counts CSeq across refreshes, as section 10.2.4 asks, so
the registrar sees the same binding refreshed rather than new ones piling up. `register()`
sends one REGISTER (and at most one signed retry per challenge, see digest.py) and reads the
lifetime the registrar granted: our Contact's `expires` parameter in the 200, else its Expires
header, else what we asked. `expires=0` removes the binding (unregister).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.sip import auth_metrics
from shared.sip.digest import (
    PROXY_AUTHENTICATE,
    WWW_AUTHENTICATE,
    Credentials,
    DigestSession,
    parse_challenges,
)
from shared.sip.errors import ResolutionError, SipError
from shared.sip.headers import header_value_problem
from shared.sip.ids import new_branch, new_call_id, new_tag
from shared.sip.message import Headers, SipRequest, SipResponse
from shared.sip.resolver import SipResolver
from shared.sip.target import Target, contact_uri
from shared.sip.timers import DEFAULT_TIMERS, SipTimers
from shared.sip.transaction import NonInviteClientTransaction
from shared.sip.transport import SipTransport
from shared.sip.uri import split_host_port
from shared.sip.via import format_via

MAX_AUTH_ROUNDS = 2
NO_CREDENTIALS = "the registrar asked for Digest authentication and there are no credentials"
_EXPIRES_PARAM = re.compile(r";\s*expires\s*=\s*(\d{1,10})", re.IGNORECASE)
_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,128}$")


@dataclass(frozen=True, slots=True)
class RegisterResult:
    status_code: int | None  # the final response; None when none came
    reason: str
    expires: int = 0  # granted lifetime, seconds (0: none, or unregistered)
    error: str | None = None  # why it failed, in words

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Binding:
    """One AoR at one registrar: `registrar` is host[:port] (the provider's hostname)."""

    registrar: str
    user: str
    transport: str = ""  # "" = RFC 3263 chooses; else "udp" / "tcp" / "tls"
    call_id: str = field(default_factory=new_call_id)
    from_tag: str = field(default_factory=new_tag)
    cseq: int = 0

    def aor(self) -> str:
        host, _ = split_host_port(self.registrar)
        host = f"[{host}]" if ":" in host else host
        return f"sip:{self.user}@{host}"


def _granted(response: SipResponse, contact_hostport: str, asked: int) -> int:
    for value in response.headers.get_all("contact"):
        for part in value.split(","):
            if contact_hostport in part and (m := _EXPIRES_PARAM.search(part)):
                return int(m.group(1))
    expires = response.headers.get("expires")
    if expires is not None and expires.strip().isdigit():
        return int(expires.strip())
    return asked


def build_register(
    binding: Binding,
    transport: SipTransport,
    target: Target,
    expires: int,
    auth: list[tuple[str, str]],
    user_agent: str,
) -> SipRequest:
    binding.cseq += 1
    host, port = split_host_port(binding.registrar)
    host = f"[{host}]" if ":" in host else host
    uri = f"sip:{host}:{port}" if port else f"sip:{host}"
    aor = binding.aor()
    headers = Headers(
        [
            ("Via", format_via(target.transport, transport.sent_by_for(target), new_branch())),
            ("Max-Forwards", "70"),
            ("From", f"<{aor}>;tag={binding.from_tag}"),
            ("To", f"<{aor}>"),
            ("Call-ID", binding.call_id),
            ("CSeq", f"{binding.cseq} REGISTER"),
            (
                "Contact",
                f"<{contact_uri(binding.user, transport.contact_for(target), target.transport)}>"
                f";expires={expires}",
            ),
            ("Expires", str(expires)),
            ("User-Agent", user_agent),
        ]
    )
    for name, value in auth:
        headers.add(name, value)
    return SipRequest("REGISTER", uri, headers, b"")


async def register(
    transport: SipTransport,
    resolver: SipResolver,
    binding: Binding,
    expires: int,
    credentials: Credentials | None,
    *,
    timers: SipTimers = DEFAULT_TIMERS,
    user_agent: str = "trunk-platform",
) -> RegisterResult:
    """One registration (or, with expires=0, its removal); never raises for carrier trouble."""
    if not _USER.match(binding.user) or header_value_problem(user_agent):
        return RegisterResult(None, "", error=f"unusable user {binding.user!r}")
    try:
        found = await resolver.resolve(binding.registrar, transport=binding.transport or None)
    except ResolutionError as exc:
        return RegisterResult(None, "", error=str(exc))
    targets = [t for t in found if transport.can_reach(t.host)]
    if not targets:
        return RegisterResult(None, "", error=f"no reachable address for {binding.registrar}")
    target = targets[0]
    digest = DigestSession(credentials) if credentials is not None else None
    auth: list[tuple[str, str]] = []
    for _ in range(MAX_AUTH_ROUNDS + 1):
        request = build_register(binding, transport, target, expires, auth, user_agent)
        txn = NonInviteClientTransaction(transport, request, target, timers=timers)
        try:
            response = await txn.run()
        except SipError as exc:
            return RegisterResult(None, "", error=f"{target}: {exc}")
        if response.status_code not in (401, 407):
            if not 200 <= response.status_code < 300:
                return RegisterResult(response.status_code, response.reason)
            contact = transport.contact_for(target)
            granted = 0 if expires == 0 else _granted(response, contact, expires)
            return RegisterResult(response.status_code, response.reason, granted)
        if digest is None:
            auth_metrics.count("REGISTER", NO_CREDENTIALS, no_credentials=NO_CREDENTIALS)
            return RegisterResult(response.status_code, response.reason, error=NO_CREDENTIALS)
        proxy = response.status_code == 407
        header = PROXY_AUTHENTICATE if proxy else WWW_AUTHENTICATE
        challenges = parse_challenges(response.headers.get_all(header), proxy=proxy)
        problem = digest.learn(challenges, signed=bool(auth))
        auth_metrics.count("REGISTER", problem, no_credentials=NO_CREDENTIALS)
        if problem is not None:
            return RegisterResult(response.status_code, response.reason, error=problem)
        auth = digest.headers("REGISTER", request.uri)
    return RegisterResult(response.status_code, response.reason, error="still challenged")
