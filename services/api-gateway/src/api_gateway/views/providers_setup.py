"""/v1.0/providers/setup: one-step carrier setup, checked here, carried out by provider-manager.

The body (with the carrier API key) is forwarded over RPC as it came; the gateway neither logs
nor keeps it. The RPC deadline is 30 s: the carrier's API is called several times, and a
failed setup is rolled back before provider-manager answers.
"""

from __future__ import annotations

from aiohttp import web
from shared.contracts.setup import ProviderSetupRequest
from shared.contracts.validation import parse_body

from api_gateway.accounts import Identity
from api_gateway.http import read_json, reply
from api_gateway.keys import PROVIDER_MANAGER

SETUP_RPC_TIMEOUT = 30.0


async def setup_provider(request: web.Request, _: Identity) -> web.StreamResponse:
    body = await read_json(request)
    parse_body(ProviderSetupRequest, body)  # fail fast; provider-manager applies the same rules
    client = request.app[PROVIDER_MANAGER]
    return reply(await client.setup_provider(body, timeout=SETUP_RPC_TIMEOUT))
