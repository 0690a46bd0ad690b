"""health_checker."""
