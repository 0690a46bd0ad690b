"""A closed-loop HTTP load generator: N clients, each sending its next request as soon as the
previous answer arrives, for a fixed time. Runs as its own process so it competes with the
servers for the CPU the way a real client on the same machine would. Prints one JSON line.
Given several --url, each client goes round them in turn, starting at its own offset.

    python benchmarks/loadgen.py --url http://127.0.0.1:8080/v1.0/providers/ID \
        --method GET --concurrency 32 --seconds 20 --header "Authorization: Bearer ..."
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import aiohttp


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(
    urls: list[str],
    method: str,
    concurrency: int,
    seconds: float,
    warmup: float,
    headers: dict[str, str],
    body: bytes | None,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        measuring = False
        stop_at = time.perf_counter() + warmup + seconds

        async def client(offset: int) -> None:
            turn = offset
            while (now := time.perf_counter()) < stop_at:
                url = urls[turn % len(urls)]
                turn += 1
                try:
                    async with session.request(method, url, data=body) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, OSError) as exc:
                    status = 0
                    key = exc.__class__.__name__
                else:
                    key = str(status)
                if not measuring:
                    continue
                if 200 <= status < 300:
                    latencies.append(time.perf_counter() - now)
                else:
                    errors[key] = errors.get(key, 0) + 1

        tasks = [asyncio.create_task(client(n)) for n in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        started = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    latencies.sort()
    done = len(latencies)
    return {
        "requests": done,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "seconds": round(elapsed, 3),
        "rps": round(done / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p90_ms": round(_percentile(latencies, 0.90) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round((latencies[-1] if latencies else float("nan")) * 1000, 2),
        # The generator's own CPU, in cores: near 1.0 means the client, not the server, limits.
        "loadgen_cpu_cores": round(time.process_time() / (elapsed + warmup), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True, help="repeatable")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", default=None, help="request body (JSON text)")
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    body = args.body.encode() if args.body is not None else None
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    result = asyncio.run(
        run(args.url, args.method, args.concurrency, args.seconds, args.warmup, headers, body)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
