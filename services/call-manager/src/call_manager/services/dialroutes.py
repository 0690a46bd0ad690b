"""Which providers a customer's call to a number tries, asked of provider-manager over RPC.

GET /v1/dialroutes?customer_id=<uuid>&target=%2B<E.164>
  -> 200 DialrouteList (try order: longest prefix, customer before default, priority,
     unhealthy providers last) | 404 reason NO_ROUTE
"""

from __future__ import annotations

from shared.clients import ProviderManagerClient
from shared.contracts.routes import Dialroute, DialrouteList
from shared.errors import AppError, ErrorStatus
from shared.rpc import RpcClient


class NoRoute(Exception):
    """No route of the customer nor of the defaults matches the number."""


class DialrouteLookup:
    def __init__(self, rpc: RpcClient, queue: str, timeout: float = 3.0) -> None:
        self._provider_manager = ProviderManagerClient(rpc, queue, timeout)

    async def resolve(self, customer_id: str, number: str) -> list[Dialroute]:
        """The candidates in try order; NoRoute when there are none. Other failures
        (provider-manager down, a timeout) raise their AppError: the create fails."""
        try:
            found = await self._provider_manager.dialroutes(customer_id, number)
        except AppError as err:
            if err.status is ErrorStatus.NOT_FOUND and err.reason == "NO_ROUTE":
                raise NoRoute(err.message) from None
            raise
        return DialrouteList.model_validate(found).result
