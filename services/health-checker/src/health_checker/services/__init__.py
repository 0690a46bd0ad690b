"""health-checker services."""
