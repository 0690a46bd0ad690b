"""Logging at DEBUG for one block of a test that checks what the services log."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from shared.logging import configure_logging


@contextmanager
def debug_logs() -> Iterator[None]:
    """Every service in this process logs at DEBUG to the current (captured) stdout for the
    block; then back to the session's WARNING, writing to the real stdout: the capture's file
    closes with the test, and later log lines must not go to it."""
    configure_logging("tests", "DEBUG")
    try:
        yield
    finally:
        captured = sys.stdout
        sys.stdout = sys.__stdout__
        try:
            configure_logging("tests", "WARNING")
        finally:
            sys.stdout = captured
