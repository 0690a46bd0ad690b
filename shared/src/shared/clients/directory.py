"""The platform's directory services that call-manager asks to expand group destinations
(VoIPbin's agent-manager and registrar-manager): agents, extensions and their registered
contacts. Their replies are theirs; call-manager checks every field it reads."""

from __future__ import annotations

from typing import Any

from shared.clients.base import ServiceClient, Wire


class AgentManagerClient(ServiceClient):
    async def get_agent(self, agent_id: str) -> Wire:
        """{"id", "customer_id", "ring_method", "addresses": [{"type", "target", ...}]}"""
        return await self._call("GET", f"/v1/agents/{agent_id}")


class RegistrarManagerClient(ServiceClient):
    async def get_extension(self, extension_id: str) -> Wire:
        """{"id", "customer_id", "extension"}"""
        return await self._call("GET", f"/v1/extensions/{extension_id}")

    async def contacts(self, customer_id: str, extension: str) -> Any:
        """[{"uri": "sip:..."}], or {"result": [...]}: the extension's registered contacts."""
        query = {"customer_id": customer_id, "extension": extension}
        return await self._call("GET", "/v1/contacts", query=query)
