"""Test calls watched live from call events, and the carrier setup form's answers."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.async_api import Page, expect

from scripts import carriers
from tests.support.console import screenshot
from tests.support.providers import ProviderApi


async def test_test_call_progress_appears_live(
    signed_in: Page, providers: ProviderApi, tmp_path: Path
) -> None:
    page = signed_in
    async with (
        carriers.answering(tmp_path, max_runtime=120) as answering,
        carriers.busy(tmp_path, max_runtime=120) as busy,
    ):
        good = await providers.create(answering.target, name=f"answer-{uuid.uuid4().hex[:6]}")
        bad = await providers.create(busy.target, name=f"busy-{uuid.uuid4().hex[:6]}")

        await page.goto(f"/console/#/test-call?provider={good['id']}")
        await expect(page.get_by_label("Provider", exact=True)).to_have_value(good["id"])
        await page.get_by_label("Destinations").fill("+15550000001")
        await page.get_by_label("Hang up after answer (seconds)").fill("1")
        await page.evaluate("window.__notReloaded = true")
        await page.get_by_role("button", name="Place test call").click()
        card = page.locator(".call-card").first
        # Answered (the step list marks it), then hung up by us after the pause.
        await expect(card.locator(".steps li", has_text="Answered")).to_have_class(
            "done", timeout=15_000
        )
        await expect(card).to_have_attribute("data-status", "hangup", timeout=15_000)
        await expect(card.locator(".hangup-reason")).to_have_text("normal")
        await expect(card.locator("table.attempts tbody tr")).to_have_count(1)
        await expect(card.locator("table.attempts tbody tr td").nth(2)).to_contain_text("200")
        await screenshot(page, "06-test-call-answered")

        # A busy carrier: the attempt's 486 and the reason appear without a reload.
        await page.get_by_label("Find provider").fill(bad["name"])
        await page.get_by_label("Provider", exact=True).select_option(bad["id"])
        await page.get_by_role("button", name="Place test call").click()
        busy_card = page.locator(".call-card").first
        await expect(busy_card).to_have_attribute("data-status", "hangup", timeout=15_000)
        await expect(busy_card.locator(".hangup-reason")).to_have_text("busy")
        await expect(busy_card.locator("table.attempts")).to_contain_text("486")
        assert await page.evaluate("window.__notReloaded === true")
        await screenshot(page, "07-test-call-busy")

        # The provider page's call quality counts what just happened.
        await page.goto(f"/console/#/providers/{good['id']}")
        stats = page.locator("section[aria-labelledby=h-quality] .stats")
        await expect(stats).to_contain_text("100.0 %")
        await expect(page.locator("section[aria-labelledby=h-health] svg").first).to_be_visible(
            timeout=10_000
        )
        await screenshot(page, "08-provider-page")


async def test_test_call_validation_is_shown_beside_the_field(
    signed_in: Page, providers: ProviderApi
) -> None:
    page = signed_in
    provider = await providers.create("127.0.0.1:5995", name=f"form-{uuid.uuid4().hex[:6]}")
    await page.goto(f"/console/#/test-call?provider={provider['id']}")
    await expect(page.get_by_label("Provider", exact=True)).to_have_value(provider["id"])
    destinations = page.get_by_label("Destinations")
    await destinations.fill("12345")
    await page.get_by_role("button", name="Place test call").click()
    await expect(destinations).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".field-error:visible")).to_contain_text("E.164")


async def test_carrier_setup_explains_its_answers(signed_in: Page) -> None:
    page = signed_in
    await page.get_by_role("link", name="Carrier setup").click()
    await page.get_by_label("Provider name").fill("Telnyx main")
    # 400: the API's message beside the key field (an empty key).
    await page.get_by_role("button", name="Set up carrier").click()
    key = page.get_by_label("Carrier API key")
    await expect(key).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".field-error:visible")).to_contain_text("must not be empty")
    # 503 here (no carrier egress configured in the tests): the status and what it means.
    await key.fill("KEY0123456789")
    await page.get_by_role("button", name="Set up carrier").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("503")
    await expect(alert).to_contain_text("not configured")
    # The key is a password field and never echoed into the page.
    assert await key.get_attribute("type") == "password"
    await screenshot(page, "09-carrier-setup")
