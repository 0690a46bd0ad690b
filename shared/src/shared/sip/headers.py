"""Rules for header names and values that users may supply (provider tech_headers).

These rules are the only thing standing between an API request and the bytes of a SIP
message, so they are strict: a name must be an RFC 3261 token, a value may never carry a
line break or NUL (which would let a caller inject headers or a body), and headers that
the stack itself owns cannot be overridden.
"""

from __future__ import annotations

import re

# RFC 3261 section 25.1: a token is 1*(alphanum / - . ! % * _ + ` ' ~). Used with fullmatch:
# `$` would also match before a trailing "\n" and let a name smuggle in a line break.
TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")

# Headers the stack writes itself; lower-case, compact forms (RFC 3261 section 7.3.3) included.
RESERVED_HEADERS: frozenset[str] = frozenset(
    {
        "via",
        "v",
        "from",
        "f",
        "to",
        "t",
        "call-id",
        "i",
        "cseq",
        "contact",
        "m",
        "max-forwards",
        "route",
        "record-route",
        "content-length",
        "l",
        "content-type",
        "c",
        # Content-Encoding; Content-* in general is refused below (docs/architecture.md, section 5).
        "e",
        "privacy",
        "p-asserted-identity",
    }
)

MAX_VALUE_LENGTH = 1024
FORBIDDEN_VALUE_CHARS = ("\r", "\n", "\x00")


def header_name_problem(name: str) -> str | None:
    """Why `name` cannot be a user-supplied header name, or None when it can."""
    if not name:
        return "header name must not be empty"
    if not TOKEN_RE.fullmatch(name):
        return f"header name {name!r} is not an RFC 3261 token"
    # Content-* describe the body the stack writes (SDP); a user value would corrupt it.
    if name.lower() in RESERVED_HEADERS or name.lower().startswith("content-"):
        return f"header {name!r} is reserved and set by the platform"
    return None


def header_value_problem(value: str) -> str | None:
    """Why `value` cannot be a user-supplied header value, or None when it can."""
    if len(value) > MAX_VALUE_LENGTH:
        return f"header value longer than {MAX_VALUE_LENGTH} characters"
    if any(ch in value for ch in FORBIDDEN_VALUE_CHARS):
        return "header value must not contain CR, LF or NUL"
    return None


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


# The rules above as JSON Schema, for the API document's `tech_headers`.
HEADER_NAME_SCHEMA: dict[str, object] = {
    "pattern": r"^[A-Za-z0-9\-.!%*_+`'~]+$",
    "not": {
        "type": "string",
        "anyOf": [
            {
                "pattern": "^(?:"
                + "|".join(_any_case(name) for name in sorted(RESERVED_HEADERS))
                + "|"
                + _any_case("content-")
                + ".*)$"
            },
            # `$` also matches before a final line break in some regex dialects: say it.
            {"pattern": "\\n"},
        ],
    },
}
HEADER_VALUE_SCHEMA: dict[str, object] = {
    "type": "string",
    "maxLength": MAX_VALUE_LENGTH,
    "not": {"type": "string", "pattern": "[\\r\\n\\x00]"},
}
