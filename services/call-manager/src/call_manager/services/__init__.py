"""call-manager services."""
