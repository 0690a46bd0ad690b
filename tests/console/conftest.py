"""Console tests: the in-process platform (gateway, provider-manager, call-manager and a
fast health-checker), sipp carriers, and Debian's Chromium driven by Playwright.

Screenshots go to test-artifacts/console/ (gitignored) for a person to look at."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
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

from tests.calls.conftest import CALL_MANAGER_ENV
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME

# The carrier-setup platform (provider-manager pointed at a fake Telnyx, its own gateway),
# for the setup form's tests.
from tests.setup.conftest import (  # noqa: F401 - fixtures used by name
    fake,
    fake_telnyx,
    setup_env,
    setup_gateway,
    setup_pm,
)

CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
PROBE_INTERVAL = 1.0
PROBE_TIMEOUT = 0.8


@pytest.fixture(scope="module")
async def call_manager(
    platform_env: dict[str, Any], provider_manager: ProviderManagerApp
) -> AsyncIterator[CallManagerApp]:
    app = CallManagerApp(CallManagerSettings.model_validate({**platform_env, **CALL_MANAGER_ENV}))
    await app.start()
    yield app
    await app.stop()


@pytest.fixture(scope="module")
async def health_checker(
    platform_env: dict[str, Any],
    provider_manager: ProviderManagerApp,
    broker: AbstractRobustConnection,
) -> AsyncIterator[HealthCheckerApp]:
    app = HealthCheckerApp(
        HealthCheckerSettings.model_validate(
            {
                **platform_env,
                "HEALTH_CHECKER_OPS_PORT": 0,
                "HEALTH_CHECK_INTERVAL": PROBE_INTERVAL,
                "HEALTH_CHECK_TIMEOUT": PROBE_TIMEOUT,
                "HEALTH_CHECK_POLL_INTERVAL": 0.1,
                "HEALTH_CHECK_FLUSH_INTERVAL": 0.05,
                "HEALTH_CHECK_RESYNC_INTERVAL": 600,
                "HEALTH_CHECK_DNS_SERVERS": "127.0.0.1:9",
            }
        )
    )
    await app.start()
    yield app
    await app.stop()
    # Its durable subscribe queue would outlive the run.
    channel = await broker.channel()
    with contextlib.suppress(Exception):
        await channel.queue_delete(f"{platform_env['QUEUE_PREFIX']}.health-checker.subscribe")
    with contextlib.suppress(Exception):
        await channel.close()


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


async def sign_in(
    page: Page, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD
) -> None:
    await page.goto("/console/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Main").wait_for()


@pytest.fixture
async def signed_in(page: Page) -> Page:
    await sign_in(page)
    return page


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


class Providers:
    """Providers created through the API; deleted after the test."""

    def __init__(self, http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
        self._http = http
        self._headers = headers
        self.created: list[str] = []

    async def create(self, hostname: str, name: str | None = None) -> dict[str, Any]:
        body = {
            "type": "sip",
            "hostname": hostname,
            "name": name or f"console-{uuid.uuid4().hex[:6]}",
        }
        async with self._http.post("/v1.0/providers", json=body, headers=self._headers) as resp:
            assert resp.status == 200, await resp.text()
            provider: dict[str, Any] = await resp.json()
        self.created.append(provider["id"])
        return provider

    async def cleanup(self) -> None:
        for provider_id in self.created:
            async with self._http.delete(f"/v1.0/providers/{provider_id}", headers=self._headers):
                pass


@pytest.fixture
async def providers(
    http: aiohttp.ClientSession, admin_headers: dict[str, str], console_url: str
) -> AsyncIterator[Providers]:
    made = Providers(http, admin_headers)
    yield made
    await made.cleanup()
