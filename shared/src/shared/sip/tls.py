"""TLS client settings for SIP over TLS (RFC 3261 section 26.2, RFC 5922).

The carrier's certificate must chain to a trusted CA (the system trust store, or only the CA
file configured) and name the host we meant to reach: the domain of the provider / URI, not
the SRV target it resolved to. No client certificate is offered.
"""

from __future__ import annotations

import ssl


def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verification on, host names checked, TLS 1.2 at least."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def describe_tls_error(exc: BaseException) -> str:
    """A one-line reason an operator can act on."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not accepted: {exc.verify_message or exc.reason or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    return str(exc) or type(exc).__name__
