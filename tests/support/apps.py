"""Services started in-process for a block: `async with running(app) as app:` starts it and
stops it after, and the test settings of the run's shared provider-manager and gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from api_gateway.app import GatewayApp
from api_gateway.settings import Settings as GatewaySettings
from provider_manager.app import ProviderManagerApp
from provider_manager.settings import Settings as ProviderManagerSettings
from shared.runtime import ServiceApp

from tests.support.gateway_env import gateway_env

App = TypeVar("App", bound=ServiceApp)


@asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


def provider_manager_app(env: dict[str, Any]) -> ProviderManagerApp:
    """A provider-manager on `env` (no ops port)."""
    return ProviderManagerApp(
        ProviderManagerSettings.model_validate({**env, "PROVIDER_MANAGER_OPS_PORT": 0})
    )


def gateway_app(env: dict[str, Any], **overrides: Any) -> GatewayApp:
    """A gateway on `env` with the test admin (gateway_env, `overrides` last)."""
    return GatewayApp(GatewaySettings.model_validate(gateway_env(env, **overrides)))
