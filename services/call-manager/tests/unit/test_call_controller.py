"""The status machine against a scripted leg: no SIP, no database."""

from __future__ import annotations

import asyncio

from call_manager.calls.controller import CallController, CallTimers
from call_manager.calls.states import CallEnd, EndCause
from call_manager.dialing.candidates import Candidates, DialCandidate
from call_manager.dialing.leg import (
    InviteSpec,
    LegEndKind,
    LegEventKind,
)

from tests.support.scripted_legs import CallRecorder, ScriptedDialer, ScriptedLeg

SPEC = InviteSpec("sip:+1555@h", "h", "+1444", None, "")
ONE = Candidates((DialCandidate(SPEC, "p1", "r1"),))
FLOW = "5a1f0c7e-0000-4000-8000-000000000001"


def make(
    timers: CallTimers | None = None, actions: list[dict[str, object]] | None = None, flow: str = ""
) -> tuple[CallController, ScriptedDialer, CallRecorder]:
    dialer, recorder = ScriptedDialer(), CallRecorder()
    controller = CallController(
        "c1",
        ONE,
        dialer,
        recorder,
        timers or CallTimers(ring_timeout=5, max_duration=5, ending_guard=1),
        actions=actions or [],
        flow_id=flow or "00000000-0000-0000-0000-000000000000",
    )
    return controller, dialer, recorder


async def started(
    controller: CallController, dialer: ScriptedDialer
) -> tuple[asyncio.Task[CallEnd], ScriptedLeg]:
    task = asyncio.create_task(controller.run())
    async with asyncio.timeout(2):
        await dialer.dialed.wait()
    return task, dialer.legs[0]


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_busy_after_ringing() -> None:
    controller, dialer, rec = make()
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.PROVISIONAL, 180)
    leg.emit(LegEventKind.ENDED, 486, LegEndKind.REJECTED)
    end = await task
    assert end == CallEnd(EndCause.REJECTED, 486)
    assert rec.statuses == ["ringing", "hangup"]


async def test_answer_without_flow_or_actions_hangs_up_at_once() -> None:
    controller, dialer, rec = make()
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.ANSWERED, 200)
    await settle()
    assert leg.orders == ["bye"]
    leg.emit(LegEventKind.ENDED, 200, LegEndKind.LOCAL_BYE)
    assert (await task).cause is EndCause.LOCAL_BYE
    assert rec.statuses == ["progressing", "terminating", "hangup"]


async def test_answer_with_flow_stays_up_until_the_carrier_hangs_up() -> None:
    controller, dialer, rec = make(flow=FLOW)
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.ANSWERED, 200)
    await settle()
    assert leg.orders == []
    leg.emit(LegEventKind.ENDED, 0, LegEndKind.REMOTE_BYE)
    assert (await task).cause is EndCause.REMOTE_BYE
    assert rec.statuses == ["progressing", "hangup"]


async def test_hangup_while_ringing_cancels_and_487_means_cancel() -> None:
    controller, dialer, rec = make()
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.PROVISIONAL, 180)
    await settle()
    controller.request_hangup()
    await settle()
    assert leg.orders == ["cancel"]
    leg.emit(LegEventKind.ENDED, 487, LegEndKind.CANCELED)
    assert (await task).cause is EndCause.CANCELED
    assert rec.statuses == ["ringing", "canceling", "hangup"]


async def test_a_487_nobody_asked_for_is_a_failure() -> None:
    controller, dialer, _ = make()
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.ENDED, 487, LegEndKind.REJECTED)
    assert (await task) == CallEnd(EndCause.REJECTED, 487)


async def test_ring_timeout_cancels_as_noanswer() -> None:
    controller, dialer, rec = make(CallTimers(ring_timeout=0.05, max_duration=5, ending_guard=1))
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.PROVISIONAL, 180)
    assert await leg.first_order() == "cancel"
    leg.emit(LegEventKind.ENDED, 487, LegEndKind.CANCELED)
    assert (await task).cause is EndCause.RING_TIMEOUT
    assert rec.moves[-1] == ("hangup", "ring_timeout")


async def test_max_duration_sends_bye_as_timeout() -> None:
    controller, dialer, rec = make(
        CallTimers(ring_timeout=5, max_duration=0.05, ending_guard=1), flow=FLOW
    )
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.ANSWERED, 200)
    assert await leg.first_order() == "bye"
    leg.emit(LegEventKind.ENDED, 200, LegEndKind.LOCAL_BYE)
    assert (await task).cause is EndCause.MAX_DURATION
    assert rec.statuses == ["progressing", "terminating", "hangup"]


async def test_a_cancel_the_carrier_never_completes_is_closed_by_the_guard() -> None:
    controller, dialer, rec = make(CallTimers(ring_timeout=5, max_duration=5, ending_guard=0.05))
    task, leg = await started(controller, dialer)
    controller.request_hangup()
    end = await task
    assert end.cause is EndCause.CANCELED
    assert leg.orders == ["cancel", "abandon"]
    assert rec.statuses == ["canceling", "hangup"]


async def test_inline_actions_pause_then_hangup() -> None:
    controller, dialer, _ = make(
        actions=[{"type": "pause", "option": {"duration": 50}}, {"type": "hangup"}], flow=FLOW
    )
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.ANSWERED, 200)
    await settle()
    assert leg.orders == []  # still pausing
    assert await leg.first_order() == "bye"
    leg.emit(LegEventKind.ENDED, 200, LegEndKind.LOCAL_BYE)
    assert (await task).cause is EndCause.LOCAL_BYE


async def test_unreachable_carrier_fails_from_dialing() -> None:
    controller, dialer, rec = make()
    task, leg = await started(controller, dialer)
    leg.emit(LegEventKind.ENDED, 0, LegEndKind.UNREACHABLE)
    assert (await task).cause is EndCause.UNREACHABLE
    assert rec.statuses == ["hangup"]


async def test_no_candidate_fails_without_dialing() -> None:
    dialer, recorder = ScriptedDialer(), CallRecorder()
    controller = CallController("c1", Candidates(problem="bad"), dialer, recorder, CallTimers())
    end = await controller.run()
    assert end == CallEnd(EndCause.UNREACHABLE, detail="bad")
    assert dialer.legs == []
