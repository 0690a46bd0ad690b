"""Call status rules and hangup-reason mapping, as pure functions.

Status moves one way: dialing -> ringing -> progressing -> terminating|canceling -> hangup
(steps may be skipped, never walked back). How a call ended is recorded as a `CallEnd`
(what happened on the wire and why we acted), from which `hangup_by` and `hangup_reason`
follow without any other state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DIALING = "dialing"
RINGING = "ringing"
PROGRESSING = "progressing"
TERMINATING = "terminating"
CANCELING = "canceling"
HANGUP = "hangup"

STATUSES = (DIALING, RINGING, PROGRESSING, TERMINATING, CANCELING, HANGUP)

_NEXT: dict[str, frozenset[str]] = {
    DIALING: frozenset({RINGING, PROGRESSING, TERMINATING, CANCELING, HANGUP}),
    RINGING: frozenset({PROGRESSING, TERMINATING, CANCELING, HANGUP}),
    PROGRESSING: frozenset({TERMINATING, HANGUP}),
    TERMINATING: frozenset({HANGUP}),
    CANCELING: frozenset({HANGUP}),
    HANGUP: frozenset(),
}

# The timestamp column a status stamps when it is first reached.
STATUS_TIME_FIELD = {RINGING: "tm_ringing", PROGRESSING: "tm_progressing", HANGUP: "tm_hangup"}


def can_move(current: str, target: str) -> bool:
    return target in _NEXT.get(current, frozenset())


def sources_of(target: str) -> list[str]:
    """Statuses from which `target` may be reached (for a guarded UPDATE ... WHERE)."""
    return [status for status, nexts in _NEXT.items() if target in nexts]


def local_hangup_status(current: str) -> str | None:
    """What a hangup we start turns the call into: CANCEL before answer, BYE after."""
    if current in (DIALING, RINGING):
        return CANCELING
    if current == PROGRESSING:
        return TERMINATING
    return None  # already ending or ended


def event_type(status: str) -> str:
    return f"call_{status}"


class EndCause(StrEnum):
    REJECTED = "rejected"  # a final 3xx-6xx to our INVITE
    CANCELED = "canceled"  # we cancelled on request (API, groupcall answered elsewhere)
    RING_TIMEOUT = "ring_timeout"  # we cancelled because nobody answered in time
    UNREACHABLE = "unreachable"  # DNS, transport failure, no response at all
    REMOTE_BYE = "remote_bye"
    LOCAL_BYE = "local_bye"
    MAX_DURATION = "max_duration"  # we sent BYE at CALL_MAX_DURATION
    ORPHANED = "orphaned"  # the replica holding the dialog died; nobody could BYE it
    RTP_TIMEOUT = "rtp_timeout"  # we sent BYE: no RTP for CALL_MANAGER_RTP_TIMEOUT
    REPLICA_LOST = "replica_lost"  # a survivor sent BYE for a dead replica's dialog
    SESSION_EXPIRED = "session_expired"  # we sent BYE: RFC 4028 refresh missing or refused


@dataclass(frozen=True, slots=True)
class CallEnd:
    cause: EndCause
    status_code: int = 0  # the SIP final response, when one decided the outcome
    detail: str = ""


_BUSY = frozenset({486, 600})
_NO_ANSWER = frozenset({408, 480})


def hangup_reason(end: CallEnd) -> str:
    cause = end.cause
    if cause is EndCause.REJECTED:
        if end.status_code in _BUSY:
            return "busy"
        if end.status_code in _NO_ANSWER:
            return "noanswer"
        return "failed"  # 487 without our CANCEL lands here too: we did not ask for it
    if cause is EndCause.CANCELED:
        return "cancel"
    if cause is EndCause.RING_TIMEOUT:
        return "noanswer"
    if cause in (EndCause.REMOTE_BYE, EndCause.LOCAL_BYE):
        return "normal"
    if cause in (EndCause.MAX_DURATION, EndCause.RTP_TIMEOUT, EndCause.SESSION_EXPIRED):
        return "timeout"
    return "failed"  # UNREACHABLE, ORPHANED, REPLICA_LOST


def hangup_cause(end: CallEnd) -> str:
    """The exact cause, stored as `metadata.hangup_cause`: `hangup_reason` keeps the
    contract's seven values, so several causes share one (timeout: max duration or RTP)."""
    return end.cause.value


def hangup_by(end: CallEnd) -> str:
    """`remote` when the carrier ended the call (a final error or its BYE), else `local`."""
    return "remote" if end.cause in (EndCause.REJECTED, EndCause.REMOTE_BYE) else "local"
