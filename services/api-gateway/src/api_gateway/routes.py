"""Every public route, declared once: aiohttp routing and OpenAPI are both built from this."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from shared.contracts.providers import Provider, ProviderCreate, ProviderList, ProviderUpdate

from api_gateway.auth import require
from api_gateway.endpoints import PAGING, Endpoint
from api_gateway.keys import AUTHENTICATOR
from api_gateway.permissions import Permission
from api_gateway.views import login, providers

ADMIN = Permission.PROJECT_SUPER_ADMIN

ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "POST",
        "/auth/login",
        "Log in; returns a JWT (also set as the `token` cookie)",
        "auth",
        None,
        public_view=login.login,
        body=login.LoginRequest,
        response=login.LoginResponse,
    ),
    Endpoint(
        "GET",
        "/v1.0/providers",
        "List providers, newest first",
        "providers",
        ADMIN,
        providers.list_providers,
        response=ProviderList,
        query=PAGING,
    ),
    Endpoint(
        "POST",
        "/v1.0/providers",
        "Create a provider",
        "providers",
        ADMIN,
        providers.create_provider,
        body=ProviderCreate,
        response=Provider,
    ),
    Endpoint(
        "GET",
        "/v1.0/providers/{id}",
        "Get a provider (deleted ones too, with their tm_delete)",
        "providers",
        ADMIN,
        providers.get_provider,
        response=Provider,
    ),
    Endpoint(
        "PUT",
        "/v1.0/providers/{id}",
        "Update a provider; a new hostname resets its health to unknown",
        "providers",
        ADMIN,
        providers.update_provider,
        body=ProviderUpdate,
        response=Provider,
    ),
    Endpoint(
        "DELETE",
        "/v1.0/providers/{id}",
        "Soft-delete a provider; returns the deleted record",
        "providers",
        ADMIN,
        providers.delete_provider,
        response=Provider,
    ),
]


def _handler(endpoint: Endpoint) -> Handler:
    if endpoint.public_view is not None:
        return endpoint.public_view
    view, permission = endpoint.view, endpoint.permission
    assert view is not None and permission is not None

    async def handler(request: web.Request) -> web.StreamResponse:
        identity = await request.app[AUTHENTICATOR].identify(request)
        require(identity, permission)
        return await view(request, identity)

    return handler


def add_routes(app: web.Application, endpoints: list[Endpoint]) -> None:
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, _handler(endpoint))
