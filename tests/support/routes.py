"""Drive one provider-manager's providers, routes and dial routes over RPC, as the gateway and
the call-manager do; health is set in the database (only the health-checker writes it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from provider_manager.app import ProviderManagerApp
from provider_manager.tables import providers
from shared.errors import AppError
from shared.rpc import RpcClient
from sqlalchemy import update

from tests.support.apps import provider_manager_app, running


def new_customer() -> str:
    return str(uuid.uuid4())


class RouteDriver:
    def __init__(self, rpc: RpcClient, queue: str, app: ProviderManagerApp) -> None:
        self.rpc = rpc
        self.queue = queue
        self.app = app
        self.default_customer = str(app.config.default_route_customer_id)

    async def call(self, method: str, uri: str, data: Any = None) -> Any:
        return await self.rpc.request(self.queue, method, uri, data)

    async def refused(self, method: str, uri: str, data: Any = None) -> AppError:
        with pytest.raises(AppError) as caught:
            await self.rpc.request(self.queue, method, uri, data)
        return caught.value

    async def provider(self, name: str = "carrier") -> str:
        body = {"type": "sip", "hostname": f"{name}-{uuid.uuid4().hex[:8]}.example.com"}
        created = await self.call("POST", "/v1/providers", {**body, "name": name})
        return str(created["id"])

    async def route(
        self,
        provider_id: str,
        target: str,
        customer_id: str | None,
        priority: int = 0,
        name: str = "",
    ) -> str:
        body: dict[str, Any] = {
            "provider_id": provider_id,
            "target": target,
            "priority": priority,
            "name": name,
        }
        if customer_id is not None:
            body["customer_id"] = customer_id
        return str((await self.call("POST", "/v1/routes", body))["id"])

    def dialroutes_uri(self, customer_id: str, number: str) -> str:
        return "/v1/dialroutes?" + urlencode({"customer_id": customer_id, "target": number})

    async def resolve(self, customer_id: str, number: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", self.dialroutes_uri(customer_id, number))
        return result

    async def route_ids(self, customer_id: str, number: str) -> list[str]:
        return [c["route_id"] for c in (await self.resolve(customer_id, number))["result"]]

    async def set_health(self, provider_id: str, status: str) -> None:
        async with self.app.sessions() as session, session.begin():
            await session.execute(
                update(providers).where(providers.c.id == provider_id).values(health_status=status)
            )


@asynccontextmanager
async def private_routing(
    env: dict[str, Any], database_url: str, rpc: RpcClient
) -> AsyncIterator[RouteDriver]:
    """A provider-manager of its own on `database_url`, with a random default route customer:
    default routes are global by nature, so those one test gives must reach no other."""
    app = provider_manager_app(
        {
            **env,
            "DATABASE_URL": database_url,
            "PROVIDER_MANAGER_DEFAULT_ROUTE_CUSTOMER_ID": str(uuid.uuid4()),
        }
    )
    async with running(app):
        yield RouteDriver(rpc, app.settings.request_queue("provider-manager"), app)
