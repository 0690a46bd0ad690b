"""Gateway benchmark (issues 2 and 14): GET and POST /v1.0/providers through the whole
platform, against the floor of a bare aiohttp + asyncpg server doing the same read and insert,
on loopback.

    python benchmarks/bench_gateway.py            # 20 s per phase in 4 rounds, concurrency 32
    BENCH_SECONDS=3 python benchmarks/bench_gateway.py   # a quick smoke run
    python benchmarks/bench_gateway.py --profile  # also cProfile gateway and provider-manager
    python benchmarks/bench_gateway.py --py-spy "$(command -v py-spy)"  # sample them instead

Every server and the load generator is its own process, so they share the machine's cores
the way they would in production. A fresh database `voip_bench_gateway_<hex>` and queue prefix are
used and removed at the end. Prints figures; it is not a test and asserts nothing, but says
which targets were missed (gateway GET >= 50% of the floor's requests/s with p99 <= 25 ms,
POST >= 30% of the floor's, no errors). The phases alternate in short rounds and each round
gives a ratio (the median is reported), so load from elsewhere on the machine weighs on floor
and gateway alike; CPU milliseconds per request are the figure to compare between changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from benchmarks.support.platform import (  # noqa: E402
    PYTHON,
    ROOT,
    ChildPlatform,
    asyncpg_url,
    cpu_seconds,
    free_port,
)

TARGET_RATIO = 0.5
TARGET_POST_RATIO = 0.3
TARGET_P99_MS = 25.0


# The GETs go round this many providers, so each reads a row of its own as real traffic
# does, and no layer can answer a repeat of the same id for less.
READ_PROVIDERS = 64


async def _prepare(platform: ChildPlatform) -> tuple[str, list[str], dict[str, Any]]:
    """Log in, create the providers the GETs read; return (token, provider ids, POST body)."""
    body = {
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {"X-Account": "bench"},
        "name": "bench provider",
        "detail": "created by the benchmark",
    }
    async with aiohttp.ClientSession(platform.gateway_url) as session:
        headers = await platform.login(session)
        token = headers["Authorization"].removeprefix("Bearer ")
        provider_ids = []
        for n in range(READ_PROVIDERS):
            named = {**body, "name": f"bench provider {n}"}
            async with session.post("/v1.0/providers", json=named, headers=headers) as resp:
                resp.raise_for_status()
                provider_ids.append(str((await resp.json())["id"]))
    return token, provider_ids, body


def _phase(
    label: str,
    urls: list[str],
    method: str,
    seconds: float,
    concurrency: int,
    headers: dict[str, str],
    body: dict[str, Any] | None,
    pids: dict[str, int],
    py_spy: str | None = None,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    args = [
        PYTHON,
        str(HERE / "loadgen.py"),
        *(arg for url in urls for arg in ("--url", url)),
        "--method",
        method,
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        "--warmup",
        str(min(2.0, max(0.5, seconds / 10))),
    ]
    for key, value in headers.items():
        args += ["--header", f"{key}: {value}"]
    if body is not None:
        args += ["--body", json.dumps(body)]
    loadgen = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT)
    samplers = [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pids[name]),
                "--duration",
                str(int(seconds)),
                "--format",
                "raw",
                "--output",
                str(profile_dir / f"{label.replace(' ', '-')}.{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in ("api-gateway", "provider-manager")
        if py_spy and profile_dir is not None and not label.startswith("floor")
    ]
    watched = {**pids, "loadgen": loadgen.pid}
    cpu_before = cpu_seconds(watched)
    wall_before = time.perf_counter()
    out, _ = loadgen.communicate(timeout=seconds + 120)
    wall = time.perf_counter() - wall_before
    for sampler in samplers:
        sampler.wait(timeout=60)
    cpu_after = cpu_seconds({k: v for k, v in watched.items() if k != "loadgen"})
    if loadgen.returncode != 0:
        raise RuntimeError(f"load generator failed for {label}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["label"] = label
    # CPU use over the phase, in cores (1.0 = one core busy the whole time); the load
    # generator reports its own.
    result["cpu_cores"] = {
        name: round((cpu_after[name] - cpu_before[name]) / wall, 2)
        for name in cpu_after
        if name in cpu_before
    }
    result["cpu_cores"]["loadgen"] = result.pop("loadgen_cpu_cores", float("nan"))
    return result


def _print_result(result: dict[str, Any]) -> None:
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in result["cpu_cores"].items())
    # CPU time per answered request: unlike req/s, this barely moves when other work
    # shares the machine, so it is the figure to compare between code changes.
    per_request = ", ".join(
        f"{k} {v * 1000 / result['rps']:.2f}"
        for k, v in result["cpu_cores"].items()
        if result["rps"] and v == v and v >= 0.005
    )
    kinds = f" {result['error_kinds']}" if result["errors"] else ""
    print(
        f"{result['label']:<26} {result['rps']:>9.1f} req/s   p50 {result['p50_ms']:>6.2f} ms"
        f"   p90 {result['p90_ms']:>6.2f} ms   p99 {result['p99_ms']:>6.2f} ms"
        f"   max {result['max_ms']:>7.2f} ms   errors {result['errors']}{kinds}"
        f"   ({result['requests']} in {result['seconds']} s)"
    )
    print(f"{'':<26} CPU cores used: {cpu}")
    print(f"{'':<26} CPU ms per request: {per_request}")


async def _cleanup_backends(platform: ChildPlatform) -> None:
    try:
        connection = await aio_pika.connect(platform.amqp_url)
        async with connection:
            channel = await connection.channel()
            for service in ("provider-manager", "api-gateway"):
                await channel.exchange_delete(f"{platform.queue_prefix}.{service}.event")
    except Exception as exc:  # a leftover exchange is harmless; say so and go on
        print(f"(could not delete the benchmark exchanges: {exc})")
    await platform.drop_database()


async def main_async(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    floor_port, ops = free_port(), {"api-gateway": free_port(), "provider-manager": free_port()}
    settings = {
        "GATEWAY_OPS_PORT": str(ops["api-gateway"]),
        "PROVIDER_MANAGER_OPS_PORT": str(ops["provider-manager"]),
    }
    platform = ChildPlatform("gateway", Path(tempfile.mkdtemp(prefix="bench-gateway-")), settings)
    platform.profile_dir = Path(args.profile_dir) if args.profile else None
    print(
        f"bench: {args.seconds:g} s per phase, concurrency {args.concurrency}, "
        f"{os.cpu_count()} CPUs, database {platform.db_name}"
    )
    results: dict[str, list[dict[str, Any]]] = {}
    async with AsyncExitStack() as stack:
        stack.push_async_callback(_cleanup_backends, platform)
        stack.callback(platform.stop)
        await asyncio.to_thread(platform.migrate, "provider_manager", "api_gateway")
        platform.serve("provider-manager", "api-gateway")
        await platform.wait_http(f"http://127.0.0.1:{ops['provider-manager']}/readyz")
        await platform.wait_http(f"http://127.0.0.1:{ops['api-gateway']}/readyz")
        await platform.wait_http(f"{platform.gateway_url}/openapi.json")
        token, provider_ids, body = await _prepare(platform)
        floor_args = ["--port", str(floor_port)]
        floor_args += ["--database-url", asyncpg_url(platform.database_url)]
        platform.start("floor", [str(HERE / "floor_server.py"), *floor_args], profile=False)
        floor_base = f"http://127.0.0.1:{floor_port}/v1.0/providers"
        floor_urls = [f"{floor_base}/{pid}" for pid in provider_ids]
        await platform.wait_http(floor_urls[0])

        pids = platform.pids()
        gateway = platform.gateway_url
        auth = {"Authorization": f"Bearer {token}"}
        floor_post = f"http://127.0.0.1:{floor_port}/v1.0/providers"
        phases = [
            ("floor GET", floor_urls, "GET", {}, None),
            (
                "gateway GET",
                [f"{gateway}/v1.0/providers/{p}" for p in provider_ids],
                "GET",
                auth,
                None,
            ),
            ("floor POST", [floor_post], "POST", {}, body),
            ("gateway POST", [f"{gateway}/v1.0/providers"], "POST", auth, body),
        ]
        # Short phases in turn, several rounds: whatever else loads the machine then weighs
        # on the floor and the gateway alike, and each round gives its own ratio.
        for round_no in range(args.rounds):
            print(f"-- round {round_no + 1} of {args.rounds}")
            for label, urls, method, headers, payload in phases:
                result = await asyncio.to_thread(
                    _phase,
                    label,
                    urls,
                    method,
                    args.seconds / args.rounds,
                    args.concurrency,
                    headers,
                    payload,
                    pids,
                    args.py_spy if round_no == 0 else None,
                    Path(args.profile_dir),
                )
                platform.check_alive()
                results.setdefault(label, []).append(result)
                _print_result(result)
        await _print_read_batches(f"http://127.0.0.1:{ops['provider-manager']}/metrics")

    return results


async def _print_read_batches(metrics_url: str) -> None:
    """How many GETs one query served in provider-manager (shared.read_batching)."""
    async with aiohttp.ClientSession() as session, session.get(metrics_url) as resp:
        text = await resp.text()
    figures: dict[str, float] = {}
    for line in text.splitlines():
        for name in ("read_batch_keys_sum", "read_batch_keys_count"):
            if line.startswith(name + '{reader="providers_by_id"}'):
                figures[name] = float(line.rsplit(" ", 1)[1])
    if figures.get("read_batch_keys_count"):
        keys, batches = figures["read_batch_keys_sum"], figures["read_batch_keys_count"]
        print(
            f"provider-manager reads by id: {keys:.0f} GETs in {batches:.0f} queries "
            f"({keys / batches:.2f} per query)"
        )


def _ratios(results: dict[str, list[dict[str, Any]]], top: str, floor: str) -> list[float]:
    return [
        mine["rps"] / base["rps"] if base["rps"] else 0.0
        for mine, base in zip(results[top], results[floor], strict=True)
    ]


def _combined(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """A phase's rounds as one: requests/s and CPU per request averaged, the median p99."""
    out = dict(rounds[0])
    out["rps"] = round(statistics.fmean(r["rps"] for r in rounds), 1)
    out["p99_ms"] = round(statistics.median(r["p99_ms"] for r in rounds), 2)
    out["errors"] = sum(r["errors"] for r in rounds)
    out["cpu_ms_per_request"] = {
        name: round(
            statistics.fmean(r["cpu_cores"][name] * 1000 / r["rps"] for r in rounds if r["rps"]),
            3,
        )
        for name in rounds[0]["cpu_cores"]
        if all(r["cpu_cores"].get(name) == r["cpu_cores"].get(name) for r in rounds)
    }
    return out


def _summary(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    combined = {label: _combined(rounds) for label, rounds in results.items()}
    print("\nover all rounds (mean req/s and CPU, median p99):")
    for label, result in combined.items():
        cpu = ", ".join(
            f"{k} {v:.2f}" for k, v in result["cpu_ms_per_request"].items() if v >= 0.005
        )
        print(
            f"{label:<26} {result['rps']:>9.1f} req/s   p99 {result['p99_ms']:>7.2f} ms"
            f"   errors {result['errors']}   CPU ms per request: {cpu}"
        )
    get_ratio = statistics.median(_ratios(results, "gateway GET", "floor GET"))
    post_ratio = statistics.median(_ratios(results, "gateway POST", "floor POST"))
    print(
        f"ratio gateway GET / floor GET: {get_ratio:.2f} (median of {args.rounds} rounds; "
        f"target >= {TARGET_RATIO})"
    )
    print(
        f"ratio gateway POST / floor POST: {post_ratio:.2f} (median of {args.rounds} rounds; "
        f"target >= {TARGET_POST_RATIO})"
    )
    missed = []
    if get_ratio < TARGET_RATIO:
        missed.append(f"gateway GET is {get_ratio * 100:.0f}% of the floor (target >= 50%)")
    if post_ratio < TARGET_POST_RATIO:
        missed.append(f"gateway POST is {post_ratio * 100:.0f}% of the floor (target >= 30%)")
    get = combined["gateway GET"]
    if get["p99_ms"] > TARGET_P99_MS:
        missed.append(f"gateway GET p99 {get['p99_ms']} ms (target <= {TARGET_P99_MS:g} ms)")
    for label in ("gateway GET", "gateway POST"):
        if combined[label]["errors"]:
            missed.append(f"{label} had {combined[label]['errors']} errors")
    print("targets: all met" if not missed else "targets missed: " + "; ".join(missed))
    if args.json:
        document = {"rounds": results, "combined": combined}
        Path(args.json).write_text(
            json.dumps({**document, "ratio": get_ratio, "post_ratio": post_ratio}, indent=2)
        )
    if args.profile or args.py_spy:
        print(f"profiles in {args.profile_dir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", "20"))
    )
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", "32"))
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_ROUNDS", "4")),
        help="alternate the phases this many times, --seconds split between them",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the two services")
    parser.add_argument("--py-spy", default=None, help="path of py-spy: sample both services")
    parser.add_argument("--profile-dir", default="/tmp/bench-profiles")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
    _summary(asyncio.run(main_async(args)), args)


if __name__ == "__main__":
    main()
