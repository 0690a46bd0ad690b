"""The platform's shared library."""
