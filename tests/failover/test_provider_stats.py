"""Per-provider call statistics on call-manager's ops port (/metrics), after real calls."""

from __future__ import annotations

import aiohttp
from call_manager.app import CallManagerApp
from prometheus_client.parser import text_string_to_metric_families

from tests.support.calls import wait_call
from tests.support.routed_calls import LA, NYC, Caller, CarrierFactory, place, sip_provider
from tests.support.routes import RouteDriver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(app: CallManagerApp) -> Samples:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{app.bound_ops_port}/metrics") as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_attempts_answers_failures_and_delays_are_counted_per_provider(
    api: aiohttp.ClientSession,
    routing: RouteDriver,
    caller: Caller,
    carrier: CarrierFactory,
    routed_call_manager: CallManagerApp,
) -> None:
    down_code = {"final_code": 503, "final_reason": "Service Unavailable"}
    async with (
        carrier("down", "uas_reject.xml", **down_code) as down,
        carrier("up", "uas_answer.xml") as up,
    ):
        p_down, p_up = await sip_provider(routing, down), await sip_provider(routing, up)
        await routing.route(p_down, "+1", caller.customer_id, priority=1)
        await routing.route(p_up, "+1", caller.customer_id, priority=2)
        before = await _scrape(routed_call_manager)
        for number in (NYC, LA):  # each: 503 from the first, answered by the second
            call_id = await place(api, caller, number)
            await wait_call(api, caller.headers, call_id, "hangup")
        after = await _scrape(routed_call_manager)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("provider_call_attempts_total", provider_id=p_down) == 2
    assert moved("provider_call_failures_total", provider_id=p_down, code="503") == 2
    assert moved("provider_call_answers_total", provider_id=p_down) == 0
    assert moved("provider_call_attempts_total", provider_id=p_up) == 2
    assert moved("provider_call_answers_total", provider_id=p_up) == 2
    assert moved("provider_call_post_dial_delay_seconds_count", provider_id=p_up) == 2
    assert moved("provider_call_post_dial_delay_seconds_sum", provider_id=p_up) > 0
    assert moved("provider_call_duration_seconds_count", provider_id=p_up) == 2
    # A carrier that never rang has no post-dial delay to report.
    assert moved("provider_call_post_dial_delay_seconds_count", provider_id=p_down) == 0
