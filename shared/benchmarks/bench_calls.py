"""CPU cost of many answered calls sending RTP silence, against sipp's built-in UAS.

    .venv/bin/python shared/benchmarks/bench_calls.py --calls 200 --seconds 3

Places N calls (sipp answers them all), measures this process's CPU share while every call
sends silence, then hangs all up. Target: 200 calls well under 60% of one core. Stops by
itself: sipp is stopped by PID at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time

from shared.sip.call import CallEventKind, OutboundCall
from shared.sip.invite_request import CallSpec
from shared.sip.resolver import SipResolver
from shared.sip.testing.sipp import SippProcess
from shared.sip.transport import UdpTransport


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as workdir:
        sipp = SippProcess(workdir, extra_args=("-l", str(args.calls * 2)), max_runtime=120)
        await sipp.start()
        try:
            transport = await UdpTransport.create("127.0.0.1", 0)
            resolver = SipResolver()
            calls = [
                OutboundCall(transport, resolver, CallSpec(request_uri=f"sip:{i}@{sipp.target}"))
                for i in range(args.calls)
            ]
            outcomes = await asyncio.gather(*(c.invite() for c in calls))
            answered = [c for c, o in zip(calls, outcomes, strict=True) if o.kind == "answered"]
            print(f"answered {len(answered)}/{args.calls}")
            await asyncio.sleep(0.5)
            sent0 = sum(c.rtp.packets_sent for c in answered if c.rtp is not None)
            cpu0, wall0 = time.process_time(), time.monotonic()
            await asyncio.sleep(args.seconds)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            sent = sum(c.rtp.packets_sent for c in answered if c.rtp is not None) - sent0
            share = cpu / wall
            print(f"cpu={share:.1%} of one core over {wall:.1f}s")
            print(
                f"rtp={sent / wall:,.0f} packets/s ({sent / wall / max(1, len(answered)):.1f}/call)"
            )
            byes = await asyncio.gather(*(c.bye() for c in answered))
            ended = sum(1 for c in answered if c.history[-1].kind is CallEventKind.LOCAL_HANGUP)
            print(
                f"hung up {ended} (BYE 200: {sum(1 for r in byes if r and r.status_code == 200)})"
            )
            transport.close()
            ok = len(answered) == args.calls and share < 0.6
            print("target met" if ok else "TARGET MISSED (all answered, < 60% of one core)")
            return 0 if ok else 1
        finally:
            await sipp.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
