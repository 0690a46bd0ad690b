"""Settings from the environment, with loopback defaults so `make run` needs no configuration."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/voip"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


class CommonSettings(BaseSettings):
    """What every service needs. Unprefixed names are shared by all services on purpose:
    one DATABASE_URL and one AMQP_URL configure the whole platform."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    amqp_url: str = Field(default=DEFAULT_AMQP_URL, validation_alias="AMQP_URL")
    queue_prefix: str = Field(default="bin-manager", validation_alias="QUEUE_PREFIX")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    rpc_timeout: float = Field(default=3.0, validation_alias="RPC_TIMEOUT")
    ops_host: str = Field(default="127.0.0.1", validation_alias="OPS_HOST")
    # uvloop: a quarter less CPU per request, and it gathers a loop iteration's small
    # writes (RPC publishes, acks, replies) into one send; `asyncio` is the fallback.
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop", validation_alias="EVENT_LOOP"
    )
    # PostgreSQL connections each process keeps (no overflow): replicas x this, summed over
    # the services, must stay under the server's max_connections (or a pooler's limit).
    db_pool_size: int = Field(default=10, ge=1, le=100, validation_alias="DB_POOL_SIZE")

    def request_queue(self, service: str) -> str:
        return f"{self.queue_prefix}.{service}.request"

    def event_exchange(self, service: str) -> str:
        return f"{self.queue_prefix}.{service}.event"

    def subscribe_queue(self, service: str) -> str:
        return f"{self.queue_prefix}.{service}.subscribe"


def public_host_problem(value: str) -> str | None:
    """Why `value` cannot be advertised to carriers as our address (None: it can).

    Empty is fine (it means: work it out); the wildcard never is, and a name is refused
    because SDP c= and Via must carry what the carrier's NAT and firewall match on.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return f"{value!r} is not an IP address"
    if address.is_unspecified:
        return f"{value} is the wildcard address, which no carrier can reach"
    return None


def _public_host(value: str) -> str:
    value = value.strip()
    if problem := public_host_problem(value):
        raise ValueError(problem)
    return value


# An address we advertise to carriers (Via, Contact, SDP c=): empty, or a routable IP.
PublicHost = Annotated[str, AfterValidator(_public_host)]


class SipSettings(CommonSettings):
    """What a service that speaks SIP to carriers (call-manager, health-checker) reads the
    same way. Each declares these fields again under its own environment names."""

    # Comma-separated `ip[:port]` for RFC 3263 lookups; empty: /etc/resolv.conf.
    dns_servers: str = ""

    @property
    def nameservers(self) -> list[str] | None:
        servers = [part.strip() for part in self.dns_servers.split(",") if part.strip()]
        return servers or None
