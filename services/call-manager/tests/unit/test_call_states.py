from __future__ import annotations

import pytest
from call_manager.calls import states
from call_manager.calls.states import CallEnd, EndCause


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("dialing", "ringing", True),
        ("dialing", "hangup", True),
        ("ringing", "progressing", True),
        ("ringing", "dialing", False),
        ("progressing", "ringing", False),
        ("progressing", "canceling", False),
        ("progressing", "terminating", True),
        ("canceling", "hangup", True),
        ("terminating", "progressing", False),
        ("hangup", "hangup", False),
        ("ringing", "ringing", False),
    ],
)
def test_status_moves_one_way(current: str, target: str, allowed: bool) -> None:
    assert states.can_move(current, target) is allowed


def test_sources_of_hangup_are_every_live_status() -> None:
    assert set(states.sources_of("hangup")) == {
        "dialing",
        "ringing",
        "progressing",
        "terminating",
        "canceling",
    }


def test_local_hangup_is_cancel_before_answer_and_bye_after() -> None:
    assert states.local_hangup_status("dialing") == "canceling"
    assert states.local_hangup_status("ringing") == "canceling"
    assert states.local_hangup_status("progressing") == "terminating"
    assert states.local_hangup_status("hangup") is None


@pytest.mark.parametrize(
    ("end", "reason", "by"),
    [
        (CallEnd(EndCause.REJECTED, 486), "busy", "remote"),
        (CallEnd(EndCause.REJECTED, 600), "busy", "remote"),
        (CallEnd(EndCause.REJECTED, 480), "noanswer", "remote"),
        (CallEnd(EndCause.REJECTED, 408), "noanswer", "remote"),
        (CallEnd(EndCause.REJECTED, 503), "failed", "remote"),
        (CallEnd(EndCause.REJECTED, 404), "failed", "remote"),
        (CallEnd(EndCause.REJECTED, 487), "failed", "remote"),
        (CallEnd(EndCause.CANCELED, 487), "cancel", "local"),
        (CallEnd(EndCause.RING_TIMEOUT, 487), "noanswer", "local"),
        (CallEnd(EndCause.UNREACHABLE), "failed", "local"),
        (CallEnd(EndCause.REMOTE_BYE), "normal", "remote"),
        (CallEnd(EndCause.LOCAL_BYE), "normal", "local"),
        (CallEnd(EndCause.MAX_DURATION), "timeout", "local"),
        (CallEnd(EndCause.ORPHANED), "failed", "local"),
    ],
)
def test_hangup_reason_and_side(end: CallEnd, reason: str, by: str) -> None:
    assert states.hangup_reason(end) == reason
    assert states.hangup_by(end) == by


def test_rtp_timeout_is_a_local_timeout_with_its_own_cause() -> None:
    from call_manager.dialing.leg import LegEndKind
    from call_manager.dialing.sip_dialer import leg_event
    from shared.sip.call import CallEvent, CallEventKind

    mapped = leg_event(CallEvent(CallEventKind.LOCAL_HANGUP, 200, "OK", cause="rtp_timeout"))
    assert mapped is not None and mapped.end is LegEndKind.MEDIA_TIMEOUT
    plain = leg_event(CallEvent(CallEventKind.LOCAL_HANGUP, 200, "OK"))
    assert plain is not None and plain.end is LegEndKind.LOCAL_BYE
    end = CallEnd(EndCause.RTP_TIMEOUT, 200)
    assert states.hangup_by(end) == "local"
    assert states.hangup_reason(end) == "timeout"
    assert states.hangup_cause(end) == "rtp_timeout"
    assert states.hangup_cause(CallEnd(EndCause.MAX_DURATION)) == "max_duration"
