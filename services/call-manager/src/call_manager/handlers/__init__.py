"""call-manager handlers."""
