"""Data access for provider-manager's own schema (SQLAlchemy Core, async)."""
