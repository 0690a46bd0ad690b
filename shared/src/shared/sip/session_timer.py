"""RFC 4028 session timers, UAC side: header reading and the two deadlines.

We send `Supported: timer` and `Session-Expires` in the INVITE; the 2xx says who refreshes.
As refresher we refresh (UPDATE when the peer allows it, else re-INVITE) at half the
interval; when the peer refreshes and a refresh does not come, we send BYE at
`interval - min(32, interval/3)` (section 10).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.sip.errors import SipParseError
from shared.sip.message import SipMessage
from shared.sip.numbers import parse_uint

DEFAULT_SESSION_EXPIRES = 1800
MIN_SE = 90  # section 4: the smallest interval a UA may ask for
MAX_SESSION_EXPIRES = 86400


@dataclass(frozen=True, slots=True)
class SessionTimer:
    interval: int  # seconds
    refresher: str  # "uac" (us) or "uas" (the carrier)

    @property
    def refresh_after(self) -> float:
        return self.interval / 2

    @property
    def expire_after(self) -> float:
        return self.interval - min(32.0, self.interval / 3)

    def header(self) -> str:
        return f"{self.interval};refresher={self.refresher}"


def header_tokens(message: SipMessage, name: str) -> set[str]:
    """Option tags of Require / Supported / Allow, lower case, all lines."""
    return {t.strip().lower() for t in message.headers.get_list(name) if t.strip()}


def read_session_expires(message: SipMessage) -> SessionTimer | None:
    """The Session-Expires of a 2xx (or a refresh request); None when absent or unreadable."""
    value = message.headers.get("session-expires")
    if not value:
        return None
    head, _, params = value.partition(";")
    try:
        interval = parse_uint(head.strip(), "Session-Expires", MAX_SESSION_EXPIRES, minimum=1)
    except SipParseError:
        return None
    refresher = "uas"  # section 7.2: a 2xx without refresher=... leaves it to the UAS
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "refresher" and val.strip().lower() in ("uac", "uas"):
            refresher = val.strip().lower()
    return SessionTimer(interval, refresher)


def read_min_se(message: SipMessage) -> int | None:
    value = message.headers.get("min-se")
    if not value:
        return None
    try:
        return parse_uint(value.partition(";")[0].strip(), "Min-SE", MAX_SESSION_EXPIRES, 1)
    except SipParseError:
        return None
