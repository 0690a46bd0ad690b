"""call_manager."""
