"""Console tests: the in-process platform (gateway, provider-manager, call-manager and a
fast health-checker), sipp carriers, and Debian's Chromium driven by Playwright.

Screenshots go to test-artifacts/console/ (gitignored) for a person to look at."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aio_pika.abc import AbstractRobustConnection
from api_gateway.app import GatewayApp
from call_manager.app import CallManagerApp
from call_manager.settings import Settings as CallManagerSettings
from health_checker.app import HealthCheckerApp
from health_checker.settings import Settings as HealthCheckerSettings
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from provider_manager.app import ProviderManagerApp

from tests.support.apps import running
from tests.support.calls import CALL_MANAGER_ENV
from tests.support.console import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.support.health import FAST_HEALTH_CHECKS, drop_subscribe_queue
from tests.support.providers import ProviderApi


@pytest.fixture(scope="module")
async def call_manager(
    platform_env: dict[str, Any], provider_manager: ProviderManagerApp
) -> AsyncIterator[CallManagerApp]:
    settings = CallManagerSettings.model_validate({**platform_env, **CALL_MANAGER_ENV})
    async with running(CallManagerApp(settings)) as app:
        yield app


@pytest.fixture(scope="module")
async def health_checker(
    platform_env: dict[str, Any],
    provider_manager: ProviderManagerApp,
    broker: AbstractRobustConnection,
) -> AsyncIterator[HealthCheckerApp]:
    env = {**platform_env, **FAST_HEALTH_CHECKS, "HEALTH_CHECK_DNS_SERVERS": "127.0.0.1:9"}
    async with running(HealthCheckerApp(HealthCheckerSettings.model_validate(env))) as app:
        yield app
    await drop_subscribe_queue(broker, platform_env)


@pytest.fixture(scope="module")
async def console_url(
    gateway: GatewayApp, call_manager: CallManagerApp, health_checker: HealthCheckerApp
) -> str:
    return f"http://127.0.0.1:{gateway.port}"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat before the browser starts
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-system-tools.sh")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser, console_url: str) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=console_url, viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield tab
    # Uncaught exceptions and CSP violations fail the test that caused them.
    assert not errors, errors


@pytest.fixture
async def signed_in(page: Page) -> Page:
    await sign_in(page)
    return page


@pytest.fixture
async def providers(
    http: aiohttp.ClientSession, admin_headers: dict[str, str], console_url: str
) -> AsyncIterator[ProviderApi]:
    made = ProviderApi(http, admin_headers)
    yield made
    await made.cleanup()
