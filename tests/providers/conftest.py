"""Providers over HTTP (the seeds' API through the shared gateway) and over RPC (as other
services call provider-manager); the run-wide fixtures serve them all."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.support.providers import provider_body


@pytest.fixture
async def existing(http: aiohttp.ClientSession, admin_headers: dict[str, str]) -> dict[str, Any]:
    """A provider created for the test."""
    async with http.post("/v1.0/providers", json=provider_body(), headers=admin_headers) as resp:
        assert resp.status == 200
        return dict(await resp.json())
