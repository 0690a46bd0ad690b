"""Values passed between the catalog (what to probe), the scheduler and the result writer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.timefmt import NEVER, parse

from health_checker.probes import ProbeReport

TRANSPORTS = ("", "udp", "tcp", "tls")


@dataclass(frozen=True, slots=True)
class Target:
    provider_id: str
    hostname: str
    # The provider's transport ("" = RFC 3263 chooses; "udp", "tcp", "tls").
    transport: str = ""


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """What provider-manager says about a provider (from an event or a list page)."""

    provider_id: str
    hostname: str
    tm_update: datetime
    deleted: bool
    transport: str = ""
    # Outbound registration (issue 9): wanted while `register` is on and not deleted.
    register: bool = False
    register_expires: int = 3600
    auth_username: str = ""


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    target: Target
    report: ProbeReport
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedTarget:
    """A target after a result was recorded; `current` is False when the result was about a
    hostname the provider no longer has (or older than one it has), or the provider is gone."""

    provider_id: str
    consecutive_failures: int
    current: bool
    deleted: bool


def provider_record(wire: Any) -> ProviderRecord:
    """A provider in the seeds' wire shape -> ProviderRecord; ValueError when it is not one."""
    if not isinstance(wire, dict):
        raise ValueError("provider record is not an object")
    try:
        provider_id = str(wire["id"])
        hostname = str(wire["hostname"])
        tm_update = parse(str(wire["tm_update"]))
        tm_delete = wire.get("tm_delete")
    except (KeyError, TypeError) as exc:
        raise ValueError(f"provider record lacks {exc}") from None
    deleted = tm_delete is not None and str(tm_delete) != NEVER
    transport = str(wire.get("transport") or "")
    if transport not in TRANSPORTS:
        raise ValueError(f"provider record has an unknown transport {transport!r}")
    try:
        expires = int(wire.get("register_expires") or 3600)
    except (TypeError, ValueError):
        raise ValueError("provider record has an unreadable register_expires") from None
    return ProviderRecord(
        provider_id,
        hostname,
        tm_update,
        deleted,
        transport,
        register=wire.get("register") is True,
        register_expires=expires,
        auth_username=str(wire.get("auth_username") or ""),
    )


def newest_per_provider(records: list[ProviderRecord]) -> list[ProviderRecord]:
    """One record per provider, the latest tm_update winning (a batch upsert needs that)."""
    latest: dict[str, ProviderRecord] = {}
    for record in records:
        known = latest.get(record.provider_id)
        if known is None or known.tm_update <= record.tm_update:
            latest[record.provider_id] = record
    return list(latest.values())
