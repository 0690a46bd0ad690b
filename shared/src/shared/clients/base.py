"""What every typed client shares: a service's request queue, a default deadline, and the one
request/reply round trip (an error reply raises the peer's AppError)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from shared.rpc import RpcClient

Wire = dict[str, Any]


def query_string(params: Mapping[str, str | None]) -> str:
    """`?a=1&b=2` of the given parameters (None: left out); "" when none is given."""
    given = {k: v for k, v in params.items() if v is not None}
    return f"?{urlencode(given)}" if given else ""


class ServiceClient:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float | None = None) -> None:
        """`queue`: settings.request_queue(<service>); `timeout`: the default deadline of a
        call (None: the RpcClient's)."""
        self._rpc = rpc
        self.queue = queue
        self._timeout = timeout

    async def _call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        query: Mapping[str, str | None] | None = None,
        timeout: float | None = None,
    ) -> Wire:
        uri = path + query_string(query or {})
        result: Wire = await self._rpc.request(
            self.queue, method, uri, data, timeout=timeout or self._timeout
        )
        return result
