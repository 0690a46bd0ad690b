"""Deleting one setup's carrier resources: children first (IPs, connection, profile).

What to delete is the union of the ids the journal recorded and what the carrier lists under
the setup's tag. The lookup catches creates whose answer never arrived (a timeout after the
carrier committed, a crash before the journal write); the recorded ids cover a listing that
misses something. Only resources carrying the setup's tag, or recorded for it in the
journal, or attached to such a connection, are ever deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from shared.contracts.setup import SetupResources
from shared.timefmt import render, utcnow

from provider_manager.telnyx import TelnyxClient, TelnyxError

log = structlog.get_logger("provider_manager.setup.cleanup")

IP = "ip"
CONNECTION = "ip_connection"
PROFILE = "outbound_voice_profile"


@dataclass
class CleanupReport:
    """Filled in as cleanup goes, so a cleanup cut short by its deadline still tells the truth."""

    deleted: list[dict[str, str]] = field(default_factory=list)
    # 404: already deleted, or (for an orphan swept with another key) in another account.
    not_found: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    lookup_errors: list[str] = field(default_factory=list)
    finished: bool = False

    @property
    def complete(self) -> bool:
        """Everything known was deleted and nothing unknown can remain."""
        return self.finished and not self.failed and not self.lookup_errors

    @property
    def removed_anything(self) -> bool:
        return bool(self.deleted)

    def to_json(self, by: str) -> dict[str, Any]:
        return {
            "at": render(utcnow()),
            "by": by,
            "complete": self.complete,
            "deleted": self.deleted,
            "not_found": self.not_found,
            "failed": self.failed,
            "lookup_errors": self.lookup_errors,
            **({} if self.finished else {"interrupted": True}),
        }


def _add(items: list[str], value: str | None) -> None:
    if value and value not in items:
        items.append(value)


async def remove_setup_resources(
    client: TelnyxClient,
    tag: str,
    recorded: SetupResources,
    report: CleanupReport,
    *,
    look_up: bool = True,
) -> CleanupReport:
    """Delete what the setup tagged `tag` left at the carrier; never raises TelnyxError."""
    ips = list(recorded.telnyx_ip_ids)
    connections: list[str] = []
    profiles: list[str] = []
    _add(connections, recorded.telnyx_connection_id)
    _add(profiles, recorded.telnyx_profile_id)
    if look_up:
        try:
            for conn in await client.find_ip_connections(tag):
                _add(connections, conn.id)
        except TelnyxError as exc:
            report.lookup_errors.append(f"ip_connections: {exc}")
        try:
            for profile in await client.find_outbound_voice_profiles(tag):
                _add(profiles, profile.id)
        except TelnyxError as exc:
            report.lookup_errors.append(f"outbound_voice_profiles: {exc}")
    for connection_id in connections:
        # IPs carry no tags: they are ours because they hang off our connection.
        try:
            for ip in await client.find_ips(connection_id):
                _add(ips, ip.id)
        except TelnyxError as exc:
            report.lookup_errors.append(f"ips of {connection_id}: {exc}")

    deletes: list[tuple[str, str, Callable[[str], Awaitable[object | None]]]] = [
        *((IP, i, client.delete_ip) for i in reversed(ips)),
        *((CONNECTION, c, client.delete_ip_connection) for c in connections),
        *((PROFILE, p, client.delete_outbound_voice_profile) for p in profiles),
    ]
    for kind, resource_id, delete in deletes:
        item = {"kind": kind, "id": resource_id}
        try:
            absent = await delete(resource_id) is None
        except TelnyxError as exc:
            report.failed.append({**item, "error": str(exc)})
            log.warning("setup_cleanup_delete_failed", tag=tag, kind=kind, resource_id=resource_id)
            continue
        (report.not_found if absent else report.deleted).append(item)
    report.finished = True
    return report
