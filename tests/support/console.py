"""The operator console in Chromium: how the tests (and the console benchmark) start the
browser, sign in, and keep screenshots for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page

from tests.support.gateway_env import ADMIN_PASSWORD, ADMIN_USERNAME

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


async def sign_in(
    page: Page, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD
) -> None:
    await page.goto("/console/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Main").wait_for()


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
