"""Repository-level tests and test helpers (fakes)."""
