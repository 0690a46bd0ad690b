"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web
from shared.clients import CallManagerClient, HealthCheckerClient, ProviderManagerClient

from api_gateway.accounts import AccountStore
from api_gateway.auth import Authenticator, TokenIssuer
from api_gateway.settings import Settings
from api_gateway.throttle import LoginThrottle

PROVIDER_MANAGER = web.AppKey("provider_manager", ProviderManagerClient)
HEALTH_CHECKER = web.AppKey("health_checker", HealthCheckerClient)
CALL_MANAGER = web.AppKey("call_manager", CallManagerClient)
SETTINGS = web.AppKey("settings", Settings)
ACCOUNTS = web.AppKey("accounts", AccountStore)
ISSUER = web.AppKey("issuer", TokenIssuer)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
THROTTLE = web.AppKey("throttle", LoginThrottle)
