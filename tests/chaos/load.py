"""The steady load a fault scenario runs under, and what it observed.

- writers: POST /v1.0/providers then DELETE it, in a closed loop, through whichever gateway
  replicas are ready (a client-side stand-in for a Kubernetes Service: a gateway leaves the
  set when its /readyz fails, checked every second, like a readiness probe);
- callers: POST /v1.0/calls to a number routed to a sipp carrier; half of them hang up over
  the API after `hold` seconds, the other half leave the call to CALL_MAX_DURATION (so a
  killed replica's calls have no API hangup to rescue them);
- probe targets: UDP sockets that answer SIP OPTIONS with 200 and note when each was probed;
- an audit queue: a durable queue bound to provider-manager's event exchange, counting the
  provider_created events, to compare with the 200 replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiohttp
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from tests.chaos.platform import Platform, Replica

CLIENT_TIMEOUT = 35.0  # above every server-side deadline: the server answers first


@dataclass
class Tally:
    """Replies of one kind of request during one window."""

    statuses: Counter[str] = field(default_factory=Counter)
    longest: float = 0.0
    failures: list[float] = field(default_factory=list)  # monotonic times of failed requests
    reasons: Counter[str] = field(default_factory=Counter)  # "status reason" of failures

    def add(self, status: str, seconds: float, at: float, ok: bool, reason: str = "") -> None:
        self.statuses[status] += 1
        if not ok:
            self.reasons[f"{status} {reason}".strip()] += 1
        self.longest = max(self.longest, seconds)
        if not ok:
            self.failures.append(at)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return len(self.failures)


class Watcher:
    """A loop (`_watch`) that runs in the background between start() and stop()."""

    _task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Gateways(Watcher):
    """The ready gateway replicas, refreshed every second from /readyz."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.ready: list[Replica] = list(replicas)
        self._cycle = itertools.count()

    def pick(self) -> Replica | None:
        ready = self.ready
        if not ready:
            return None
        return ready[next(self._cycle) % len(ready)]

    async def _watch(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                states = await asyncio.gather(*(r.ready(session) for r in self.replicas))
                self.ready = [r for r, ok in zip(self.replicas, states, strict=True) if ok]
                await asyncio.sleep(1.0)


class Window:
    """What the load saw between two instants (one scenario)."""

    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}
        self.created_ids: set[str] = set()
        self.call_ids: set[str] = set()

    def tally(self, kind: str) -> Tally:
        return self.tallies.setdefault(kind, Tally())


class Load:
    def __init__(
        self,
        platform: Platform,
        admin_headers: dict[str, str],
        caller_headers: dict[str, str],
        call_number: str,
        writers: int,
        callers: int,
        hold: float,
        max_duration: float,
    ) -> None:
        self.platform = platform
        self.gateways = Gateways(platform.of("api-gateway"))
        self.admin_headers = admin_headers
        self.caller_headers = caller_headers
        self.call_number = call_number
        self.writers = writers
        self.callers = callers
        self.hold = hold
        self.max_duration = max_duration
        self.window = Window()
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._serial = itertools.count()

    def new_window(self) -> Window:
        """Start counting afresh; returns the window that just ended."""
        ended, self.window = self.window, Window()
        return ended

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT),
            connector=aiohttp.TCPConnector(limit=0),
        )
        self.gateways.start()
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._writer()) for _ in range(self.writers)]
        self._tasks += [
            asyncio.create_task(self._caller(hang_up=i % 2 == 0)) for i in range(self.callers)
        ]

    async def stop(self) -> None:
        self._stop.set()
        # Let in-flight requests finish (bounded by the client timeout) so none is cut short.
        await asyncio.wait(self._tasks, timeout=CLIENT_TIMEOUT + 5)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.gateways.stop()
        if self._session is not None:
            await self._session.close()

    async def _request(
        self, kind: str, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        """One request through a ready gateway; the reply's status and JSON (or None)."""
        assert self._session is not None
        window = self.window
        gateway = self.gateways.pick()
        start = time.monotonic()
        if gateway is None:
            window.tally(kind).add("no-gateway", 0.0, start, ok=False)
            await asyncio.sleep(0.2)
            return 0, None
        url = f"http://127.0.0.1:{gateway.http_port}{path}"
        try:
            async with self._session.request(method, url, json=body, headers=headers) as resp:
                data = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            elapsed = time.monotonic() - start
            window.tally(kind).add(exc.__class__.__name__, elapsed, start, ok=False)
            await asyncio.sleep(0.05)  # a refused connection must not turn into a busy loop
            return 0, None
        elapsed = time.monotonic() - start
        reason = ""
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            reason = str(data["error"].get("reason", ""))
        window.tally(kind).add(str(status), elapsed, start, 200 <= status < 300, reason)
        return status, data

    async def _writer(self) -> None:
        while not self._stop.is_set():
            window = self.window
            serial = next(self._serial)
            body = {"type": "sip", "hostname": f"w{serial}.chaos.invalid", "name": f"w{serial}"}
            status, data = await self._request(
                "provider POST", "POST", "/v1.0/providers", self.admin_headers, body
            )
            if status == 200 and isinstance(data, dict):
                window.created_ids.add(str(data["id"]))
                await self._request(
                    "provider DELETE",
                    "DELETE",
                    f"/v1.0/providers/{data['id']}",
                    self.admin_headers,
                )

    async def _caller(self, hang_up: bool) -> None:
        while not self._stop.is_set():
            window = self.window
            body = {
                "source": {"type": "tel", "target": "+14155550100", "target_name": "chaos"},
                "destinations": [{"type": "tel", "target": self.call_number}],
                # Stay up after answer (no action at all would hang up at once).
                "actions": [{"type": "pause", "option": {"duration": 600_000}}],
            }
            status, data = await self._request(
                "call POST", "POST", "/v1.0/calls", self.caller_headers, body
            )
            if status != 200 or not isinstance(data, dict) or not data.get("calls"):
                await asyncio.sleep(0.2)
                continue
            call_id = str(data["calls"][0]["id"])
            window.call_ids.add(call_id)
            if not hang_up:
                await asyncio.sleep(self.max_duration + 1)
                continue
            await asyncio.sleep(self.hold)
            await self._request(
                "call hangup", "POST", f"/v1.0/calls/{call_id}/hangup", self.caller_headers
            )


class OptionsResponder(asyncio.DatagramProtocol):
    """A provider's SIP address that answers OPTIONS with 200 and notes each probe's time."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.probes: list[float] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram transport

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        text = data.decode(errors="replace")
        if not text.startswith("OPTIONS "):
            return
        self.probes.append(time.monotonic())
        copied = [
            line
            for line in text.split("\r\n")
            if line.split(":", 1)[0].strip().lower() in ("via", "v", "from", "f", "to", "t")
            or line.split(":", 1)[0].strip().lower() in ("call-id", "i", "cseq")
        ]
        reply = "SIP/2.0 200 OK\r\n" + "\r\n".join(copied) + "\r\nContent-Length: 0\r\n\r\n"
        assert self.transport is not None
        self.transport.sendto(reply.encode(), addr)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


async def start_responders(count: int) -> list[OptionsResponder]:
    loop = asyncio.get_running_loop()
    responders = []
    for _ in range(count):
        _, protocol = await loop.create_datagram_endpoint(
            OptionsResponder, local_addr=("127.0.0.1", 0)
        )
        responders.append(protocol)
    return responders


def probe_figures(
    responders: list[OptionsResponder], start: float, end: float, interval: float
) -> dict[str, float]:
    """Between `start` and `end`: providers probed twice within half an interval (twice in a
    round), providers with a gap over 1.75 intervals (a round missed: a steady schedule's
    gaps stay within interval x (1 + jitter) plus scheduling delay), and the longest gap
    between two probes of one provider."""
    twice = missed = probes = 0
    longest = 0.0
    for responder in responders:
        times = [t for t in responder.probes if start <= t <= end]
        probes += len(times)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        if any(gap < interval / 2 for gap in gaps):
            twice += 1
        edges = [times[0] - start, end - times[-1]] if times else [end - start]
        if any(gap > 1.75 * interval for gap in [*gaps, *edges]):
            missed += 1
        longest = max([longest, *gaps])
    return {
        "probes": probes,
        "probed_twice_in_a_round": twice,
        "missed_a_round": missed,
        "longest_probe_gap_s": round(longest, 1),
    }


class EventAudit:
    """A durable queue on provider-manager's event exchange: provider_created ids seen."""

    def __init__(self, amqp_url: str, exchange: str, queue: str) -> None:
        self.amqp_url = amqp_url
        self.exchange = exchange
        self.queue_name = queue
        self.created: set[str] = set()
        self.connection: AbstractRobustConnection | None = None
        self._arrived = asyncio.Event()

    async def start(self) -> None:
        self.connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.FANOUT, durable=True
        )
        queue = await channel.declare_queue(self.queue_name, durable=True)
        await queue.bind(exchange)
        await queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        async with message.process():
            event = json.loads(message.body)
            if event.get("type") == "provider_created":
                self.created.add(str((event.get("data") or {}).get("id")))
                self._arrived.set()

    async def lost(self, replied: set[str], wait: float) -> int:
        """Ids replied 200 whose provider_created has not arrived after `wait` seconds."""
        deadline = time.monotonic() + wait
        while not replied <= self.created and (left := deadline - time.monotonic()) > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
        return len(replied - self.created)

    async def stop(self) -> None:
        if self.connection is None:
            return
        with contextlib.suppress(Exception):
            channel = await self.connection.channel()
            await channel.queue_delete(self.queue_name)
        await self.connection.close()


class BackendWatch(Watcher):
    """Whether PostgreSQL and RabbitMQ accept connections, checked every half second: other
    suites on this machine restart them at times, and a scenario's figures must say so."""

    def __init__(self, endpoints: dict[str, tuple[str, int]]) -> None:
        self.endpoints = endpoints
        self.down: dict[str, list[float]] = {name: [] for name in endpoints}  # failed checks

    async def _up(self, host: str, port: int) -> bool:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True

    async def _watch(self) -> None:
        while True:
            for name, (host, port) in self.endpoints.items():
                if not await self._up(host, port):
                    self.down[name].append(time.monotonic())
            await asyncio.sleep(0.5)

    def seconds_down(self, start: float, end: float) -> dict[str, float]:
        return {
            name: 0.5 * sum(1 for t in times if start <= t <= end)
            for name, times in self.down.items()
        }
