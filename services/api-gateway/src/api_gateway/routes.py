"""Every public route, declared once: aiohttp routing and OpenAPI are both built from this."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler
from shared.contracts.call_metrics import ProviderCallMetrics
from shared.contracts.caller_ids import CallerId, CallerIdCreate, CallerIdList
from shared.contracts.calls import (
    Call,
    CallCreate,
    CallCreateResult,
    CallList,
    Groupcall,
    GroupcallList,
    ProviderCall,
    ProviderCallCreate,
    ProviderCallList,
)
from shared.contracts.health import HealthCheckList
from shared.contracts.providers import Provider, ProviderCreate, ProviderList, ProviderUpdate
from shared.contracts.routes import Route, RouteCreate, RouteList, RouteUpdate
from shared.contracts.setup import ProviderSetupRequest

from api_gateway.auth import require
from api_gateway.endpoints import PAGING, Endpoint, QueryParam, uuid_filter
from api_gateway.keys import AUTHENTICATOR
from api_gateway.permissions import Permission
from api_gateway.views import (
    call_metrics,
    health_checks,
    login,
    providercalls,
    providers,
    providers_setup,
)
from api_gateway.views import caller_ids as caller_id_views
from api_gateway.views import calls as call_views
from api_gateway.views import routes as route_views

ADMIN = Permission.PROJECT_SUPER_ADMIN
# Calls are placed and read by their customer's admins and managers (call-manager checks
# ownership on reads; a POST always places calls for the caller's own customer).
CALL_READERS = ADMIN | Permission.CUSTOMER_ADMIN | Permission.CUSTOMER_MANAGER
# Any account: what a caller does to its own credentials.
ANYONE = ADMIN | Permission.CUSTOMER_AGENT | Permission.CUSTOMER_ADMIN | Permission.CUSTOMER_MANAGER

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
        errors=(
            (
                "429",
                "TOO_MANY_LOGIN_ATTEMPTS: too many failures for this user or address "
                "(Retry-After says when to try again; the right password is refused too)",
            ),
        ),
    ),
    Endpoint(
        "POST",
        "/auth/logout",
        "End the token this request carries",
        "auth",
        ANYONE,
        login.logout,
        response=login.LogoutResponse,
    ),
    Endpoint(
        "POST",
        "/auth/password",
        "Change your own password; every token issued before ends, a new one is returned",
        "auth",
        ANYONE,
        login.change_password,
        body=login.PasswordChange,
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
    # Before /v1.0/providers/{id}, so "setup" is never read as an id.
    Endpoint(
        "POST",
        "/v1.0/providers/setup",
        "Set up a carrier SIP trunk and its provider in one step, from a carrier API key "
        "(the key is used for this request only); anything created is rolled back on failure",
        "providers",
        ADMIN,
        providers_setup.setup_provider,
        body=ProviderSetupRequest,
        response=Provider,
        errors=(
            ("422", "The carrier rejected the API key, or refused the request (its reason)"),
            ("502", "The carrier was unreachable or kept failing; nothing was left behind"),
            ("503", "Carrier setup is not configured, or provider-manager is unavailable"),
        ),
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
    Endpoint(
        "GET",
        "/v1.0/providers/{id}/health_checks",
        "The provider's last 100 SIP OPTIONS health checks, newest first",
        "providers",
        ADMIN,
        health_checks.list_health_checks,
        response=HealthCheckList,
        query=PAGING,
    ),
    Endpoint(
        "GET",
        "/v1.0/providers/{id}/call_metrics",
        "Outbound attempts through the provider over a window: answer-seizure ratio, "
        "post-dial delay and unanswered attempts by SIP code (from the stored calls)",
        "providers",
        ADMIN,
        call_metrics.get_call_metrics,
        response=ProviderCallMetrics,
        query=(
            QueryParam(
                "window_seconds",
                "How far back, 60 to 2592000 s (default 3600)",
                {"type": "integer", "minimum": 60, "maximum": 2592000, "default": 3600},
            ),
        ),
    ),
    Endpoint(
        "GET",
        "/v1.0/routes",
        "List routes, newest first; optionally one customer's",
        "routes",
        ADMIN,
        route_views.list_routes,
        response=RouteList,
        query=(*PAGING, uuid_filter("customer_id", "Only this customer's routes")),
    ),
    Endpoint(
        "POST",
        "/v1.0/routes",
        "Create a route (customer_id omitted: a system default route)",
        "routes",
        ADMIN,
        route_views.create_route,
        body=RouteCreate,
        response=Route,
    ),
    Endpoint(
        "GET",
        "/v1.0/routes/{id}",
        "Get a route (deleted ones too, with their tm_delete)",
        "routes",
        ADMIN,
        route_views.get_route,
        response=Route,
    ),
    Endpoint(
        "PUT",
        "/v1.0/routes/{id}",
        "Update a route; customer_id cannot change",
        "routes",
        ADMIN,
        route_views.update_route,
        body=RouteUpdate,
        response=Route,
    ),
    Endpoint(
        "DELETE",
        "/v1.0/routes/{id}",
        "Soft-delete a route; returns the deleted record",
        "routes",
        ADMIN,
        route_views.delete_route,
        response=Route,
    ),
    Endpoint(
        "GET",
        "/v1.0/providercalls",
        "List ProviderCalls (forced test calls), newest first",
        "providercalls",
        ADMIN,
        providercalls.list_providercalls,
        response=ProviderCallList,
        query=(*PAGING, uuid_filter("provider_id", "Only calls forced through this provider")),
    ),
    Endpoint(
        "POST",
        "/v1.0/providercalls",
        "Place calls forced through one provider; an Idempotency-Key header makes retries safe",
        "providercalls",
        ADMIN,
        providercalls.create_providercall,
        body=ProviderCallCreate,
        response=ProviderCall,
        errors=(
            ("409", "IDEMPOTENCY_IN_PROGRESS: the first request with this key is still running"),
            (
                "422",
                "NO_DESTINATION_DIALABLE (none of the destinations can be called) or "
                "IDEMPOTENCY_KEY_REUSED",
            ),
        ),
    ),
    Endpoint(
        "GET",
        "/v1.0/providercalls/{id}",
        "Get a ProviderCall (the ids of its calls and groupcalls)",
        "providercalls",
        ADMIN,
        providercalls.get_providercall,
        response=ProviderCall,
    ),
    Endpoint(
        "DELETE",
        "/v1.0/providercalls/{id}",
        "Soft-delete a ProviderCall record; its calls are not touched",
        "providercalls",
        ADMIN,
        providercalls.delete_providercall,
        response=ProviderCall,
    ),
    Endpoint(
        "GET",
        "/v1.0/calls",
        "List calls, newest first (your customer's; all for project super admins)",
        "calls",
        CALL_READERS,
        call_views.list_calls,
        response=CallList,
        query=PAGING,
    ),
    Endpoint(
        "POST",
        "/v1.0/calls",
        "Place calls for your customer: each number tries the providers its dial routes give, "
        "failing over on the same call (404, 408, 5xx, no response); sip destinations are "
        "dialed directly (public hosts only: see DESTINATION_NOT_ALLOWED); the source must be "
        "a verified caller ID; an Idempotency-Key header makes retries safe",
        "calls",
        CALL_READERS,
        call_views.create_calls,
        body=CallCreate,
        response=CallCreateResult,
        errors=(
            ("409", "IDEMPOTENCY_IN_PROGRESS: the first request with this key is still running"),
            (
                "422",
                "NO_ROUTE (a number matches no route), DESTINATION_NOT_DIALABLE or "
                "IDEMPOTENCY_KEY_REUSED; nothing was dialed",
            ),
            (
                "403",
                "SOURCE_NOT_ALLOWED: the source is not one of your verified caller IDs; "
                "DESTINATION_NOT_ALLOWED: a sip destination is an IP address, an internal "
                "address or a carrier's host (nothing was dialed)",
            ),
            (
                "429",
                "TOO_MANY_CALLS: your concurrent-call or calls-per-second limit would be "
                "passed (nothing was dialed; Retry-After says when to try again)",
            ),
        ),
    ),
    Endpoint(
        "GET",
        "/v1.0/calls/{id}",
        "Get a call: status, timestamps, hangup_by, hangup_reason and its attempts (one "
        "per provider tried)",
        "calls",
        CALL_READERS,
        call_views.get_call,
        response=Call,
    ),
    Endpoint(
        "POST",
        "/v1.0/calls/{id}/hangup",
        "Hang up a call: CANCEL while ringing, BYE once answered",
        "calls",
        CALL_READERS,
        call_views.hangup_call,
        response=Call,
    ),
    Endpoint(
        "GET",
        "/v1.0/caller_ids",
        "List verified caller IDs (the sources POST /v1.0/calls accepts); optionally one "
        "customer's",
        "caller_ids",
        ADMIN,
        caller_id_views.list_caller_ids,
        response=CallerIdList,
        query=(QueryParam("customer_id", "Only this customer's caller IDs"),),
    ),
    Endpoint(
        "POST",
        "/v1.0/caller_ids",
        "Verify a caller ID for a customer: a number, a number prefix (+1415555*), user@host "
        "or *@host. A customer without any may not place calls",
        "caller_ids",
        ADMIN,
        caller_id_views.create_caller_id,
        body=CallerIdCreate,
        response=CallerId,
        errors=(("409", "CALLER_ID_EXISTS: the customer has this pattern already"),),
    ),
    Endpoint(
        "GET",
        "/v1.0/caller_ids/{id}",
        "Get a verified caller ID",
        "caller_ids",
        ADMIN,
        caller_id_views.get_caller_id,
        response=CallerId,
    ),
    Endpoint(
        "DELETE",
        "/v1.0/caller_ids/{id}",
        "Remove a verified caller ID; returns the removed record",
        "caller_ids",
        ADMIN,
        caller_id_views.delete_caller_id,
        response=CallerId,
    ),
    Endpoint(
        "GET",
        "/v1.0/groupcalls",
        "List groupcalls, newest first",
        "groupcalls",
        CALL_READERS,
        call_views.list_groupcalls,
        response=GroupcallList,
        query=PAGING,
    ),
    Endpoint(
        "GET",
        "/v1.0/groupcalls/{id}",
        "Get a groupcall",
        "groupcalls",
        CALL_READERS,
        call_views.get_groupcall,
        response=Groupcall,
    ),
    Endpoint(
        "POST",
        "/v1.0/groupcalls/{id}/hangup",
        "Hang up every call of a groupcall",
        "groupcalls",
        CALL_READERS,
        call_views.hangup_groupcall,
        response=Groupcall,
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


def routing_path(path: str, paths: Iterable[str]) -> str:
    """`path` for aiohttp: a `{name}` segment never matches a literal sibling, so
    PUT /v1.0/providers/setup is a 405 of the `setup` resource, not an id that is no UUID."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if not (part.startswith("{") and part.endswith("}")):
            continue
        literals = sorted(
            {
                other.split("/")[i]
                for other in paths
                if other.split("/")[:i] == parts[:i]
                and len(other.split("/")) > i
                and not other.split("/")[i].startswith("{")
            }
        )
        if literals:
            words = "|".join(re.escape(word) for word in literals)
            parts[i] = f"{{{part[1:-1]}:(?!(?:{words})(?:/|$))[^/]+}}"
    return "/".join(parts)


def add_routes(app: web.Application, endpoints: list[Endpoint]) -> None:
    paths = [endpoint.path for endpoint in endpoints]
    for endpoint in endpoints:
        path = routing_path(endpoint.path, paths)
        app.router.add_route(endpoint.method, path, _handler(endpoint))
