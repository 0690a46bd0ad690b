"""SIP URIs (RFC 3261 section 19.1), name-addr values and generic ;param lists."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from shared.sip.errors import SipParseError
from shared.sip.numbers import MAX_PORT, parse_uint

Params = dict[str, str | None]


def split_unquoted(text: str, sep: str) -> list[str]:
    """Split on `sep` outside quoted strings and <...> (display names and URIs may hold it)."""
    if '"' not in text and "<" not in text:
        return text.split(sep)
    parts: list[str] = []
    start = 0
    in_quote = False
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if in_quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_quote = False
        elif ch == '"':
            in_quote = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse_params(text: str) -> Params:
    """`;a=b;c` -> {"a": "b", "c": None}; names are case-insensitive so they are lower-cased."""
    params: Params = {}
    if not text:
        return params
    for item in split_unquoted(text, ";"):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        params[name.strip().lower()] = value.strip() if sep else None
    return params


def format_params(params: Params) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def format_host(host: str) -> str:
    """IPv6 literals are bracketed wherever a port may follow (RFC 3261 section 25.1)."""
    return f"[{host}]" if ":" in host else host


def format_host_port(host: str, port: int | None) -> str:
    return format_host(host) if port is None else f"{format_host(host)}:{port}"


def split_host_port(text: str) -> tuple[str, int | None]:
    """`host`, `host:port`, `1.2.3.4:5`, `[v6]`, `[v6]:5` or a bare v6 literal -> (host, port)."""
    text = text.strip()
    if not text:
        raise SipParseError("empty host")
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"unterminated IPv6 reference in {text!r}")
        host, rest = text[1:end], text[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise SipParseError(f"garbage after IPv6 reference in {text!r}")
        return host, _parse_port(rest[1:], text)
    if text.count(":") > 1:
        return text, None  # bare IPv6 literal, no room for a port
    host, sep, port_text = text.partition(":")
    if not host:
        raise SipParseError(f"empty host in {text!r}")
    return host, (_parse_port(port_text, text) if sep else None)


def _parse_port(port_text: str, context: str) -> int:
    return parse_uint(port_text, f"port in {context[:80]!r}", MAX_PORT, minimum=1)


@dataclass(slots=True)
class SipUri:
    host: str
    port: int | None = None
    user: str | None = None
    scheme: str = "sip"
    params: Params = field(default_factory=dict)
    password: str | None = None
    headers: str = ""  # the raw `?h=v&...` part, kept opaque

    @property
    def host_port(self) -> str:
        return format_host_port(self.host, self.port)

    @property
    def loose_route(self) -> bool:
        return "lr" in self.params

    def param(self, name: str) -> str | None:
        return self.params.get(name.lower())

    def __str__(self) -> str:
        userinfo = ""
        if self.user is not None:
            userinfo = self.user
            if self.password is not None:
                userinfo += ":" + self.password
            userinfo += "@"
        text = f"{self.scheme}:{userinfo}{self.host_port}{format_params(self.params)}"
        return f"{text}?{self.headers}" if self.headers else text


def parse_uri(text: str) -> SipUri:
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in ("sip", "sips"):
        raise SipParseError(f"not a SIP URI: {text!r}")
    rest, _, headers = rest.partition("?")
    user: str | None = None
    password: str | None = None
    at = rest.rfind("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, psep, pw = userinfo.partition(":")
        password = pw if psep else None
    hostport, _, params_text = rest.partition(";")
    host, port = split_host_port(hostport)
    return SipUri(
        host=host,
        port=port,
        user=user,
        scheme=scheme,
        params=parse_params(params_text),
        password=password,
        headers=headers,
    )


def quote_display_name(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(slots=True)
class NameAddr:
    """A From/To/Contact/Route value: optional display name, URI, header parameters."""

    uri: SipUri
    display_name: str | None = None
    params: Params = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def __str__(self) -> str:
        display = quote_display_name(self.display_name) + " " if self.display_name else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


def _split_name_addr(text: str) -> tuple[str | None, str, str]:
    """-> (display name, URI text, header-parameter text)."""
    text = text.strip()
    display: str | None = None
    if text.startswith('"'):
        i = 1
        chars: list[str] = []
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                i += 1
            chars.append(text[i])
            i += 1
        if i >= len(text):
            raise SipParseError(f"unterminated display name in {text!r}")
        display = "".join(chars)
        text = text[i + 1 :].lstrip()
    lt = text.find("<")
    if lt >= 0:
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError(f"unterminated <URI> in {text!r}")
        if display is None:
            display = text[:lt].strip() or None
        return display, text[lt + 1 : gt], text[gt + 1 :]
    # addr-spec form: everything after the first ';' past the host belongs to the header
    at = text.find("@")
    semi = text.find(";", at + 1 if at >= 0 else 0)
    if semi < 0:
        return display, text, ""
    return display, text[:semi], text[semi:]


def parse_name_addr(text: str) -> NameAddr:
    display, uri_text, params_text = _split_name_addr(text)
    return NameAddr(uri=parse_uri(uri_text), display_name=display, params=parse_params(params_text))


def header_params(text: str) -> Params:
    """Header parameters of a name-addr value without parsing its URI (works for tel: too)."""
    return parse_params(_split_name_addr(text)[2])


def header_tag(text: str) -> str | None:
    return header_params(text).get("tag")
