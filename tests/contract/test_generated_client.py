"""A client generated from /openapi.json (openapi-python-client) drives the platform: it pages
through 250 providers until the empty page, creates a ProviderCall without a source, and
parses every reply into its typed models."""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from api_gateway.app import GatewayApp

from tests.support.gateway_env import ADMIN_PASSWORD, ADMIN_USERNAME

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PROVIDERS = 250


async def _generate(base: str, where: Path) -> Any:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/openapi.json") as resp:
        (where / "openapi.json").write_text(json.dumps(await resp.json()))
    process = await asyncio.create_subprocess_exec(
        str(GENERATOR),
        "generate",
        "--path",
        str(where / "openapi.json"),
        "--meta",
        "none",
        "--output-path",
        str(where / "platform_client"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=where,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, output.decode(errors="replace")
    sys.path.insert(0, str(where))
    return importlib.import_module("platform_client")


def _module(name: str) -> Any:
    return importlib.import_module(f"platform_client.{name}")


async def test_a_generated_client_pages_creates_and_parses(
    contract_gateway: GatewayApp, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{contract_gateway.port}"
    package = await _generate(base, tmp_path)
    try:
        await _drive(package, base)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "platform_client"]:
            del sys.modules[name]


async def _drive(package: Any, base: str) -> None:
    models = _module("models")
    login = _module("api.auth.post_auth_login")
    anonymous = package.Client(base_url=base)
    logged = await login.asyncio(
        client=anonymous,
        body=models.LoginRequest(username=ADMIN_USERNAME, password=ADMIN_PASSWORD),
    )
    assert isinstance(logged, models.LoginResponse)
    client = package.AuthenticatedClient(base_url=base, token=logged.token)

    create = _module("api.providers.post_v1_0_providers")
    tag = uuid.uuid4().hex[:8]
    mine: set[str] = set()
    for i in range(PROVIDERS):
        body = models.ProviderCreate.from_dict(
            {"type": "sip", "hostname": "127.0.0.1:9", "name": f"gen-{tag}-{i}", "detail": None}
        )
        created = await create.asyncio(client=client, body=body)
        assert isinstance(created, models.Provider), created
        mine.add(created.id)

    listing = _module("api.providers.get_v1_0_providers")
    seen: list[str] = []
    token = ""
    for _ in range(1000):
        page = await listing.asyncio(client=client, page_size=37, page_token=token)
        assert isinstance(page, models.ProviderList), page
        if not page.result:
            assert page.next_page_token == ""
            break
        assert page.next_page_token.startswith(page.result[-1].tm_create)
        seen += [p.id for p in page.result]
        token = page.next_page_token
    else:
        raise AssertionError("paging did not end")
    assert mine <= set(seen)
    assert len(seen) == len(set(seen))

    provider_id = next(iter(mine))
    place = _module("api.providercalls.post_v1_0_providercalls")
    body = models.ProviderCallCreate.from_dict(
        {
            "provider_id": provider_id,
            "destinations": [{"type": "tel", "target": "+821012345678", "target_name": None}],
        }
    )
    placed = await place.asyncio(client=client, body=body)
    assert isinstance(placed, models.ProviderCall), placed
    assert placed.source is None
    read = _module("api.providercalls.get_v1_0_providercalls_by_id")
    again = await read.asyncio(client=client, id=placed.id)
    assert isinstance(again, models.ProviderCall) and again.source is None
    call = await _module("api.calls.get_v1_0_calls_by_id").asyncio(
        client=client, id=placed.call_ids[0]
    )
    assert isinstance(call, models.Call), call
    calls = await _module("api.calls.get_v1_0_calls").asyncio(client=client, page_size=5)
    assert isinstance(calls, models.CallList), calls

    # An error parses too: the typed error body, with the field named.
    refused = await create.asyncio(
        client=client, body=models.ProviderCreate.from_dict({"type": "sip", "hostname": "x y"})
    )
    assert isinstance(refused, models.ErrorBody), refused
    assert refused.error.reason == "INVALID_ARGUMENT"
