"""The Telnyx client of provider-manager and the fake Telnyx server it is tested against
(tests/support/telnyx_fake.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.telnyx_fake import FakeTelnyx


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    """A fresh fake server per test (the setup tests share one: tests/support)."""
    async with FakeTelnyx() as server:
        yield server
