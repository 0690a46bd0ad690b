"""SIP requests and responses (RFC 3261 section 7) and their header list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from shared.sip.errors import SipParseError
from shared.sip.numbers import MAX_CSEQ, parse_uint
from shared.sip.uri import header_tag, split_unquoted
from shared.sip.via import Via, parse_via, top_branch

# RFC 3261 section 7.3.3 plus the compact forms registered later (IANA SIP parameters).
COMPACT_FORMS: dict[str, str] = {
    "a": "accept-contact",
    "b": "referred-by",
    "c": "content-type",
    "d": "request-disposition",
    "e": "content-encoding",
    "f": "from",
    "i": "call-id",
    "j": "reject-contact",
    "k": "supported",
    "l": "content-length",
    "m": "contact",
    "o": "event",
    "r": "refer-to",
    "s": "subject",
    "t": "to",
    "u": "allow-events",
    "v": "via",
    "x": "session-expires",
    "y": "identity",
}

_LENGTH_INITIALS = frozenset("cClL")


def header_key(name: str) -> str:
    """Canonical lookup key: lower case, compact form expanded."""
    lower = name.lower()
    # Compact forms are one letter: longer names need no lookup (most headers, every probe).
    return COMPACT_FORMS.get(lower, lower) if len(lower) == 1 else lower


class Headers:
    """Ordered header lines; lookups ignore case and compact forms, names keep their spelling.

    The lookup index is built on first use only: the probe path reads two or three headers of
    each response and should not pay for more.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        self._index: dict[str, list[int]] | None = None

    @classmethod
    def parsed(cls, items: list[tuple[str, str]], index: dict[str, list[int]]) -> Headers:
        """Adopt a parser's lines and the index it built while splitting them (no copy, no
        second pass): every received message is looked up a few times."""
        headers = cls.__new__(cls)
        headers._items = items
        headers._index = index
        return headers

    def _lookup(self) -> dict[str, list[int]]:
        index = self._index
        if index is None:
            index = {}
            for pos, (name, _) in enumerate(self._items):
                key = header_key(name)
                slot = index.get(key)
                if slot is None:
                    index[key] = [pos]
                else:
                    slot.append(pos)
            self._index = index
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        positions = self._lookup().get(header_key(name))
        return self._items[positions[0]][1] if positions else default

    def get_all(self, name: str) -> list[str]:
        """Values of every line with this header, in message order (one entry per line)."""
        positions = self._lookup().get(header_key(name), ())
        return [self._items[p][1] for p in positions]

    def get_list(self, name: str) -> list[str]:
        """Elements of a comma-separated list header (Via, Route, Contact...) over all lines."""
        out: list[str] = []
        for value in self.get_all(name):
            out.extend(part.strip() for part in split_unquoted(value, ",") if part.strip())
        return out

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and header_key(name) in self._lookup()

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))
        self._index = None

    def set(self, name: str, value: str) -> None:
        """Replace every line of this header by one line, at the position of the first one."""
        key = header_key(name)
        new: list[tuple[str, str]] = []
        placed = False
        for item in self._items:
            if header_key(item[0]) == key:
                if not placed:
                    new.append((name, value))
                    placed = True
            else:
                new.append(item)
        if not placed:
            new.append((name, value))
        self._items = new
        self._index = None

    def replace_first_element(self, name: str, value: str) -> None:
        """Replace the first element of a list header (the top Via), keeping the rest."""
        positions = self._lookup().get(header_key(name))
        if not positions:
            self.add(name, value)
            return
        pos = positions[0]
        line_name, line = self._items[pos]
        parts = split_unquoted(line, ",")
        rest = ",".join(parts[1:])
        self._items[pos] = (line_name, f"{value},{rest}" if rest else value)

    def remove(self, name: str) -> None:
        key = header_key(name)
        self._items = [item for item in self._items if header_key(item[0]) != key]
        self._index = None

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def copy(self) -> Headers:
        return Headers(self._items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


class SipMessage:
    __slots__ = ("body", "headers")

    def __init__(
        self, headers: Headers | Iterable[tuple[str, str]] = (), body: bytes = b""
    ) -> None:
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.body = body

    def start_line(self) -> str:
        raise NotImplementedError

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        value = self.headers.get("cseq")
        if value is None:
            raise SipParseError("missing CSeq")
        number, _, method = value.strip().partition(" ")
        return parse_uint(number, "CSeq", MAX_CSEQ), method.strip().upper()

    @property
    def cseq_method(self) -> str:
        return self.cseq[1]

    @property
    def branch(self) -> str | None:
        """Branch of the top Via: with the CSeq method it names the transaction."""
        value = self.headers.get("via")
        return top_branch(value) if value else None

    @property
    def vias(self) -> list[Via]:
        return [parse_via(v) for v in self.headers.get_list("via")]

    @property
    def from_tag(self) -> str | None:
        value = self.headers.get("from")
        return header_tag(value) if value else None

    @property
    def to_tag(self) -> str | None:
        value = self.headers.get("to")
        return header_tag(value) if value else None

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None

    def to_bytes(self) -> bytes:
        """Wire form; Content-Length is always written last and computed from the body."""
        lines = [self.start_line()]
        # "content-length" or its compact "l": only names starting with c or l can be one.
        lines.extend(
            f"{n}: {v}"
            for n, v in self.headers
            if n[:1] not in _LENGTH_INITIALS or header_key(n) != "content-length"
        )
        lines.append(f"Content-Length: {len(self.body)}")
        lines.append("")
        lines.append("")
        return "\r\n".join(lines).encode() + self.body

    def __bytes__(self) -> bytes:
        return self.to_bytes()


class SipRequest(SipMessage):
    __slots__ = ("method", "uri")

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Headers | Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> None:
        super().__init__(headers, body)
        self.method = method
        self.uri = uri

    def start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"

    def __repr__(self) -> str:
        return f"<SipRequest {self.method} {self.uri} call-id={self.call_id}>"


class SipResponse(SipMessage):
    __slots__ = ("reason", "status_code")

    def __init__(
        self,
        status_code: int,
        reason: str,
        headers: Headers | Iterable[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> None:
        super().__init__(headers, body)
        self.status_code = status_code
        self.reason = reason

    @property
    def is_provisional(self) -> bool:
        return self.status_code < 200

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def start_line(self) -> str:
        return f"SIP/2.0 {self.status_code} {self.reason}"

    def __repr__(self) -> str:
        return f"<SipResponse {self.status_code} {self.reason} call-id={self.call_id}>"


# Headers a UAS copies from the request into its response (RFC 3261 section 8.2.6.2).
_ECHOED = ("via", "from", "to", "call-id", "cseq")


def build_response(
    request: SipRequest,
    status_code: int,
    reason: str,
    *,
    to_tag: str | None = None,
    extra_headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> SipResponse:
    """A response to `request`; `to_tag` is added to To unless the request already has one."""
    headers = Headers()
    for name, value in request.headers:
        key = header_key(name)
        if key not in _ECHOED:
            continue
        if key == "to" and to_tag is not None and header_tag(value) is None:
            value = f"{value};tag={to_tag}"
        headers.add(name, value)
    for name, value in extra_headers:
        headers.add(name, value)
    return SipResponse(status_code, reason, headers, body)
