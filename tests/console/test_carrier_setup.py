"""Carrier setup in the console against the fake Telnyx (the setup tests' own platform):
a rejected key's 422, an unreachable carrier's 502 and a success, each explained."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from api_gateway.app import GatewayApp
from playwright.async_api import Browser, Page, expect

from tests.support.console import screenshot, sign_in
from tests.support.telnyx_fake import VALID_KEY, FakeTelnyx


@pytest.fixture
async def setup_page(browser: Browser, setup_gateway: GatewayApp) -> AsyncIterator[Page]:
    ctx = await browser.new_context(
        base_url=f"http://127.0.0.1:{setup_gateway.port}", viewport={"width": 1280, "height": 900}
    )
    page = await ctx.new_page()
    await sign_in(page)
    await page.goto("/console/#/setup")
    yield page
    await ctx.close()


async def submit(page: Page, key: str) -> None:
    await page.get_by_label("Provider name").fill(f"telnyx-{uuid.uuid4().hex[:6]}")
    await page.get_by_label("Carrier API key").fill(key)
    await page.get_by_role("button", name="Set up carrier").click()


async def test_rejected_key_is_explained(setup_page: Page, fake: FakeTelnyx) -> None:
    await submit(setup_page, "KEYnot0a0known0key0000000000000000000000")
    alert = setup_page.get_by_role("alert")
    await expect(alert).to_contain_text("422", timeout=15_000)
    await expect(alert).to_contain_text("Nothing was created")
    # The key is never shown back, in the form or the message.
    assert "KEYnot0a0known0key" not in await setup_page.content()


async def test_unreachable_carrier_is_explained(setup_page: Page, fake: FakeTelnyx) -> None:
    fake.add_fault(method="GET", path="/v2/balance", status=503, times=None)
    await submit(setup_page, VALID_KEY)
    alert = setup_page.get_by_role("alert")
    await expect(alert).to_contain_text("502", timeout=20_000)
    await expect(alert).to_contain_text("safe to try again")
    await screenshot(setup_page, "10-carrier-setup-502")


async def test_success_links_to_the_new_provider(setup_page: Page, fake: FakeTelnyx) -> None:
    await submit(setup_page, VALID_KEY)
    link = setup_page.get_by_role("link", name="Open telnyx-")
    await expect(link).to_be_visible(timeout=20_000)
    await link.click()
    await expect(setup_page.get_by_role("heading", level=1)).to_contain_text("telnyx-")
    await expect(setup_page.get_by_role("textbox", name="Hostname")).not_to_have_value("")
