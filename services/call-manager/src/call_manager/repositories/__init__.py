"""call-manager repositories."""
