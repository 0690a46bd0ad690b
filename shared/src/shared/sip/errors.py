"""Exceptions raised by the SIP layer; all derive from SipError so callers can catch one type."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.sip.message import SipResponse


class SipError(Exception):
    """Base class of every error the SIP layer raises on purpose."""


class SipParseError(SipError):
    """A message, URI or header value is not valid SIP."""


class InvalidHeaderError(SipError, ValueError):
    """A caller-supplied header name or value was refused (injection or reserved name)."""


class ResolutionError(SipError):
    """RFC 3263 resolution of a host gave no usable address."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"cannot resolve {host!r}: {reason}")
        self.host = host
        self.reason = reason


class TransportError(SipError):
    """A message could not be handed to the network (closed transport, wrong address family)."""


class TransactionTimeout(SipError):
    """No final response before the transaction's deadline (Timer B / Timer F)."""

    def __init__(self, message: str, provisional: SipResponse | None = None) -> None:
        super().__init__(message)
        # The last 1xx seen, if any: proof that the peer is alive even though it never finished.
        self.provisional = provisional


class CallStateError(SipError):
    """An OutboundCall method was used in a state where it makes no sense."""
