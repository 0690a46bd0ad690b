"""Builds the gateway: accounts, auth, RPC client, the aiohttp application."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import structlog
from aiohttp import web
from shared.clients import CallManagerClient, HealthCheckerClient, ProviderManagerClient
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient
from shared.runtime import ServiceApp

from api_gateway.accounts import AccountStore
from api_gateway.asyncapi import build_asyncapi
from api_gateway.auth import Authenticator, TokenIssuer
from api_gateway.console.feed import EventFeed
from api_gateway.console.routes import add_console
from api_gateway.console.security import cookie_origin_check
from api_gateway.keys import (
    ACCOUNTS,
    AUTHENTICATOR,
    CALL_MANAGER,
    HEALTH_CHECKER,
    ISSUER,
    PROVIDER_MANAGER,
    SETTINGS,
    THROTTLE,
)
from api_gateway.middlewares import request_context
from api_gateway.openapi import build_openapi
from api_gateway.password_pool import PasswordPool
from api_gateway.permissions import Permission
from api_gateway.routes import ENDPOINTS, add_routes
from api_gateway.settings import SCHEMA, SERVICE, Settings
from api_gateway.throttle import LoginThrottle, ThrottleLimits

log = structlog.get_logger("gateway")
MIGRATIONS = Path(__file__).parent / "migrations"


# Whose events the console relays (their fanout exchanges).
CONSOLE_EVENT_SOURCES = ("provider-manager", "health-checker", "call-manager")


def create_app(
    settings: Settings, rpc: RpcClient, accounts: AccountStore, feed: EventFeed | None = None
) -> web.Application:
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    if secret is None:
        log.warning("jwt_secret_unset", note="tokens will not survive a restart; set JWT_SECRET")
        secret = secrets.token_urlsafe(48)
    issuer = TokenIssuer(secret, settings.jwt_expiry_seconds)
    app = web.Application(
        middlewares=[request_context, cookie_origin_check],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[PROVIDER_MANAGER] = ProviderManagerClient(rpc, settings.request_queue("provider-manager"))
    app[HEALTH_CHECKER] = HealthCheckerClient(rpc, settings.request_queue("health-checker"))
    app[CALL_MANAGER] = CallManagerClient(rpc, settings.request_queue("call-manager"))
    app[ACCOUNTS] = accounts
    app[ISSUER] = issuer
    app[AUTHENTICATOR] = Authenticator(issuer, accounts, settings.identity_cache_seconds)
    app[THROTTLE] = LoginThrottle(
        accounts.sessions,
        ThrottleLimits(
            settings.login_max_failures,
            settings.login_address_max_failures,
            settings.login_window_seconds,
            settings.login_delay_seconds,
        ),
    )
    add_routes(app, ENDPOINTS)
    add_console(app, feed or EventFeed())
    document = build_openapi(ENDPOINTS)

    async def openapi(_: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/openapi.json", openapi)
    events_document = build_asyncapi(settings.event_exchange)

    async def asyncapi(_: web.Request) -> web.Response:
        return web.json_response(events_document)

    app.router.add_get("/asyncapi.json", asyncapi)
    return app


class GatewayApp(ServiceApp):
    name = SERVICE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.ops_port)
        self.config = settings
        self.port: int | None = None

    async def on_start(self) -> None:
        pool = PasswordPool(self.config.password_hash_workers, self.config.password_hash_queue)
        accounts = AccountStore(self.sessions, pool)

        async def close_pool() -> None:
            pool.close()

        self.on_stop(close_pool)
        await ensure_admin(self.config, accounts)
        feed = EventFeed()
        app = create_app(self.config, self.rpc, accounts, feed)
        exchanges = [self.config.event_exchange(name) for name in CONSOLE_EVENT_SOURCES]
        await feed.start(self.broker, exchanges)
        self.on_stop(feed.stop)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.config.host, self.config.port, backlog=1024).start()
        self.on_stop(runner.cleanup)
        self.port = int(runner.addresses[0][1])
        log.info("gateway_listening", host=self.config.host, port=self.port)


async def ensure_admin(settings: Settings, accounts: AccountStore) -> None:
    """The first start creates the admin; a generated password is printed once, never logged."""
    if await accounts.account_exists(settings.admin_username):
        return
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    password = given or secrets.token_urlsafe(16)
    try:
        await accounts.create_account(
            settings.admin_username,
            password,
            Permission.PROJECT_SUPER_ADMIN | Permission.CUSTOMER_ADMIN,
        )
    except AppError as err:
        if err.status is not ErrorStatus.ALREADY_EXISTS:
            raise
        # Another replica starting at the same time created it first: that one is kept.
        return
    log.info("admin_account_created", username=settings.admin_username)
    if given is None:
        print(
            f"\n*** Created admin account {settings.admin_username!r} with password: {password}"
            "\n*** It is shown only this once. Set ADMIN_PASSWORD to choose it yourself.\n",
            file=sys.stderr,
            flush=True,
        )


def migrate(settings: Settings) -> None:
    from shared.migrations import upgrade

    upgrade(settings.database_url, MIGRATIONS, SCHEMA)
