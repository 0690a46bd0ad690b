"""Datagram -> SipRequest/SipResponse, tolerant of what real carriers send.

Accepted beyond the strict grammar: LF-only line ends, folded header lines (RFC 3261 section
7.3.1), leading CRLFs (keep-alives), spaces around the header colon. The splitter does the
minimum: header lines become (name, value) pairs; nothing else is parsed until asked for.
"""

from __future__ import annotations

import re

from shared.sip.errors import SipParseError
from shared.sip.message import COMPACT_FORMS, Headers, SipRequest, SipResponse
from shared.sip.numbers import MAX_CONTENT_LENGTH, parse_uint

# RFC 3261 section 25.1 token, ASCII only: a method is echoed into CSeq and logs.
_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")


def _split_head_body(data: bytes) -> tuple[bytes, bytes]:
    # The first empty line ends the head, whichever line-end style the sender used.
    crlf = data.find(b"\n\r\n")
    lf = data.find(b"\n\n")
    if crlf < 0 and lf < 0:
        return data, b""
    if lf < 0 or 0 <= crlf < lf:
        return data[:crlf], data[crlf + 3 :]
    return data[:lf], data[lf + 2 :]


def parse_message(data: bytes) -> SipRequest | SipResponse:
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty datagram")
    head, body = _split_head_body(data)
    text = head.decode("utf-8", "replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    start = lines[0]
    items: list[tuple[str, str]] = []
    # The lookup index is built here, in the one pass over the lines (see Headers.parsed).
    index: dict[str, list[int]] = {}
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            if not items:
                raise SipParseError("continuation line before the first header")
            name, value = items[-1]
            items[-1] = (name, f"{value} {line.strip()}" if value else line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise SipParseError(f"header line without colon: {line[:80]!r}")
        name = name.strip()
        # header_key(), inlined: this runs for every header line of every message received.
        key = name.lower()
        if len(key) == 1:
            key = COMPACT_FORMS.get(key, key)
        slot = index.get(key)
        if slot is None:
            index[key] = [len(items)]
        else:
            slot.append(len(items))
        items.append((name, value.strip()))
    headers = Headers.parsed(items, index)
    length_text = headers.get("content-length")
    if length_text is not None:
        # RFC 3261 section 18.3: over UDP a shorter Content-Length truncates the body
        length = parse_uint(length_text.strip(), "Content-Length", MAX_CONTENT_LENGTH)
        if length < len(body):
            body = body[:length]
    if start.startswith("SIP/"):
        parts = start.split(" ", 2)
        if len(parts) < 2 or len(parts[1]) != 3:
            raise SipParseError(f"invalid status line: {start[:80]!r}")
        code = parse_uint(parts[1], "status code", 699, minimum=100)
        if parts[0].upper() != "SIP/2.0":
            raise SipParseError(f"unsupported SIP version: {parts[0][:20]!r}")
        return SipResponse(code, parts[2].strip() if len(parts) > 2 else "", headers, body)
    parts = start.split()
    if len(parts) != 3 or parts[2].upper() != "SIP/2.0":
        raise SipParseError(f"invalid request line: {start[:80]!r}")
    if not _TOKEN_RE.fullmatch(parts[0]):
        raise SipParseError(f"invalid method: {parts[0][:20]!r}")
    return SipRequest(parts[0], parts[1], headers, body)
