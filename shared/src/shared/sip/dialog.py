"""UAC dialog state (RFC 3261 section 12) and the requests sent within it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.sip.errors import SipParseError
from shared.sip.ids import new_branch
from shared.sip.message import Headers, SipRequest, SipResponse
from shared.sip.target import UDP
from shared.sip.uri import SipUri, parse_name_addr, parse_uri
from shared.sip.via import format_via


@dataclass(slots=True)
class Dialog:
    call_id: str
    local_tag: str
    remote_tag: str
    local_party: str  # our From value, tag included, exactly as sent in the INVITE
    remote_party: str  # their To value, tag included, exactly as received
    remote_target: SipUri  # the Contact of the dialog-forming response
    route_set: list[str] = field(default_factory=list)  # Route values, in sending order
    local_cseq: int = 1
    remote_cseq: int | None = None

    @classmethod
    def from_response(cls, invite: SipRequest, response: SipResponse) -> Dialog:
        """The dialog a 2xx (or 1xx with a To-tag) to our INVITE establishes (section 12.1.2)."""
        remote_tag = response.to_tag
        local_tag = invite.from_tag
        if not remote_tag or not local_tag:
            raise SipParseError("a dialog needs tags on both sides")
        contacts = response.headers.get_list("contact")
        # a Contact-less 2xx is broken; the Request-URI is the best remaining guess
        target = parse_name_addr(contacts[0]).uri if contacts else parse_uri(invite.uri)
        return cls(
            call_id=invite.call_id,
            local_tag=local_tag,
            remote_tag=remote_tag,
            local_party=invite.headers.get("from") or "",
            remote_party=response.headers.get("to") or "",
            remote_target=target,
            route_set=list(reversed(response.headers.get_list("record-route"))),
            local_cseq=invite.cseq[0],
        )

    def to_record(self) -> dict[str, Any]:
        """What another process needs to send a request in this dialog (JSON-safe)."""
        return {
            "sip_call_id": self.call_id,
            "local_tag": self.local_tag,
            "remote_tag": self.remote_tag,
            "local_party": self.local_party,
            "remote_party": self.remote_party,
            "remote_target": str(self.remote_target),
            "route_set": list(self.route_set),
            "local_cseq": self.local_cseq,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Dialog:
        """Raises SipParseError when the stored remote target is not a URI."""
        return cls(
            call_id=str(record["sip_call_id"]),
            local_tag=str(record["local_tag"]),
            remote_tag=str(record["remote_tag"]),
            local_party=str(record["local_party"]),
            remote_party=str(record["remote_party"]),
            remote_target=parse_uri(str(record["remote_target"])),
            route_set=[str(r) for r in record["route_set"]],
            local_cseq=int(record["local_cseq"]),
        )

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.call_id, self.local_tag, self.remote_tag)

    def matches_request(self, request: SipRequest) -> bool:
        """An incoming request belongs here when its From is them and its To is us."""
        return request.from_tag == self.remote_tag and request.to_tag == self.local_tag

    def next_hop(self) -> SipUri:
        """Where requests go: the first route (loose or strict), else the remote target."""
        if self.route_set:
            return parse_name_addr(self.route_set[0]).uri
        return self.remote_target

    def request_uri_and_routes(self) -> tuple[str, list[str]]:
        """Section 12.2.1.1: loose routing keeps the target in the Request-URI."""
        if not self.route_set:
            return str(self.remote_target), []
        first = parse_name_addr(self.route_set[0]).uri
        if first.loose_route:
            return str(self.remote_target), list(self.route_set)
        # strict router: it wants itself in the Request-URI and the target as last route
        first.params = {k: v for k, v in first.params.items() if k not in ("method", "ttl")}
        first.headers = ""
        return str(first), [*self.route_set[1:], f"<{self.remote_target}>"]

    def build_request(
        self,
        method: str,
        sent_by: str,
        *,
        cseq: int | None = None,
        branch: str | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        transport: str = UDP,
    ) -> SipRequest:
        """An in-dialog request. CSeq: given (ACK reuses the INVITE's) or the next number."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        uri, routes = self.request_uri_and_routes()
        headers = Headers(
            [
                ("Via", format_via(transport, sent_by, branch or new_branch())),
                ("Max-Forwards", "70"),
                ("From", self.local_party),
                ("To", self.remote_party),
                ("Call-ID", self.call_id),
                ("CSeq", f"{cseq} {method}"),
            ]
        )
        for route in routes:
            headers.add("Route", route)
        for name, value in extra_headers:
            headers.add(name, value)
        if content_type is not None:
            headers.add("Content-Type", content_type)
        return SipRequest(method, uri, headers, body)
