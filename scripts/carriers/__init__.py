"""sipp carriers for `make demo` and the console tests: answering, busy and silent."""

from __future__ import annotations

from pathlib import Path

from shared.sip.testing.sipp import SippProcess

SCENARIOS = Path(__file__).parent


def answering(workdir: Path, max_runtime: float = 3600) -> SippProcess:
    """sipp's built-in UAS: INVITE -> 180 -> 200, then our BYE; -aa answers OPTIONS 200."""
    return SippProcess(workdir / "answering", auto_answer=True, max_runtime=max_runtime)


def busy(workdir: Path, max_runtime: float = 3600) -> SippProcess:
    """OPTIONS -> 200 (healthy), INVITE -> 180 then 486 Busy Here."""
    return SippProcess(
        workdir / "busy", scenario=SCENARIOS / "busy.xml", auto_answer=True, max_runtime=max_runtime
    )


def silent(workdir: Path, max_runtime: float = 3600) -> SippProcess:
    """Answers nothing at all: probes time out, calls get no response."""
    return SippProcess(
        workdir / "silent",
        scenario=SCENARIOS / "silent.xml",
        extra_args=("-default_behaviors", "none"),
        max_runtime=max_runtime,
    )
