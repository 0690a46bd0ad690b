"""Outbound registrations for providers with `register` on (issue 9), kept by this service.

Why here: the health-checker already keeps a provider catalog from provider-manager's events
(with resyncs), runs background schedules shared by replicas through row claims and leases,
and holds a carrier-facing SIP socket. call-manager is request-driven and scales with calls.

Exactly one replica per provider: a row is owned (owner, owner_until) by the replica that
claimed it, every pass renews the lease on all of its rows, and only an expired lease lets
another replica take a row over (its Contact then replaces the dead owner's at the next
refresh). Claims use FOR UPDATE SKIP LOCKED, so two replicas never REGISTER the same row.

Per row: wanted -> REGISTER (Digest via the internal credentials route), refresh at half the
granted lifetime (at most REFRESH_MARGIN before expiry for long ones); a failure retries
after retry_base x 2^(failures-1), at most retry_max. Not wanted (turned off, deleted) or
moved (new hostname or user) -> the old binding is removed with Expires: 0 first. Every
status change is reported to provider-manager (POST /v1/providers/registrations), which
stores it on the provider and publishes provider_registration_changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from typing import Any

import structlog
from prometheus_client import Counter
from shared.clients import ProviderManagerClient
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient
from shared.sip.digest import Credentials
from shared.sip.ids import new_call_id, new_tag
from shared.sip.register import Binding, RegisterResult, register
from shared.sip.resolver import SipResolver
from shared.sip.timers import SipTimers
from shared.sip.transport import SipTransport
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from health_checker.repositories.registrations import (
    RegistrationOutcome,
    RegistrationRepository,
    RegistrationRow,
)

log = structlog.get_logger("health.registrations")

REGISTERS = Counter(
    "provider_registers_total", "REGISTER attempts by outcome", ["outcome"]
)  # outcome: registered, failed, unregistered
REFRESH_MARGIN = 120.0
CLAIM_LIMIT = 50


def refresh_after(granted: int) -> float:
    """Seconds until the refresh: half the lifetime, or REFRESH_MARGIN before its end."""
    return max(granted / 2, granted - REFRESH_MARGIN, 1.0)


def retry_after(failures: int, base: float, ceiling: float) -> float:
    return float(min(base * 2 ** max(failures - 1, 0), ceiling))


class RegistrationKeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rpc: RpcClient,
        provider_queue: str,
        transport: SipTransport,
        resolver: SipResolver,
        *,
        replica: str,
        timers: SipTimers,
        lease: float = 30.0,
        poll_interval: float = 1.0,
        retry_base: float = 30.0,
        retry_max: float = 600.0,
        rpc_timeout: float = 3.0,
        user_agent: str = "trunk-platform",
    ) -> None:
        self._sessions = sessions
        self._provider_manager = ProviderManagerClient(rpc, provider_queue, rpc_timeout)
        self._transport = transport
        self._resolver = resolver
        self._replica = replica
        self._timers = timers
        self.lease = lease
        self.poll_interval = poll_interval
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._user_agent = user_agent
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="registrations")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("registration_pass_failed", error=f"{exc.__class__.__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()

    async def tick(self) -> int:
        """One pass: renew our leases, claim what is due, REGISTER each; returns how many."""
        async with self._sessions() as session, session.begin():
            rows = await RegistrationRepository(session).claim(
                self._replica, self.lease, CLAIM_LIMIT
            )
        if rows:
            await asyncio.gather(*(self._keep(row) for row in rows))
        return len(rows)

    async def _keep(self, row: RegistrationRow) -> None:
        try:
            outcome = await self._attempt(row)
        except Exception as exc:  # one provider's trouble never stops the others
            log.warning("registration_failed", provider_id=row.provider_id, error=str(exc))
            failures = row.failures + 1
            outcome = RegistrationOutcome(
                "failed",
                f"{exc.__class__.__name__}: {exc}",
                failures,
                retry_after(failures, self.retry_base, self.retry_max),
                row.call_id,
                row.from_tag,
                row.cseq,
                row.registered_host,
                row.registered_user,
                0,
                False,
            )
        if not outcome.reported and not row.deleted:
            reported = await self._report(row, outcome)
            outcome = _with(outcome, reported=reported)
        async with self._sessions() as session, session.begin():
            await RegistrationRepository(session).save(row, self._replica, outcome)

    async def _attempt(self, row: RegistrationRow) -> RegistrationOutcome:
        call_id, from_tag, cseq = row.call_id, row.from_tag, row.cseq
        held_host, held_user = row.registered_host, row.registered_user
        moved = held_host is not None and (
            held_host != row.hostname or held_user != row.auth_username
        )
        credentials: Credentials | None = None
        fetched = False
        if held_host is not None and (not row.wanted or moved):
            credentials, fetched = await self._credentials(row.provider_id), True
            old = Binding(
                held_host, held_user or row.auth_username, row.transport, call_id, from_tag, cseq
            )
            result = await self._register(old, 0, credentials)
            log.info(
                "unregistered",
                provider_id=row.provider_id,
                registrar=held_host,
                status_code=result.status_code,
                error=result.error,
            )
            REGISTERS.labels("unregistered").inc()
            # Whatever the answer, the binding is not ours to refresh any more: it expires.
            held_host = held_user = None
            call_id, from_tag, cseq = new_call_id(), new_tag(), 0
        if not row.wanted:
            return RegistrationOutcome(
                "unregistered",
                "",
                0,
                None,
                call_id,
                from_tag,
                cseq,
                None,
                None,
                0,
                row.status == "unregistered" and row.reported,
            )
        if not fetched:
            credentials = await self._credentials(row.provider_id)
        binding = Binding(row.hostname, row.auth_username, row.transport, call_id, from_tag, cseq)
        result = await self._register(binding, row.expires, credentials)
        if result.ok:
            REGISTERS.labels("registered").inc()
            reason = f"{result.status_code} {result.reason}; expires {result.expires}"
            return RegistrationOutcome(
                "registered",
                reason,
                0,
                refresh_after(result.expires),
                binding.call_id,
                binding.from_tag,
                binding.cseq,
                row.hostname,
                row.auth_username,
                result.expires,
                row.status == "registered" and row.reported and row.reason == reason,
            )
        REGISTERS.labels("failed").inc()
        failures = row.failures + 1
        reason = _reason(result)
        log.info("registration_refused", provider_id=row.provider_id, reason=reason)
        return RegistrationOutcome(
            "failed",
            reason,
            failures,
            retry_after(failures, self.retry_base, self.retry_max),
            binding.call_id,
            binding.from_tag,
            binding.cseq,
            None,
            None,
            0,
            row.status == "failed" and row.reported and row.reason == reason,
        )

    async def _register(
        self, binding: Binding, expires: int, credentials: Credentials | None
    ) -> RegisterResult:
        return await register(
            self._transport,
            self._resolver,
            binding,
            expires,
            credentials,
            timers=self._timers,
            user_agent=self._user_agent,
        )

    async def _credentials(self, provider_id: str) -> Credentials | None:
        try:
            reply: Any = await self._provider_manager.provider_credentials(provider_id)
        except AppError as err:
            if err.status is ErrorStatus.NOT_FOUND:
                return None
            raise
        return Credentials(str(reply["auth_username"]), str(reply["auth_password"]))

    async def _report(self, row: RegistrationRow, outcome: RegistrationOutcome) -> bool:
        body = {
            "results": [
                {
                    "provider_id": row.provider_id,
                    "hostname": row.hostname,
                    "status": outcome.status,
                    "reason": outcome.reason[:255],
                }
            ]
        }
        try:
            await self._provider_manager.apply_registrations(body)
        except AppError as err:
            log.warning("registration_report_failed", reason=err.reason, message=err.message)
            return False
        return True


def _reason(result: RegisterResult) -> str:
    if result.status_code is None:
        return result.error or "no response"
    text = f"{result.status_code} {result.reason}".strip()
    return f"{text}: {result.error}" if result.error else text


def _with(outcome: RegistrationOutcome, *, reported: bool) -> RegistrationOutcome:
    return replace(outcome, reported=reported)
