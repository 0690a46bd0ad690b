"""Typed RPC clients, one per remote service: the one place that knows a service's internal
URIs. Every other service calls through these, never with URI strings of its own."""

from shared.clients.call_manager import CallManagerClient
from shared.clients.directory import AgentManagerClient, RegistrarManagerClient
from shared.clients.health_checker import HealthCheckerClient
from shared.clients.provider_manager import ProviderManagerClient

__all__ = [
    "AgentManagerClient",
    "CallManagerClient",
    "HealthCheckerClient",
    "ProviderManagerClient",
    "RegistrarManagerClient",
]
