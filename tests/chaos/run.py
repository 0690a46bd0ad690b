"""`make chaos`: the multi-replica fault suite. Two replicas of every service under steady
load, then one fault after another, each scenario printing its figures.

Scenarios (CHAOS=name,name... picks some; the default runs all):
  baseline                          no fault: steady-state figures, CPU and memory per service
  kill-<service>                    kill -9 of that service's replica "a" (call-manager: the one
                                    with the most live calls), restarted 1 s later
  partition-<service>               its replica "b" cut off from RabbitMQ for 5 s
  rabbitmq-restart                  rabbitmqctl stop_app, 3 s, start_app
  postgresql-restart                pg_ctlcluster stop, 3 s, start

Loopback only; bounded: every scenario has a fixed length, every wait a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from api_gateway.accounts import AccountStore
from api_gateway.permissions import Permission
from shared.db import create_engine, session_factory
from shared.sip.testing.sipp import SippProcess

from tests.chaos import faults
from tests.chaos.faults import FaultClock
from tests.chaos.load import (
    BackendWatch,
    EventAudit,
    Load,
    OptionsResponder,
    Window,
    probe_figures,
    start_responders,
)
from tests.chaos.platform import (
    ADMIN_PASSWORD,
    CALL_MANAGER_ENV,
    HEALTH_CHECKER_ENV,
    SERVICES,
    Platform,
)
from tests.support.backends import resolve_backends

SCENARIO_FILE = Path(__file__).resolve().parents[1] / "failover" / "scenarios" / "uas_answer.xml"


@dataclass(frozen=True)
class Sizes:
    writers: int = int(os.environ.get("CHAOS_WRITERS", "8"))
    callers: int = int(os.environ.get("CHAOS_CALLERS", "6"))
    probed: int = int(os.environ.get("CHAOS_PROBED_PROVIDERS", "30"))
    # Load before the fault; longer than CALL_MAX_DURATION, so the previous scenario's calls
    # (on its own carrier) have all ended before this fault and are not counted here.
    settle: float = 10.0
    observe: float = 12.0  # load after the fault ended


HOLD = 2.0  # seconds an answered call lasts before the caller hangs it up
CUSTOMER_PASSWORD = "chaos-customer-password"
# After a window: how long events may take to arrive, and calls to be finished (the max
# duration, the dead-replica timeout and the reaper, with room to spare).
EVENT_GRACE = 20.0
BYE_GRACE = 30.0

Fault = Callable[[], Awaitable[FaultClock | None]]


@dataclass
class Scenario:
    name: str
    fault: Fault
    figures: dict[str, Any] = field(default_factory=dict)


async def _login(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with session.post(
        f"{base}/auth/login", json={"username": username, "password": password}
    ) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"login {username}: {resp.status} {body}")
        return str(body["token"])


async def _api(
    session: aiohttp.ClientSession, base: str, token: str, method: str, path: str, body: Any
) -> Any:
    """A setup request; retried on 5xx (other suites restart the shared backends at times)."""
    headers = {"Authorization": f"Bearer {token}"}
    for attempt in range(10):
        async with session.request(method, f"{base}{path}", json=body, headers=headers) as resp:
            data = await resp.json(content_type=None)
            if resp.status == 200:
                return data
            if resp.status < 500 or attempt == 9:
                raise RuntimeError(f"{method} {path}: {resp.status} {data}")
        await asyncio.sleep(1.0)


def _answered_without_bye(carrier: SippProcess) -> tuple[int, int]:
    """(dialogs the carrier answered, of those how many never got a BYE)."""
    answered: set[str] = set()
    byes: set[str] = set()
    for message in carrier.messages():
        call_id = cseq = ""
        for line in message.text.splitlines():
            name, _, value = line.partition(":")
            key = name.strip().lower()
            if key in ("call-id", "i"):
                call_id = value.strip()
            elif key == "cseq":
                cseq = value.strip()
        if message.direction == "sent" and message.status_code == 200 and "INVITE" in cseq:
            answered.add(call_id)
        elif message.direction == "received" and message.method == "BYE":
            byes.add(call_id)
    return len(answered), len(answered - byes)


class Suite:
    def __init__(
        self, workdir: Path, server_url: str, amqp_url: str, sizes: Sizes | None = None
    ) -> None:
        self.sizes = sizes or Sizes()
        self.workdir = workdir
        self.platform = Platform(workdir / "platform", server_url, amqp_url)
        self.load: Load | None = None
        self.audit: EventAudit | None = None
        self.responders: list[OptionsResponder] = []
        self.admin_token = ""
        self.customer_id = str(uuid.uuid4())
        self.carrier_serial = 0
        self.carriers: list[SippProcess] = []
        self.http: aiohttp.ClientSession | None = None
        self.pending: list[asyncio.Task[None]] = []
        self.results: list[dict[str, Any]] = []
        self.watch = BackendWatch(
            {"postgresql": _endpoint(server_url, 5432), "rabbitmq": _endpoint(amqp_url, 5672)}
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.platform.of('api-gateway')[0].http_port}"

    async def start(self) -> None:
        started = time.monotonic()
        self.watch.start()
        await self.platform.start()
        print(
            f"platform up in {time.monotonic() - started:.1f} s: "
            f"{len(self.platform.replicas)} processes, {self.platform.settings_note}",
            flush=True,
        )
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.admin_token = await _login(self.http, self.base, "admin", ADMIN_PASSWORD)
        engine = create_engine(self.platform.database_url, pool_size=1)
        try:
            username = f"chaos-{uuid.uuid4().hex[:8]}"
            store = AccountStore(session_factory(engine))
            await store.create_account(
                username, CUSTOMER_PASSWORD, Permission.CUSTOMER_ADMIN, self.customer_id
            )
        finally:
            await engine.dispose()
        customer_token = await _login(self.http, self.base, username, CUSTOMER_PASSWORD)
        # The callers' source must be one of the customer's verified caller IDs.
        await _api(
            self.http,
            self.base,
            self.admin_token,
            "POST",
            "/v1.0/caller_ids",
            {"customer_id": self.customer_id, "pattern": "+14155550100"},
        )
        self.responders = await start_responders(self.sizes.probed)
        for i, responder in enumerate(self.responders):
            await self._provider(f"probed-{i}", f"127.0.0.1:{responder.port}")
        prefix = self.platform.queue_prefix
        self.audit = EventAudit(
            self.platform.amqp_url,
            f"{prefix}.provider-manager.event",
            f"{prefix}.chaos-audit",
        )
        await self.audit.start()
        self.load = Load(
            self.platform,
            {"Authorization": f"Bearer {self.admin_token}"},
            {"Authorization": f"Bearer {customer_token}"},
            call_number="",
            writers=self.sizes.writers,
            callers=self.sizes.callers,
            hold=HOLD,
            max_duration=float(CALL_MANAGER_ENV["CALL_MAX_DURATION"]),
        )

    async def _provider(self, name: str, hostname: str) -> str:
        assert self.http is not None
        created = await _api(
            self.http,
            self.base,
            self.admin_token,
            "POST",
            "/v1.0/providers",
            {"type": "sip", "hostname": hostname, "name": name},
        )
        return str(created["id"])

    async def _carrier(self) -> tuple[SippProcess, str]:
        """A new sipp carrier with its own provider and route; the number that reaches it."""
        assert self.http is not None
        self.carrier_serial += 1
        serial = self.carrier_serial
        carrier = SippProcess(
            self.workdir / f"carrier-{serial}",
            scenario=SCENARIO_FILE,
            auto_answer=True,  # answers the health-checker's OPTIONS
            max_runtime=900,
        )
        await carrier.start()
        self.carriers.append(carrier)  # stopped in stop() even if the run fails half-way
        provider_id = await self._provider(f"carrier-{serial}", carrier.target)
        prefix = f"+1{900 + serial}"
        await _api(
            self.http,
            self.base,
            self.admin_token,
            "POST",
            "/v1.0/routes",
            {
                "customer_id": self.customer_id,
                "provider_id": provider_id,
                "target": prefix,
                "priority": 0,
            },
        )
        return carrier, f"{prefix}5550100"

    async def run(self, scenario: Scenario) -> None:
        assert self.load is not None and self.audit is not None
        carrier, number = await self._carrier()
        self.load.call_number = number
        window_start = time.monotonic()
        self.load.new_window()
        usage_before = {r.label: r.usage() for r in self.platform.replicas}
        crashes_before = sum(r.crashes for r in self.platform.replicas)
        rss_peak: dict[str, int] = {}
        sampler = asyncio.create_task(self._sample_rss(rss_peak))
        await asyncio.sleep(self.sizes.settle)
        clock = await scenario.fault()
        healed = clock.healed if clock is not None else time.monotonic()
        ready_after = None
        if clock is not None:
            await self.platform.wait_ready(90, clock.replicas)
            ready_after = time.monotonic() - clock.injected
        await asyncio.sleep(self.sizes.observe)
        window_end = time.monotonic()
        window = self.load.new_window()
        usage_after = {r.label: r.usage() for r in self.platform.replicas}
        sampler.cancel()
        figures: dict[str, Any] = {
            "scenario": scenario.name,
            "seconds": round(window_end - window_start, 1),
            "fault_seconds": round(healed - clock.injected, 1) if clock else 0.0,
            "ready_after_s": round(ready_after, 1) if ready_after is not None else None,
        }
        figures.update(self._requests(window, clock, healed))
        figures.update(
            probe_figures(
                self.responders,
                window_start,
                window_end,
                float(HEALTH_CHECKER_ENV["HEALTH_CHECK_INTERVAL"]),
            )
        )
        figures["backend_down_s"] = self.watch.seconds_down(window_start, window_end)
        figures["crash_restarts"] = sum(r.crashes for r in self.platform.replicas) - crashes_before
        if clock is not None:
            figures["dead_replica_calls_finished"] = self._reaped(clock.injected_wall)
        figures["usage"] = _usage(usage_before, usage_after, rss_peak, window_end - window_start)
        scenario.figures = figures
        self.pending.append(asyncio.create_task(self._settle(scenario, window, carrier)))

    def _reaped(self, since: float) -> list[tuple[float, int]]:
        """(seconds after the fault, calls) each time a call-manager finished a dead replica's
        calls, from the replicas' logs."""
        found = []
        for replica in self.platform.of("call-manager"):
            for line in replica.log_path.read_text(errors="replace").splitlines():
                if '"reaped_dead_replica"' not in line:
                    continue
                record = json.loads(line)
                stamp = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
                if stamp.timestamp() >= since and record.get("calls"):
                    found.append((round(stamp.timestamp() - since, 1), int(record["calls"])))
        return sorted(found)

    async def _sample_rss(self, peak: dict[str, int]) -> None:
        while True:
            for replica in self.platform.replicas:
                usage = replica.usage()
                if usage is not None:
                    peak[replica.label] = max(peak.get(replica.label, 0), usage[1])
            await asyncio.sleep(1.0)

    def _requests(self, window: Window, clock: FaultClock | None, healed: float) -> dict[str, Any]:
        out: dict[str, Any] = {}
        last_failure = 0.0
        for kind, tally in sorted(window.tallies.items()):
            out[kind] = {
                "answered": dict(sorted(tally.statuses.items())),
                "failed": tally.failed,
                "reasons": dict(tally.reasons.most_common(4)),
                "longest_s": round(tally.longest, 2),
            }
            if tally.failures:
                last_failure = max(last_failure, max(tally.failures))
        if clock is not None:
            # Client-visible recovery: the last failed request, from the injection and from
            # the moment the fault ended (restart done, link or backend back).
            first = min((min(x.failures) for x in window.tallies.values() if x.failures), default=0)
            out["failures_from_s"] = round(first - clock.injected, 1) if first else None
            out["recovered_s"] = round(max(0.0, last_failure - clock.injected), 1)
            out["recovered_after_heal_s"] = round(max(0.0, last_failure - healed), 1)
        out["_created"] = len(window.created_ids)
        out["_calls"] = len(window.call_ids)
        return out

    async def _settle(self, scenario: Scenario, window: Window, carrier: SippProcess) -> None:
        """Events and BYEs take a while: count them after a bounded grace."""
        assert self.audit is not None
        lost = await self.audit.lost(window.created_ids, EVENT_GRACE)
        deadline = time.monotonic() + BYE_GRACE
        answered, without_bye = _answered_without_bye(carrier)
        while without_bye and time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            answered, without_bye = _answered_without_bye(carrier)
        await carrier.stop()
        scenario.figures["events_lost"] = lost
        scenario.figures["carrier_answered"] = answered
        scenario.figures["calls_without_bye"] = without_bye
        _print(scenario.figures)
        self.results.append(scenario.figures)

    async def finish(self) -> None:
        if self.pending:
            await asyncio.gather(*self.pending)

    async def stop(self) -> None:
        for task in self.pending:
            task.cancel()
        await asyncio.gather(*self.pending, return_exceptions=True)
        for carrier in self.carriers:
            if carrier.process is not None and carrier.process.returncode is None:
                await carrier.stop()
        await self.watch.stop()
        if self.load is not None:
            await self.load.stop()
        if self.audit is not None:
            await self.audit.stop()
        if self.http is not None:
            await self.http.close()
        for responder in self.responders:
            if responder.transport is not None:
                responder.transport.close()
        await self.platform.stop()
        await self.platform.drop()


def _endpoint(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _usage(
    before: dict[str, tuple[float, int] | None],
    after: dict[str, tuple[float, int] | None],
    rss_peak: dict[str, int],
    seconds: float,
) -> dict[str, dict[str, float]]:
    """Per service: mean CPU (% of one core) over both replicas and peak RSS (MiB)."""
    out: dict[str, dict[str, float]] = {}
    for service in SERVICES:
        cpu: list[float] = []
        for name in ("a", "b"):
            label = f"{service}/{name}"
            b, a = before.get(label), after.get(label)
            if b is not None and a is not None and a[0] >= b[0]:
                cpu.append(100 * (a[0] - b[0]) / seconds)
        peaks = [v for k, v in rss_peak.items() if k.startswith(f"{service}/")]
        out[service] = {
            "cpu_pct": round(statistics.mean(cpu), 1) if cpu else -1.0,
            "rss_peak_mib": round(max(peaks) / 2**20, 1) if peaks else -1.0,
        }
    return out


def _print(figures: dict[str, Any]) -> None:
    lines = [f"\n== {figures['scenario']} ({figures['seconds']} s)"]
    if figures.get("fault_seconds"):
        lines.append(
            f"   fault lasted {figures['fault_seconds']} s; replica(s) ready again "
            f"{figures['ready_after_s']} s after injection; clients recovered "
            f"{figures['recovered_s']} s after injection "
            f"({figures['recovered_after_heal_s']} s after the fault ended)"
        )
    for kind in ("provider POST", "provider DELETE", "call POST", "call hangup"):
        if kind in figures:
            item = figures[kind]
            answered = ", ".join(f"{k}: {v}" for k, v in item["answered"].items())
            longest = item["longest_s"]
            lines.append(
                f"   {kind:<16} {answered}  (failed {item['failed']}, longest {longest} s)"
            )
            if item["reasons"]:
                lines.append(f"   {'':<16} failures: {item['reasons']}")
    lines.append(
        f"   events lost {figures.get('events_lost')} of {figures['_created']} created; "
        f"carrier answered {figures.get('carrier_answered')} calls, "
        f"{figures.get('calls_without_bye')} left without a BYE; "
        f"probes {figures['probes']}, providers probed twice in a round "
        f"{figures['probed_twice_in_a_round']}, missed a round {figures['missed_a_round']} "
        f"(longest gap {figures['longest_probe_gap_s']} s)"
    )
    if figures["crash_restarts"]:
        lines.append(
            f"   replicas that exited on their own and were restarted: {figures['crash_restarts']}"
        )
    if figures.get("dead_replica_calls_finished"):
        lines.append(
            "   a dead call-manager's calls finished in the database "
            + ", ".join(f"{n} after {s} s" for s, n in figures["dead_replica_calls_finished"])
        )
    down = {k: v for k, v in figures["backend_down_s"].items() if v}
    if down:
        lines.append(f"   backends refusing connections (ours or other suites'): {down} s")
    usage = figures["usage"]
    lines.append(
        "   cpu % / peak RSS MiB: "
        + "; ".join(f"{s} {u['cpu_pct']} / {u['rss_peak_mib']}" for s, u in usage.items())
    )
    print("\n".join(lines), flush=True)


def _summary(results: list[dict[str, Any]]) -> None:
    """One line per scenario: the figures the issue asks for, side by side."""
    kinds = ("provider POST", "provider DELETE", "call POST", "call hangup")
    print(
        f"\n{'scenario':<28}{'requests':>9}{'failed':>8}{'longest':>9}{'lost':>6}"
        f"{'no BYE':>8}{'twice':>7}{'missed':>8}{'recovered':>11}"
    )
    for r in results:
        total = sum(sum(r[k]["answered"].values()) for k in kinds if k in r)
        failed = sum(r[k]["failed"] for k in kinds if k in r)
        longest = max((r[k]["longest_s"] for k in kinds if k in r), default=0.0)
        recovered = r.get("recovered_s")
        print(
            f"{r['scenario']:<28}{total:>9}{failed:>8}{longest:>8.2f}s{r.get('events_lost'):>6}"
            f"{r.get('calls_without_bye'):>8}{r['probed_twice_in_a_round']:>7}"
            f"{r['missed_a_round']:>8}"
            + (f"{recovered:>10.1f}s" if recovered is not None else f"{'-':>11}")
        )


def scenarios(suite: Suite) -> list[Scenario]:
    platform = suite.platform

    async def none() -> None:
        return None

    out = [Scenario("baseline", none)]
    for service in SERVICES:
        # call-manager: the replica with the most live calls at that moment.
        victim = None if service == "call-manager" else platform.replica(f"{service}/a")
        out.append(Scenario(f"kill-{service}", _bind(faults.kill9, platform, victim)))
    for service in SERVICES:
        replica = platform.replica(f"{service}/b")
        out.append(Scenario(f"partition-{service}", _bind(faults.partition, replica)))
    out.append(Scenario("rabbitmq-restart", faults.rabbitmq_restart))
    out.append(Scenario("postgresql-restart", faults.postgresql_restart))
    return out


def _bind(function: Callable[..., Awaitable[FaultClock]], *args: Any) -> Fault:
    async def call() -> FaultClock:
        return await function(*args)

    return call


async def main_async(selected: list[str]) -> int:
    with ExitStack() as stack:
        server_url, amqp_url = resolve_backends(stack)
        workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
        suite = Suite(workdir, server_url, amqp_url)
        print(f"chaos run in {workdir} (logs, sipp traces, results.json)", flush=True)
        try:
            await suite.start()
            chosen = [s for s in scenarios(suite) if not selected or s.name in selected]
            unknown = set(selected) - {s.name for s in scenarios(suite)}
            if unknown:
                print(f"unknown scenarios: {', '.join(sorted(unknown))}", file=sys.stderr)
                return 2
            assert suite.load is not None
            await suite.load.start()
            for scenario in chosen:
                print(f"-- {scenario.name}", flush=True)
                await suite.run(scenario)
            await suite.load.stop()
            await suite.finish()
        finally:
            await suite.stop()
        _summary(suite.results)
        (workdir / "results.json").write_text(json.dumps(suite.results, indent=2))
        print(f"\nresults: {workdir / 'results.json'}")
    return 0


def main() -> int:
    selected = [s for s in os.environ.get("CHAOS", "").split(",") if s]
    return asyncio.run(main_async(selected))


if __name__ == "__main__":
    sys.exit(main())
