"""Telnyx API v2 client used by one-step provider setup (``POST /v1.0/providers/setup``)."""

from provider_manager.telnyx.client import DEFAULT_BASE_URL, RetryPolicy, TelnyxClient
from provider_manager.telnyx.errors import (
    TelnyxError,
    TelnyxErrorDetail,
    TelnyxKeyRejected,
    TelnyxNotFound,
    TelnyxRateLimited,
    TelnyxUnavailable,
    TelnyxValidationError,
)
from provider_manager.telnyx.models import (
    Balance,
    Ip,
    IpConnection,
    IpConnectionInbound,
    IpConnectionOutbound,
    KeyCheck,
    OutboundVoiceProfile,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "Balance",
    "Ip",
    "IpConnection",
    "IpConnectionInbound",
    "IpConnectionOutbound",
    "KeyCheck",
    "OutboundVoiceProfile",
    "RetryPolicy",
    "TelnyxClient",
    "TelnyxError",
    "TelnyxErrorDetail",
    "TelnyxKeyRejected",
    "TelnyxNotFound",
    "TelnyxRateLimited",
    "TelnyxUnavailable",
    "TelnyxValidationError",
]
