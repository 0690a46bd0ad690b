"""Turning agent and extension destinations into the addresses a Groupcall dials.

URIs consumed (JSON over the platform RPC envelope):
- agent-manager      GET /v1/agents/{id}
    -> {"id", "customer_id", "ring_method": "ringall"|"ring_all"|"linear",
        "addresses": [{"type": "tel"|"sip"|"extension", "target", "target_name"}]}
- registrar-manager  GET /v1/extensions/{id}   -> {"id", "customer_id", "extension"}
- registrar-manager  GET /v1/contacts?customer_id=<uuid>&extension=<name>
    -> [{"uri": "sip:user@host:port;params"}] (or {"result": [...]})
An agent's extension addresses are flattened into that extension's contacts (one level).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from shared.clients import AgentManagerClient, RegistrarManagerClient
from shared.contracts.calls import target_problem
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient


class DestinationError(Exception):
    """A destination that cannot become a Groupcall; the message is the reported reason."""


@dataclass
class GroupPlan:
    ring_method: str  # ring_all | linear
    addresses: list[dict[str, str]] = field(default_factory=list)
    owner_type: str = ""
    owner_id: str | None = None


def _dialable(address: Any) -> dict[str, str] | None:
    if not isinstance(address, dict):
        return None
    kind, target = address.get("type"), address.get("target")
    if kind not in ("tel", "sip") or not isinstance(target, str):
        return None
    if target_problem(kind, target):
        return None
    return {"type": kind, "target": target, "target_name": str(address.get("target_name") or "")}


def contact_address(uri: str) -> dict[str, str] | None:
    """`sip:alice@10.0.0.5:5062;transport=udp` -> a sip address `alice@10.0.0.5:5062`."""
    text = uri.strip().strip("<>").replace("^3B", ";")
    if text.lower().startswith("sip:"):
        text = text[4:]
    return _dialable({"type": "sip", "target": text.split(";", 1)[0]})


class DestinationResolver:
    def __init__(
        self, rpc: RpcClient, agent_queue: str, registrar_queue: str, timeout: float = 3.0
    ) -> None:
        self._agents = AgentManagerClient(rpc, agent_queue, timeout)
        self._registrar = RegistrarManagerClient(rpc, registrar_queue, timeout)

    async def resolve(self, destination: dict[str, str], customer_id: str) -> GroupPlan:
        if destination["type"] == "agent":
            return await self._agent(destination["target"], customer_id)
        if destination["type"] == "extension":
            addresses = await self._extension(destination["target"], customer_id)
            return GroupPlan("ring_all", addresses, "", None)
        raise DestinationError(f"{destination['type']} is not a group destination")

    @staticmethod
    async def _ask(request: Awaitable[Any], what: str) -> Any:
        try:
            return await request
        except AppError as err:
            if err.status is ErrorStatus.NOT_FOUND:
                raise DestinationError(f"{what} not found") from None
            raise DestinationError(f"{what} could not be looked up ({err.reason})") from None

    async def _agent(self, agent_id: str, customer_id: str) -> GroupPlan:
        agent = await self._ask(self._agents.get_agent(agent_id), f"agent {agent_id}")
        if not isinstance(agent, dict) or agent.get("customer_id") != customer_id:
            raise DestinationError(f"agent {agent_id} not found")  # others' agents stay hidden
        addresses: list[dict[str, str]] = []
        for address in agent.get("addresses") or []:
            if isinstance(address, dict) and address.get("type") == "extension":
                try:
                    addresses += await self._extension(str(address.get("target")), customer_id)
                except DestinationError:
                    continue  # one unreachable extension does not sink the agent
            elif (dialable := _dialable(address)) is not None:
                addresses.append(dialable)
        if not addresses:
            raise DestinationError(f"agent {agent_id} has no dialable address")
        method = "linear" if agent.get("ring_method") == "linear" else "ring_all"
        return GroupPlan(method, addresses, "agent", agent_id)

    async def _extension(self, extension_id: str, customer_id: str) -> list[dict[str, str]]:
        what = f"extension {extension_id}"
        extension = await self._ask(self._registrar.get_extension(extension_id), what)
        if not isinstance(extension, dict) or extension.get("customer_id") != customer_id:
            raise DestinationError(f"{what} not found")
        name = str(extension.get("extension", ""))
        found = await self._ask(self._registrar.contacts(customer_id, name), what)
        contacts = found.get("result", []) if isinstance(found, dict) else found
        addresses = [
            address
            for contact in contacts or []
            if isinstance(contact, dict)
            and (address := contact_address(str(contact.get("uri", "")))) is not None
        ]
        if not addresses:
            raise DestinationError(f"{what} has no registered contact")
        return addresses
