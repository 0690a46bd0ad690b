"""BYE for a dialog this process did not set up: a survivor ending the carrier legs of a
call-manager replica that died (its dialogs were stored, see Dialog.to_record)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shared.sip.dialog import Dialog
from shared.sip.errors import ResolutionError, SipError, SipParseError
from shared.sip.message import SipResponse
from shared.sip.resolver import SipResolver
from shared.sip.target import Target
from shared.sip.timers import DEFAULT_TIMERS, SipTimers
from shared.sip.transaction import NonInviteClientTransaction
from shared.sip.transport import SipTransport
from shared.sip.uri import parse_name_addr

log = logging.getLogger(__name__)


async def bye_stored_dialog(
    transport: SipTransport,
    resolver: SipResolver,
    record: Mapping[str, Any],
    *,
    timers: SipTimers = DEFAULT_TIMERS,
    reason: str | None = None,
) -> SipResponse | None:
    """Send BYE in the stored dialog; its final response, or None when none came.

    The CSeq is one above the last the owner stored. The next hop is the first route or the
    remote target, resolved (RFC 3263), else where the INVITE went. Raises SipError when the
    record cannot form a BYE.
    """
    dialog = Dialog.from_record(record)
    fallback = Target(
        str(record["destination_host"]),
        int(record["destination_port"]),
        str(record.get("transport") or "udp"),
        _tls_name(dialog),
    )
    extra = [("Reason", reason)] if reason else []
    destination = fallback
    try:
        targets = await resolver.resolve_uri(dialog.next_hop(), transport=fallback.transport)
        reachable = [t for t in targets if transport.can_reach(t.host)]
        if reachable:
            destination = reachable[0]
    except ResolutionError as exc:
        log.info(
            "stored dialog %s: next hop unresolved (%s); using %s", dialog.call_id, exc, fallback
        )
    bye = dialog.build_request(
        "BYE",
        transport.sent_by_for(destination),
        extra_headers=extra,
        transport=destination.transport,
    )
    txn = NonInviteClientTransaction(transport, bye, destination, timers=timers)
    try:
        return await txn.run()
    except SipError as exc:
        log.info("stored dialog %s: BYE failed: %s", dialog.call_id, exc)
        return None


def _tls_name(dialog: Dialog) -> str:
    """The name the carrier's certificate must show: the host of their To URI (the
    provider's host name), as the INVITE's TLS connection checked it."""
    try:
        return parse_name_addr(dialog.remote_party).uri.host
    except SipParseError:
        return ""
