"""provider_manager."""
