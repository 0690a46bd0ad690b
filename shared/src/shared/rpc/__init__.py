"""Request/reply over RabbitMQ with the platform's JSON envelope."""

from shared.rpc.client import RpcClient
from shared.rpc.envelope import RpcRequest, RpcResponse
from shared.rpc.router import Reply, Router, RpcContext
from shared.rpc.server import RpcServer

__all__ = ["Reply", "Router", "RpcClient", "RpcContext", "RpcRequest", "RpcResponse", "RpcServer"]
