"""In-process and standalone fakes of external services used by tests."""
