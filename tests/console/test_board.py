"""The fleet board: live status from domain events (no reload), filters and search, and the
provider page with its charts, metrics, routes and the API's validation messages."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.async_api import Locator, Page, expect

from scripts import carriers
from tests.support.console import screenshot
from tests.support.providers import ProviderApi


def board_row(page: Page, provider_id: str) -> Locator:
    return page.locator(f'#board .vrow[data-id="{provider_id}"]')


async def test_board_shows_a_provider_turn_healthy_then_unhealthy_live(
    signed_in: Page, providers: ProviderApi, tmp_path: Path
) -> None:
    page = signed_in
    sipp = carriers.answering(tmp_path, max_runtime=120)
    await sipp.start()
    try:
        name = f"live-{uuid.uuid4().hex[:6]}"
        provider = await providers.create(sipp.target, name=name)
        await page.get_by_label("Search").fill(name)
        row = board_row(page, provider["id"])
        await expect(row).to_be_visible()
        # The page is never reloaded below: a marker set now must survive every change.
        await page.evaluate("window.__notReloaded = true")
        await expect(row).to_have_attribute("data-status", "healthy", timeout=15_000)
        await expect(row.locator(".c-rtt")).to_contain_text("ms")
        await expect(row.locator(".c-fail")).to_have_text("0")
        await screenshot(page, "02-board-healthy")
    finally:
        await sipp.stop()
    await expect(row).to_have_attribute("data-status", "unhealthy", timeout=15_000)
    await expect(row.locator(".c-fail")).not_to_have_text("0")
    assert await page.evaluate("window.__notReloaded === true")
    await screenshot(page, "03-board-unhealthy")

    # The status filter keeps it under Unhealthy and drops it from Healthy.
    await page.get_by_label("Search").fill("")
    await page.get_by_role("radio", name=re.compile(r"^Unhealthy")).check()
    await expect(board_row(page, provider["id"])).to_be_visible()
    await page.get_by_role("radio", name=re.compile(r"^Healthy")).check()
    await expect(board_row(page, provider["id"])).to_have_count(0)
    await page.get_by_role("radio", name=re.compile(r"^All")).check()


async def test_board_fits_a_phone_width(signed_in: Page, providers: ProviderApi) -> None:
    page = signed_in
    await providers.create("127.0.0.1:5998", name=f"phone-{uuid.uuid4().hex[:6]}")
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.locator("#board .vrow").first).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at phone width ({width}px)"
    await screenshot(page, "04-board-phone")


async def test_provider_page_edit_shows_the_api_message_beside_the_field(
    signed_in: Page, providers: ProviderApi
) -> None:
    page = signed_in
    provider = await providers.create("127.0.0.1:5997", name=f"edit-{uuid.uuid4().hex[:6]}")
    await page.goto(f"/console/#/providers/{provider['id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(provider["name"])
    hostname = page.get_by_role("textbox", name="Hostname")
    await expect(hostname).to_have_value("127.0.0.1:5997")
    await hostname.fill("bad host name!")
    await page.get_by_role("button", name="Save changes").click()
    # The gateway's own words, beside the hostname field, tied to it for screen readers.
    await expect(hostname).to_have_attribute("aria-invalid", "true")
    error_id = (await hostname.get_attribute("aria-describedby") or "").split()[-1]
    error = page.locator(f"#{error_id}")
    await expect(error).to_be_visible()
    # The message without its "hostname: " prefix (the field is already named by its label).
    message = (await error.inner_text()).strip()
    assert message and not message.startswith("hostname:")
    await expect(hostname).to_be_focused()
    await screenshot(page, "05-provider-bad-hostname")

    # A valid change saves, and the error goes away.
    await hostname.fill("127.0.0.1:5996")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await expect(hostname).not_to_have_attribute("aria-invalid", "true")


async def test_board_keyboard_moves_between_rows_and_opens_a_provider(
    signed_in: Page, providers: ProviderApi
) -> None:
    page = signed_in
    tag = uuid.uuid4().hex[:6]
    made = [await providers.create(f"127.0.0.1:{5980 + n}", name=f"kb-{tag}-{n}") for n in range(3)]
    await page.get_by_label("Search").fill(f"kb-{tag}")
    await expect(page.locator("#board .vrow[data-id]")).to_have_count(3)
    # Tab reaches the first row's link; arrows move down the rows; Enter opens the provider.
    await page.locator("#board .vrow a").first.focus()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused == f"kb-{tag}-2"
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"kb-{tag}-1")
    assert page.url.endswith(f"#/providers/{made[1]['id']}")


async def test_pages_fit_a_phone_width(signed_in: Page, providers: ProviderApi) -> None:
    page = signed_in
    provider = await providers.create("127.0.0.1:5979", name=f"narrow-{uuid.uuid4().hex[:6]}")
    await page.set_viewport_size({"width": 390, "height": 844})
    for name, hash_ in (
        ("11-provider-phone", f"#/providers/{provider['id']}"),
        ("12-test-call-phone", f"#/test-call?provider={provider['id']}"),
        ("13-setup-phone", "#/setup"),
    ):
        await page.goto(f"/console/{hash_}")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await expect(page.locator("main")).not_to_contain_text("Loading…")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{hash_} scrolls sideways at phone width ({width}px)"
        await screenshot(page, name)
