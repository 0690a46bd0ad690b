"""Whose calls a caller may see: project super admins all, everyone else their customer's.

The gateway passes the scope as `?customer_id=` and call-manager filters by it, answering
404 for another customer's resource (its existence is not revealed)."""

from __future__ import annotations

from api_gateway.accounts import Identity
from api_gateway.permissions import Permission


def customer_scope(identity: Identity) -> str | None:
    """The customer whose calls `identity` may see; None: every customer's."""
    if identity.has(Permission.PROJECT_SUPER_ADMIN):
        return None
    return identity.customer_id
