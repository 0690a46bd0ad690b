"""OPTIONS probe throughput: N probes against loopback responders in a child process.

    .venv/bin/python shared/benchmarks/bench_options.py --probes 10000 --ports 10000

Prints wall time and the prober's CPU seconds (the responder's CPU is not counted). Target:
10,000 probes in under 3 s wall and at most 2 CPU-seconds. Stops by itself: the responder
exits when its stdin closes or after --responder-seconds at the latest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import time

from shared.sip.options import OptionsProber
from shared.sip.resolver import SipResolver
from shared.sip.transport import UdpTransport


async def run(args: argparse.Namespace) -> int:
    responder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shared.sip.testing.responder",
        "--ports",
        str(args.ports),
        "--seconds",
        str(args.responder_seconds),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 20,  # the port list is one long JSON line
    )
    try:
        assert responder.stdout is not None and responder.stdin is not None
        line = await asyncio.wait_for(responder.stdout.readline(), 30)
        ports: list[int] = json.loads(line)["ports"]
        transport = await UdpTransport.create("127.0.0.1", 0, max_in_flight=args.concurrency)
        prober = OptionsProber(transport, SipResolver(), timeout=args.timeout)
        targets = [f"127.0.0.1:{ports[i % len(ports)]}" for i in range(args.probes)]

        await prober.probe_many(targets[: min(200, len(targets))])  # warm-up: imports, caches
        wall0, cpu0 = time.perf_counter(), time.process_time()
        results = await prober.probe_many(targets)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        transport.close()

        healthy = sum(1 for r in results if r.healthy)
        rtts = sorted(r.rtt_ms for r in results if r.rtt_ms is not None)
        p50 = statistics.median(rtts) if rtts else float("nan")
        p99 = rtts[int(len(rtts) * 0.99) - 1] if rtts else float("nan")
        print(f"probes={args.probes} targets={len(ports)} concurrency={args.concurrency}")
        print(f"healthy={healthy} unhealthy={len(results) - healthy}")
        print(f"wall={wall:.3f}s cpu={cpu:.3f}s rate={args.probes / wall:,.0f}/s")
        print(
            f"cpu_per_probe={cpu / args.probes * 1e6:.0f}us rtt_p50={p50:.1f}ms rtt_p99={p99:.1f}ms"
        )
        print(f"transport: {transport.stats}")
        ok = healthy == args.probes and wall < 3.0 and cpu <= 2.0
        print("target met" if ok else "TARGET MISSED (10,000 in <3 s wall, <=2 CPU-s)")
        return 0 if ok else 1
    finally:
        if responder.stdin is not None:
            responder.stdin.close()
        try:
            await asyncio.wait_for(responder.wait(), 5)
        except TimeoutError:
            os.kill(responder.pid, signal.SIGKILL)
            await responder.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=10_000)
    parser.add_argument("--ports", type=int, default=10_000, help="responder sockets")
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--responder-seconds", type=float, default=120.0)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
