"""Failover on the same call, against scripted legs: which endings move to the next
candidate, what each attempt records, and the per-provider statistics they feed."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from call_manager.calls.controller import CallController, CallTimers
from call_manager.calls.failover import fails_over
from call_manager.calls.states import CallEnd, EndCause, hangup_reason
from call_manager.dialing.candidates import Candidates, DialCandidate
from call_manager.dialing.leg import (
    InviteSpec,
    LegEndKind,
    LegEvent,
    LegEventKind,
)
from call_manager.provider_stats import code_label, failure_label
from prometheus_client import REGISTRY

from tests.support.scripted_legs import CallRecorder, ScriptedDialer

TIMERS = CallTimers(ring_timeout=5, max_duration=5, ending_guard=1)


def _candidate(provider: str) -> DialCandidate:
    spec = InviteSpec(f"sip:+1555@{provider}.example", f"{provider}.example", "+1444", None, "")
    return DialCandidate(spec, provider, f"route-{provider}")


def _call(
    *providers: str, timers: CallTimers = TIMERS
) -> tuple[CallController, ScriptedDialer, CallRecorder, asyncio.Task[CallEnd]]:
    dialer, observer = ScriptedDialer(), CallRecorder()
    candidates = Candidates(tuple(_candidate(p) for p in providers))
    controller = CallController("c1", candidates, dialer, observer, timers)
    return controller, dialer, observer, asyncio.create_task(controller.run())


def _providers(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (LegEndKind.REJECTED, 404),
        (LegEndKind.REJECTED, 408),
        (LegEndKind.REJECTED, 500),
        (LegEndKind.REJECTED, 503),
        (LegEndKind.REJECTED, 599),
        (LegEndKind.UNREACHABLE, 0),
    ],
)
def test_carrier_failures_fail_over(kind: LegEndKind, code: int) -> None:
    assert fails_over(kind, code)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (LegEndKind.REJECTED, 403),
        (LegEndKind.REJECTED, 480),
        (LegEndKind.REJECTED, 484),
        (LegEndKind.REJECTED, 486),
        (LegEndKind.REJECTED, 487),
        (LegEndKind.REJECTED, 600),
        (LegEndKind.REJECTED, 603),
        (LegEndKind.REJECTED, 302),
        (LegEndKind.CANCELED, 487),
        (LegEndKind.REMOTE_BYE, 0),
        (LegEndKind.UNREACHABLE, 200),  # an unusable 2xx: the callee may have answered
    ],
)
def test_the_called_partys_or_our_decisions_do_not(kind: LegEndKind, code: int) -> None:
    assert not fails_over(kind, code)


async def test_503_then_answer_records_both_attempts() -> None:
    first, second = _providers(2)
    _, dialer, observer, task = _call(first, second)
    leg1 = await dialer.leg(1)
    leg1.emit(LegEventKind.ENDED, 503, LegEndKind.REJECTED)
    leg2 = await dialer.leg(2)
    leg2.emit(LegEventKind.PROVISIONAL, 180)
    leg2.emit(LegEventKind.ANSWERED, 200)
    await asyncio.sleep(0.01)
    assert leg2.orders == ["bye"]  # no flow, no actions: the answer proved the route
    leg2.emit(LegEventKind.ENDED, 200, LegEndKind.LOCAL_BYE)
    assert (await task).cause is EndCause.LOCAL_BYE
    assert observer.failovers == [(second, 503)]
    assert dialer.request_uris == [f"sip:+1555@{first}.example", f"sip:+1555@{second}.example"]
    assert observer.statuses == ["ringing", "progressing", "terminating", "hangup"]
    one, two = observer.attempts
    assert (one["provider_id"], one["route_id"]) == (first, f"route-{first}")
    assert (one["sip_status_code"], one["sip_reason"], one["sip_call_id"]) == (
        503,
        "Service Unavailable",
        "sip-call-1",
    )
    assert one["request_uri"] == f"sip:+1555@{first}.example" and one["tm_end"]
    assert (two["provider_id"], two["sip_status_code"], two["sip_call_id"]) == (
        second,
        200,
        "sip-call-2",
    )
    assert two["tm_start"] >= one["tm_end"] and two["tm_end"]


async def test_busy_ends_the_call_without_a_second_attempt() -> None:
    _, dialer, observer, task = _call(*_providers(2))
    leg = await dialer.leg(1)
    leg.emit(LegEventKind.PROVISIONAL, 180)
    leg.emit(LegEventKind.ENDED, 486, LegEndKind.REJECTED)
    end = await task
    assert (end, hangup_reason(end)) == (CallEnd(EndCause.REJECTED, 486), "busy")
    assert len(dialer.legs) == 1 and observer.failovers == []
    assert [a["sip_status_code"] for a in observer.attempts] == [486]


async def test_exhausted_candidates_end_with_the_last_attempts_outcome() -> None:
    _, dialer, observer, task = _call(*_providers(3))
    (await dialer.leg(1)).emit(LegEventKind.ENDED, 503, LegEndKind.REJECTED)
    (await dialer.leg(2)).emit(LegEventKind.ENDED, 404, LegEndKind.REJECTED)
    (await dialer.leg(3)).emit(LegEventKind.ENDED, 0, LegEndKind.UNREACHABLE)
    end = await task
    # The 503 and 404 of earlier carriers do not leak into the call's outcome.
    assert end == CallEnd(EndCause.UNREACHABLE, 0)
    assert [a["sip_status_code"] for a in observer.attempts] == [503, 404, 0]
    assert len(observer.failovers) == 2


async def test_failover_after_ringing_keeps_the_call_ringing() -> None:
    _, dialer, observer, task = _call(*_providers(2))
    leg1 = await dialer.leg(1)
    leg1.emit(LegEventKind.PROVISIONAL, 183)
    leg1.emit(LegEventKind.ENDED, 500, LegEndKind.REJECTED)
    leg2 = await dialer.leg(2)
    leg2.emit(LegEventKind.PROVISIONAL, 180)
    leg2.emit(LegEventKind.ENDED, 480, LegEndKind.REJECTED)
    end = await task
    assert hangup_reason(end) == "noanswer"
    assert observer.statuses == ["ringing", "hangup"]


async def test_no_failover_once_a_hangup_was_asked_for() -> None:
    controller, dialer, observer, task = _call(*_providers(2))
    leg = await dialer.leg(1)
    leg.emit(LegEventKind.PROVISIONAL, 180)
    controller.request_hangup()
    await asyncio.sleep(0.01)
    assert leg.orders == ["cancel"]
    leg.emit(LegEventKind.ENDED, 503, LegEndKind.REJECTED)  # crossing our CANCEL
    await task
    assert len(dialer.legs) == 1 and observer.failovers == []


async def test_no_failover_after_the_ring_timeout() -> None:
    timers = CallTimers(ring_timeout=0.05, max_duration=5, ending_guard=1)
    _, dialer, _, task = _call(*_providers(2), timers=timers)
    leg = await dialer.leg(1)
    leg.emit(LegEventKind.PROVISIONAL, 180)
    async with asyncio.timeout(2):
        await leg.ordered.wait()
    leg.emit(LegEventKind.ENDED, 408, LegEndKind.REJECTED)
    end = await task
    assert hangup_reason(end) == "noanswer" and len(dialer.legs) == 1


async def test_a_one_candidate_call_has_nowhere_to_go() -> None:
    _, dialer, observer, task = _call(*_providers(1))
    (await dialer.leg(1)).emit(LegEventKind.ENDED, 503, LegEndKind.REJECTED)
    assert (await task) == CallEnd(EndCause.REJECTED, 503, "Service Unavailable")
    assert observer.failovers == []


async def test_statistics_per_provider() -> None:
    first, second = _providers(2)
    _, dialer, _, task = _call(first, second)
    (await dialer.leg(1)).emit(LegEventKind.ENDED, 503, LegEndKind.REJECTED)
    leg2 = await dialer.leg(2)
    leg2.emit(LegEventKind.PROVISIONAL, 180)
    leg2.emit(LegEventKind.ANSWERED, 200)
    leg2.emit(LegEventKind.ENDED, 0, LegEndKind.REMOTE_BYE)
    await task
    assert _sample("provider_call_attempts_total", provider_id=first) == 1
    assert _sample("provider_call_failures_total", provider_id=first, code="503") == 1
    assert _sample("provider_call_answers_total", provider_id=first) == 0
    assert _sample("provider_call_attempts_total", provider_id=second) == 1
    assert _sample("provider_call_answers_total", provider_id=second) == 1
    assert _sample("provider_call_post_dial_delay_seconds_count", provider_id=second) == 1
    assert _sample("provider_call_duration_seconds_count", provider_id=second) == 1
    assert _sample("provider_call_post_dial_delay_seconds_count", provider_id=first) == 0


def test_code_labels_stay_few() -> None:
    assert code_label(503) == "503"
    assert code_label(499) == "4xx" and code_label(555) == "5xx" and code_label(699) == "6xx"
    assert code_label(0) == "unreachable"
    assert failure_label(LegEndKind.REJECTED, 487, cancelled_by_us=True) == "canceled"
    assert failure_label(LegEndKind.CANCELED, 487, cancelled_by_us=False) == "canceled"
    assert failure_label(LegEndKind.UNREACHABLE, 0, cancelled_by_us=False) == "unreachable"
    labels = {code_label(c) for c in range(0, 1000)}
    assert len(labels) <= 20


async def test_addresses_tried_inside_a_provider_are_recorded_on_its_attempt() -> None:
    first, second = _providers(2)
    _, dialer, observer, task = _call(first, second)
    leg1 = await dialer.leg(1)
    tried = (
        {"address": "192.0.2.1:5060", "sip_status_code": 0, "sip_reason": "no response"},
        {"address": "192.0.2.2:5060", "sip_status_code": 503, "sip_reason": "busy"},
    )
    leg1.listener(LegEvent(LegEventKind.ENDED, 503, LegEndKind.REJECTED, "x", targets=tried))
    leg2 = await dialer.leg(2)
    answered = ({"address": "198.51.100.9:5060", "sip_status_code": 200, "sip_reason": "OK"},)
    leg2.listener(
        LegEvent(LegEventKind.ANSWERED, 200, dialog={"sip_call_id": "x"}, targets=answered)
    )
    await asyncio.sleep(0.01)
    leg2.emit(LegEventKind.ENDED, 200, LegEndKind.LOCAL_BYE)
    await task
    one, two = observer.attempts
    assert one["targets"] == list(tried) and two["targets"] == list(answered)
