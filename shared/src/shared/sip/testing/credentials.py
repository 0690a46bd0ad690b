"""A credentials source for tests: always the same Digest credentials (or none)."""

from __future__ import annotations

from shared.sip.call import CredentialsSource
from shared.sip.digest import Credentials


def fixed_credentials(credentials: Credentials | None) -> CredentialsSource:
    async def fetch() -> Credentials | None:
        return credentials

    return fetch
