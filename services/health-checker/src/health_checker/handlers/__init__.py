"""health-checker handlers."""
