"""Prometheus metrics shared by every service, and the ops HTTP endpoint that serves them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

M = TypeVar("M", Counter, Gauge, Histogram)
_CHILDREN: dict[tuple[object, tuple[str, ...]], object] = {}


def child(metric: M, *labels: str) -> M:
    """metric.labels(*labels), remembered: labels() validates, converts and takes a lock on
    every call, and the request paths call it several times per request with the same few
    label sets (bounded like the series themselves)."""
    key = (metric, labels)
    found = _CHILDREN.get(key)
    if found is None:
        found = _CHILDREN[key] = metric.labels(*labels)
    return found  # type: ignore[return-value]


RPC_SERVER_REQUESTS = Counter(
    "rpc_server_requests_total",
    "RPC requests handled, by route and reply status code",
    ["queue", "method", "route", "status_code"],
)
RPC_SERVER_SECONDS = Histogram(
    "rpc_server_request_seconds",
    "Time to handle an RPC request",
    ["queue", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RPC_CLIENT_CALLS = Counter(
    "rpc_client_calls_total", "RPC calls made, by target queue and outcome", ["queue", "outcome"]
)
RPC_CLIENT_SECONDS = Histogram(
    "rpc_client_call_seconds",
    "Round trip of an RPC call",
    ["queue"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
READ_BATCH_KEYS = Histogram(
    "read_batch_keys",
    "Keys fetched per batched read (shared.read_batching): the reads one query served",
    ["reader"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
EVENTS_PUBLISHED = Counter(
    "events_published_total", "Events published by the outbox relay", ["exchange", "type"]
)
OUTBOX_PENDING = Gauge("outbox_pending_events", "Events waiting in the outbox", ["schema"])
EVENTS_CONSUMED = Counter(
    "events_consumed_total", "Events handled by a subscriber", ["queue", "type", "outcome"]
)
SIP_CONNECTIONS = Counter(
    "sip_connections_total",
    "SIP TCP/TLS connections, by transport, who opened them and what happened",
    ["transport", "direction", "outcome"],
)
SIP_CONNECTIONS_OPEN = Gauge("sip_connections_open", "Open SIP TCP/TLS connections", ["transport"])
SIP_TRANSPORT_SWITCHES = Counter(
    "sip_transport_switches_total",
    "Requests moved from UDP to TCP because of their size (RFC 3261 section 18.1.1)",
    ["outcome"],
)

ReadinessCheck = Callable[[], Awaitable[bool]]


def ops_app(readiness: dict[str, ReadinessCheck]) -> web.Application:
    """/metrics, /healthz (the process is up) and /readyz (its dependencies answer)."""

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        results: dict[str, bool] = {}
        for name, check in readiness.items():
            try:
                results[name] = await check()
            except Exception:
                results[name] = False
        ok = all(results.values())
        return web.json_response(
            {"status": "ok" if ok else "unavailable", "checks": results}, status=200 if ok else 503
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def start_ops_server(
    host: str, port: int, readiness: dict[str, ReadinessCheck]
) -> web.AppRunner:
    runner = web.AppRunner(ops_app(readiness), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
