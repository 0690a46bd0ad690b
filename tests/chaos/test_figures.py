"""The chaos suite's arithmetic, on made-up inputs: probes twice in a round, missed rounds,
calls the carrier answered without a BYE, and request tallies."""

from __future__ import annotations

from pathlib import Path

from shared.sip.testing.sipp import SippProcess

from tests.chaos.load import OptionsResponder, Tally, probe_figures
from tests.chaos.run import _answered_without_bye

SEPARATOR = "-" * 47


def _responder(*times: float) -> OptionsResponder:
    responder = OptionsResponder()
    responder.probes = list(times)
    return responder


def test_probe_figures_count_double_probes_and_missed_rounds() -> None:
    steady = _responder(1.0, 6.0, 11.0, 16.0)
    twice = _responder(1.0, 2.0, 7.0, 12.0, 17.0)  # a second probe 1 s after the first
    starved = _responder(1.0, 11.0, 16.0)  # 10 s without a probe: a round missed
    figures = probe_figures([steady, twice, starved], start=0.0, end=18.0, interval=5.0)
    assert figures == {
        "probes": 12,
        "probed_twice_in_a_round": 1,
        "missed_a_round": 1,
        "longest_probe_gap_s": 10.0,
    }


def test_probe_figures_only_look_inside_the_window() -> None:
    before = _responder(-3.0, -2.5, 1.0, 6.0)
    assert probe_figures([before], 0.0, 8.0, 5.0)["probed_twice_in_a_round"] == 0
    never = _responder()
    assert probe_figures([never], 0.0, 7.0, 5.0)["missed_a_round"] == 0
    assert probe_figures([never], 0.0, 9.0, 5.0)["missed_a_round"] == 1


def _trace(direction: str, text: str) -> str:
    header = (
        "UDP message received [1] bytes :" if direction == "in" else "UDP message sent (1 bytes):"
    )
    return f"{SEPARATOR} 2026-12-06 10:00:00.000000\n{header}\n\n{text}\n\n"


def test_calls_answered_without_a_bye_come_from_the_trace(tmp_path: Path) -> None:
    def invite_ok(call_id: str) -> str:
        return _trace("out", f"SIP/2.0 200 OK\nCall-ID: {call_id}\nCSeq: 1 INVITE\n")

    trace = (
        _trace("in", "INVITE sip:+1@h SIP/2.0\nCall-ID: a\nCSeq: 1 INVITE\n")
        + invite_ok("a")
        + invite_ok("b")
        + _trace("out", "SIP/2.0 200 OK\nCall-ID: probe\nCSeq: 1 OPTIONS\n")
        + _trace("in", "BYE sip:h SIP/2.0\ni: a\nCSeq: 2 BYE\n")
    )
    carrier = SippProcess(tmp_path, scenario=tmp_path / "uas_answer.xml")
    carrier.message_file.write_text(trace)
    assert _answered_without_bye(carrier) == (2, 1)


def test_a_tally_counts_failures_by_status_and_reason() -> None:
    tally = Tally()
    tally.add("200", 0.1, 1.0, ok=True)
    tally.add("503", 0.02, 2.0, ok=False, reason="UNAVAILABLE")
    tally.add("ClientConnectorError", 0.0, 3.0, ok=False)
    assert (tally.total, tally.failed, tally.longest) == (3, 2, 0.1)
    assert tally.reasons == {"503 UNAVAILABLE": 1, "ClientConnectorError": 1}
    assert tally.failures == [2.0, 3.0]
