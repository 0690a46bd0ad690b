"""Calls per second through a Digest-challenging kamailio edge vs the same edge without a
challenge, with a sipp switch behind it (issue 9).

    .venv/bin/python shared/benchmarks/bench_digest_proxy.py --calls 150 --concurrency 15 --rounds 3

Each call: INVITE (through the 407 and the signed retry when challenged) -> 200 -> ACK -> BYE
-> 200, RTP off. The two phases alternate round by round on the same machine, and the figure
that matters is their ratio: calls/s and our CPU-ms per call (time.process_time), challenged
over plain. Target: a challenged call costs under 2x a plain one in calls/s (it is two
INVITE transactions instead of one, plus the hashing). Every child is stopped by PID.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shared.sip.call import CallEventKind, CredentialsSource, OutboundCall
from shared.sip.digest import Credentials
from shared.sip.invite_request import CallSpec
from shared.sip.resolver import SipResolver
from shared.sip.testing.kamailio import KamailioProcess
from shared.sip.testing.sipp import SippProcess
from shared.sip.transport import SipTransport

ROOT = Path(__file__).resolve().parents[2]
SWITCH = ROOT / "tests" / "edge" / "scenarios" / "switch_answer.xml"
USER, PASSWORD = "bench-trunk", "bench-pw"


def _source() -> CredentialsSource:
    credentials = Credentials(USER, PASSWORD)

    async def fetch() -> Credentials | None:
        return credentials

    return fetch


async def _one(transport: SipTransport, resolver: SipResolver, edge: str, n: int) -> bool:
    call = OutboundCall(
        transport,
        resolver,
        CallSpec(request_uri=f"sip:1555{n:07d}@{edge}", from_user="1001"),
        send_rtp=False,
        credentials=_source(),
    )
    try:
        outcome = await call.invite()
        if outcome.kind is not CallEventKind.ANSWERED:
            return False
        response = await call.bye()
        return response is not None and response.status_code == 200
    finally:
        await call.aclose()


async def _phase(
    workdir: Path, challenge: bool, calls: int, concurrency: int
) -> tuple[float, float, int]:
    """(calls/s, CPU-ms per call, completed)."""
    async with (
        SippProcess(
            workdir / "switch", scenario=SWITCH, extra_args=("-l", str(concurrency * 4))
        ) as switch,
        KamailioProcess(
            workdir / "edge",
            switch=switch.address,
            user=USER,
            password=PASSWORD,
            challenge=challenge,
        ) as edge,
    ):
        transport = await SipTransport.create("127.0.0.1", 0)
        resolver = SipResolver()
        gate = asyncio.Semaphore(concurrency)

        async def guarded(n: int) -> bool:
            async with gate:
                return await _one(transport, resolver, edge.target, n)

        cpu0, wall0 = time.process_time(), time.monotonic()
        results = await asyncio.gather(*(guarded(n) for n in range(calls)))
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        transport.close()
        await transport.wait_closed()
    done = sum(results)
    return done / wall, cpu * 1000 / max(done, 1), done


async def run(args: argparse.Namespace) -> int:
    plain: list[tuple[float, float, int]] = []
    challenged: list[tuple[float, float, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for challenge, into in ((False, plain), (True, challenged)):
                workdir = Path(tmp) / f"r{i}-{'auth' if challenge else 'plain'}"
                figures = await _phase(workdir, challenge, args.calls, args.concurrency)
                into.append(figures)
                print(
                    f"round {i + 1} {'challenged' if challenge else 'plain':>10}: "
                    f"{figures[0]:7.1f} calls/s, {figures[1]:5.2f} CPU-ms/call, "
                    f"{figures[2]}/{args.calls} completed",
                    flush=True,
                )
    cps_ratio = statistics.median(c[0] / p[0] for p, c in zip(plain, challenged, strict=True))
    cpu_ratio = statistics.median(c[1] / p[1] for p, c in zip(plain, challenged, strict=True))
    all_done = all(f[2] == args.calls for f in plain + challenged)
    print(
        f"plain median {statistics.median(p[0] for p in plain):.1f} calls/s, "
        f"challenged median {statistics.median(c[0] for c in challenged):.1f} calls/s"
    )
    print(f"challenged/plain: calls/s x{cps_ratio:.2f}, CPU per call x{cpu_ratio:.2f}")
    ok = all_done and cps_ratio > 0.5
    print("target met" if ok else "TARGET MISSED (all calls completed, challenged > 0.5x plain)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
