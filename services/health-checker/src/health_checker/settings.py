"""health-checker settings. The probe knobs keep VoIPbin's names (HEALTH_CHECK_*); process
knobs use the service prefix HEALTH_CHECKER_."""

from __future__ import annotations

from pydantic import Field
from shared.settings import PublicHost, SipSettings

SERVICE = "health-checker"
SCHEMA = "health_checker"


class Settings(SipSettings):
    ops_port: int = Field(default=9103, validation_alias="HEALTH_CHECKER_OPS_PORT")
    rpc_prefetch: int = Field(default=64, validation_alias="HEALTH_CHECKER_RPC_PREFETCH")

    interval: float = Field(default=30.0, gt=0, validation_alias="HEALTH_CHECK_INTERVAL")
    timeout: float = Field(default=5.0, gt=0, validation_alias="HEALTH_CHECK_TIMEOUT")
    concurrency: int = Field(default=500, ge=1, validation_alias="HEALTH_CHECK_CONCURRENCY")
    # Each next check lands interval * (1 +- jitter) later, spreading a fleet over the interval.
    jitter: float = Field(default=0.1, ge=0, lt=1, validation_alias="HEALTH_CHECK_JITTER")
    # How often an idle replica looks for due targets (events wake the one that got them).
    poll_interval: float = Field(default=1.0, gt=0, validation_alias="HEALTH_CHECK_POLL_INTERVAL")
    resync_interval: float = Field(
        default=300.0, gt=0, validation_alias="HEALTH_CHECK_RESYNC_INTERVAL"
    )
    batch_size: int = Field(default=500, ge=1, le=1000, validation_alias="HEALTH_CHECK_BATCH_SIZE")
    # Longest a result waits in the buffer before it is written back.
    flush_interval: float = Field(
        default=0.25, gt=0, validation_alias="HEALTH_CHECK_FLUSH_INTERVAL"
    )
    writeback_timeout: float = Field(
        default=10.0, gt=0, validation_alias="HEALTH_CHECK_WRITEBACK_TIMEOUT"
    )
    # Outbound registrations (issue 9): owner lease, and the retry back-off after a failure.
    register_lease: float = Field(
        default=30.0, gt=0, validation_alias="HEALTH_CHECK_REGISTER_LEASE"
    )
    register_retry: float = Field(
        default=30.0, gt=0, validation_alias="HEALTH_CHECK_REGISTER_RETRY"
    )
    register_retry_max: float = Field(
        default=600.0, gt=0, validation_alias="HEALTH_CHECK_REGISTER_RETRY_MAX"
    )
    # All interfaces by default: carriers are on the internet, and a loopback-bound socket
    # cannot send there (EINVAL). Via/Contact then carry the address routed to each carrier.
    sip_host: str = Field(default="0.0.0.0", validation_alias="HEALTH_CHECK_SIP_HOST")
    sip_port: int = Field(default=0, ge=0, le=65535, validation_alias="HEALTH_CHECK_SIP_PORT")
    # The address carriers see (1:1 NAT); empty: as above.
    sip_public_host: PublicHost = Field(default="", validation_alias="HEALTH_CHECK_SIP_PUBLIC_HOST")
    # CA bundle (PEM) carriers' TLS certificates must chain to; empty: the system store.
    sip_tls_ca_file: str = Field(default="", validation_alias="HEALTH_CHECK_SIP_TLS_CA_FILE")
    # Idle TCP/TLS connections to carriers close after this long; above the interval, so
    # that each round reuses the connections of the last one.
    sip_idle_timeout: float = Field(
        default=120.0, gt=0, validation_alias="HEALTH_CHECK_SIP_IDLE_TIMEOUT"
    )
    # Comma-separated `ip[:port]`; empty means /etc/resolv.conf.
    dns_servers: str = Field(default="", validation_alias="HEALTH_CHECK_DNS_SERVERS")
    user_agent: str = Field(
        default="trunk-platform-health", validation_alias="HEALTH_CHECK_USER_AGENT"
    )
