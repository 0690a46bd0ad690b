"""Wire shapes of the public API, shared by the gateway (validation, OpenAPI) and the
owning services (authoritative validation), so both apply exactly the same rules."""
