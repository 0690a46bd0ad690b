"""call-manager settings (env prefix CALL_MANAGER_ for its own knobs; the call timers keep
the names the issue gives them)."""

from __future__ import annotations

from pydantic import Field, field_validator
from shared.settings import PublicHost, SipSettings

from call_manager.policy.addresses import AllowList

SERVICE = "call-manager"
SCHEMA = "call_manager"
AGENT_MANAGER = "agent-manager"
REGISTRAR_MANAGER = "registrar-manager"
PROVIDER_MANAGER = "provider-manager"


class Settings(SipSettings):
    ops_port: int = Field(default=9102, validation_alias="CALL_MANAGER_OPS_PORT")
    rpc_prefetch: int = Field(default=64, validation_alias="CALL_MANAGER_RPC_PREFETCH")

    ring_timeout: float = Field(default=60.0, gt=0, validation_alias="CALL_RING_TIMEOUT")
    max_duration: float = Field(default=3600.0, gt=0, validation_alias="CALL_MAX_DURATION")
    # At most this many providers are tried per routed call (failover); the ring timeout
    # bounds the time they take together.
    max_attempts: int = Field(default=5, ge=1, le=20, validation_alias="CALL_MANAGER_MAX_ATTEMPTS")

    # SIP binds here (UDP, and TCP on the same port); all interfaces by default.
    sip_host: str = Field(default="0.0.0.0", validation_alias="CALL_MANAGER_SIP_HOST")
    sip_port: int = Field(default=5080, ge=0, le=65535, validation_alias="CALL_MANAGER_SIP_PORT")
    # The address carriers reach us at (Via/Contact), for a host behind 1:1 NAT. Empty: the
    # bound address, or with a wildcard bind the local address routed to each carrier.
    sip_public_host: PublicHost = Field(default="", validation_alias="CALL_MANAGER_SIP_PUBLIC_HOST")
    # RTP binds here (empty: the SIP bind address) and SDP advertises the public one (empty:
    # the SIP public address, else as for SIP).
    rtp_host: str = Field(default="", validation_alias="CALL_MANAGER_RTP_HOST")
    rtp_public_host: PublicHost = Field(default="", validation_alias="CALL_MANAGER_RTP_PUBLIC_HOST")
    # RTP ports; 0/0 (default): even ports from the kernel's ephemeral range. A fixed range
    # (for firewalls) costs the SIP layer a shuffle of the whole range per call (see report).
    rtp_port_min: int = Field(
        default=0, ge=0, le=65535, validation_alias="CALL_MANAGER_RTP_PORT_MIN"
    )
    rtp_port_max: int = Field(
        default=0, ge=0, le=65535, validation_alias="CALL_MANAGER_RTP_PORT_MAX"
    )
    # CA bundle (PEM) that carriers' TLS certificates must chain to; empty: the system store.
    sip_tls_ca_file: str = Field(default="", validation_alias="CALL_MANAGER_SIP_TLS_CA_FILE")
    # Path MTU toward carriers: requests above MTU - 200 bytes go over TCP (RFC 3261 18.1.1).
    sip_mtu: int = Field(default=1500, ge=576, le=65535, validation_alias="CALL_MANAGER_SIP_MTU")
    # Idle TCP/TLS connections to carriers are closed after this many seconds.
    sip_idle_timeout: float = Field(
        default=120.0, gt=0, validation_alias="CALL_MANAGER_SIP_IDLE_TIMEOUT"
    )
    # Comma-separated DNS servers for RFC 3263 lookups; empty: /etc/resolv.conf.
    dns_servers: str = Field(default="", validation_alias="CALL_MANAGER_DNS_SERVERS")
    sip_t1: float = Field(default=0.5, gt=0, validation_alias="CALL_MANAGER_SIP_T1")
    # An answered call that receives no RTP this long gets a BYE (hangup_reason timeout,
    # metadata.hangup_cause rtp_timeout); 0 disables. Not counted while the carrier holds.
    rtp_timeout: float = Field(default=60.0, ge=0, validation_alias="CALL_MANAGER_RTP_TIMEOUT")
    # An address that answers an INVITE with nothing at all (not even 100 Trying) this long
    # is given up for the provider's next address, then the next provider; 0: Timer B.
    # RFC 4028 interval asked for in the INVITE (Session-Expires); a 422 raises it to Min-SE.
    session_expires: int = Field(
        default=1800, ge=90, le=86400, validation_alias="CALL_MANAGER_SESSION_EXPIRES"
    )
    # How many 3xx redirects one attempt follows (to the best sip: Contact); 0: a 3xx fails.
    max_redirects: int = Field(default=2, ge=0, le=5, validation_alias="CALL_MANAGER_MAX_REDIRECTS")
    invite_response_timeout: float = Field(
        default=3.0, ge=0, validation_alias="CALL_MANAGER_INVITE_RESPONSE_TIMEOUT"
    )

    heartbeat_interval: float = Field(
        default=5.0, gt=0, validation_alias="CALL_MANAGER_HEARTBEAT_INTERVAL"
    )
    replica_dead_after: float = Field(
        default=30.0, gt=0, validation_alias="CALL_MANAGER_REPLICA_DEAD_AFTER"
    )
    reaper_interval: float = Field(
        default=10.0, gt=0, validation_alias="CALL_MANAGER_REAPER_INTERVAL"
    )
    # Empty: a new id per process. A fixed id lets a restarted replica finish its own calls
    # at once instead of waiting for its old heartbeat to age.
    replica_id: str = Field(default="", validation_alias="CALL_MANAGER_REPLICA_ID")

    idempotency_ttl: float = Field(
        default=86400.0, gt=0, validation_alias="CALL_MANAGER_IDEMPOTENCY_TTL"
    )
    # How long a duplicate POST waits for the first one (same Idempotency-Key) to finish.
    idempotency_wait: float = Field(
        default=5.0, gt=0, validation_alias="CALL_MANAGER_IDEMPOTENCY_WAIT"
    )

    agent_manager_queue: str = Field(default="", validation_alias="CALL_MANAGER_AGENT_QUEUE")
    registrar_manager_queue: str = Field(
        default="", validation_alias="CALL_MANAGER_REGISTRAR_QUEUE"
    )

    # Fair share per customer (POST /calls): live calls at once, and new calls per second
    # averaged over 10 s (a request of up to 10x this many destinations fits in a burst).
    customer_max_calls: int = Field(
        default=100, ge=1, validation_alias="CALL_MANAGER_CUSTOMER_MAX_CALLS"
    )
    customer_calls_per_second: int = Field(
        default=10, ge=1, validation_alias="CALL_MANAGER_CUSTOMER_CALLS_PER_SECOND"
    )
    # INVITEs in flight to one destination host, per replica; the rest wait for a slot.
    host_max_invites: int = Field(
        default=50, ge=1, validation_alias="CALL_MANAGER_HOST_MAX_INVITES"
    )
    # Exceptions to the dial policy's internal-address rules: comma list of CIDRs and
    # domains (`pbx.example.com`, or `.example.com` for the domain and its subdomains).
    dial_allow: str = Field(default="", validation_alias="CALL_MANAGER_DIAL_ALLOW")
    # Names the RFC 3263 cache keeps (SRV and address caches each).
    dns_cache_entries: int = Field(
        default=10_000, ge=16, validation_alias="CALL_MANAGER_DNS_CACHE_ENTRIES"
    )

    @field_validator("dial_allow")
    @classmethod
    def _allow_list(cls, value: str) -> str:
        AllowList.parse(value)  # refuse a bad entry at start, naming it
        return value

    @property
    def allow_list(self) -> AllowList:
        return AllowList.parse(self.dial_allow)

    def peer_queue(self, service: str) -> str:
        configured = {
            AGENT_MANAGER: self.agent_manager_queue,
            REGISTRAR_MANAGER: self.registrar_manager_queue,
        }.get(service, "")
        return configured or self.request_queue(service)

    def replica_queue(self, replica_id: str) -> str:
        """Where one replica takes commands for the calls it owns (hangup)."""
        return f"{self.queue_prefix}.{SERVICE}.{replica_id}.request"

    @property
    def rtp_port_range(self) -> tuple[int, int] | None:
        if self.rtp_port_min and self.rtp_port_max:
            return (self.rtp_port_min, self.rtp_port_max)
        return None
