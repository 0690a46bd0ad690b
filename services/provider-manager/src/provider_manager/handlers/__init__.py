"""RPC handlers: parse the request, call the service, shape the reply."""
