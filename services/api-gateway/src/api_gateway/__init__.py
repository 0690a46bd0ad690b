"""api_gateway."""
