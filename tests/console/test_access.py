"""Who may use the console, and what every console response carries."""

from __future__ import annotations

import uuid

import aiohttp
from api_gateway.accounts import AccountStore
from api_gateway.app import GatewayApp
from api_gateway.permissions import Permission
from playwright.async_api import Page, expect
from sqlalchemy import text

from tests.support.console import screenshot, sign_in
from tests.support.providers import ProviderApi


async def test_logged_out_access_is_refused(console_url: str, page: Page) -> None:
    async with aiohttp.ClientSession(base_url=console_url) as anonymous:
        for path in ("/console/api/board", "/console/api/events", "/console/api/session"):
            async with anonymous.get(path) as resp:
                assert resp.status == 401, path
                assert (await resp.json())["error"]["reason"] == "AUTHENTICATION_REQUIRED"
    # The page itself shows the sign-in form, and nothing of the fleet.
    await page.goto("/console/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    await page.goto("/console/#/setup")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await screenshot(page, "01-sign-in")


async def test_wrong_password_is_told_and_no_cookie_set(page: Page, gateway: GatewayApp) -> None:
    # A name of its own: failures count per username and per address (login throttle).
    username = f"console-nobody-{uuid.uuid4().hex[:6]}"
    try:
        await page.goto("/console/")
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill("not-the-password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("alert")).to_contain_text("wrong username or password")
        assert not [c for c in await page.context.cookies() if c["name"] == "token"]
    finally:
        # Every test signs in from 127.0.0.1: leave the address's failure count as it was
        # before this deliberate failure, or later sign-ins of the run would be throttled.
        async with gateway.engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE api_gateway.login_failures SET failures = failures - 1 "
                    "WHERE key = 'addr:127.0.0.1' AND failures > 0"
                )
            )
            await conn.execute(
                text("DELETE FROM api_gateway.login_failures WHERE key = :k"),
                {"k": f"user:{username}"},
            )


async def test_session_cookie_is_httponly_strict_and_not_readable(page: Page) -> None:
    await sign_in(page)
    cookies = {c["name"]: c for c in await page.context.cookies()}
    token = cookies["token"]
    assert token["httpOnly"] is True
    assert token["sameSite"] == "Strict"
    # Scripts of the page cannot read it, and it never appears in the address.
    assert "token" not in await page.evaluate("document.cookie")
    assert "token" not in page.url
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert not [c for c in await page.context.cookies() if c["name"] == "token"]


async def test_security_headers_on_every_console_response(console_url: str) -> None:
    async with aiohttp.ClientSession(base_url=console_url) as anonymous:
        for path in ("/console/", "/console/assets/js/main.js", "/console/assets/console.css"):
            async with anonymous.get(path) as resp:
                assert resp.status == 200, path
                csp = resp.headers["Content-Security-Policy"]
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp
                assert "style-src 'self'" in csp
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
        async with anonymous.get("/console/assets/../../app.py") as resp:
            assert resp.status == 404
        async with anonymous.get("/console/assets/%2e%2e/%2e%2e/app.py") as resp:
            assert resp.status == 404
        async with anonymous.get("/console/") as resp:
            html = await resp.text()
            assert "<script>" not in html and "style=" not in html


async def test_only_project_super_admins_get_a_session(gateway: GatewayApp, page: Page) -> None:
    username = f"console-manager-{uuid.uuid4().hex[:6]}"
    store = AccountStore(gateway.sessions)
    await store.create_account(username, "manager-password-1", Permission.CUSTOMER_MANAGER)
    await page.goto("/console/")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill("manager-password-1")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not a project super admin")
    assert not [c for c in await page.context.cookies() if c["name"] == "token"]


async def test_cross_origin_cookie_writes_are_refused(
    console_url: str, providers: ProviderApi, admin_token: str
) -> None:
    provider = await providers.create("127.0.0.1:5999")
    cookies = {"token": admin_token}
    async with aiohttp.ClientSession(base_url=console_url, cookies=cookies) as browserish:
        async with browserish.delete(
            f"/v1.0/providers/{provider['id']}", headers={"Origin": "http://evil.example"}
        ) as resp:
            assert resp.status == 403
            assert (await resp.json())["error"]["reason"] == "CROSS_ORIGIN_REQUEST"
        async with browserish.get(f"/v1.0/providers/{provider['id']}") as resp:
            assert resp.status == 200
            assert (await resp.json())["tm_delete"].startswith("9999")
