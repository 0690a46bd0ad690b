"""health-checker repositories."""
