"""`make bench`: every benchmark in turn, each in its own process; each prints its figures.

Benchmarks measure and report; they assert nothing about time (a noisy machine would make
that flaky). `make bench BENCH=gateway` runs one of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = {
    "gateway": ROOT / "benchmarks" / "bench_gateway.py",
    "options": ROOT / "shared" / "benchmarks" / "bench_options.py",
    "health-round": ROOT / "services" / "health-checker" / "benchmarks" / "bench_round.py",
    "providercalls": ROOT / "services" / "call-manager" / "benchmarks" / "bench_providercalls.py",
    "sip-calls": ROOT / "shared" / "benchmarks" / "bench_calls.py",
    "digest-proxy": ROOT / "shared" / "benchmarks" / "bench_digest_proxy.py",
    "calls-per-second": ROOT
    / "services"
    / "call-manager"
    / "benchmarks"
    / "bench_calls_per_second.py",
    "console": ROOT / "benchmarks" / "bench_console.py",
    "call-robustness": ROOT
    / "services"
    / "call-manager"
    / "benchmarks"
    / "bench_call_robustness.py",
    "abuse": ROOT / "benchmarks" / "bench_abuse.py",
}


def main() -> int:
    wanted = os.environ.get("BENCH", "")
    names = [n for n in BENCHMARKS if not wanted or n in wanted.split(",")]
    if not names:
        print(f"unknown BENCH={wanted!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        script = BENCHMARKS[name]
        if not script.exists():
            print(f"== {name}: {script.relative_to(ROOT)} is missing", flush=True)
            failed.append(name)
            continue
        print(f"\n== {name}: {script.relative_to(ROOT)}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that did not complete: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
