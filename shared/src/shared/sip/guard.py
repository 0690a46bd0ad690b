"""Containment for the paths that read from the network: one bad message or media stream
must cost itself only, and a flood of them must not become a flood of tracebacks.

Every contained exception is counted (Prometheus, by path) and logged, at most once per
interval per path, with how many were left unlogged since the last line.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter

CONTAINED = Counter(
    "sip_contained_errors_total",
    "Exceptions caught per message (SIP) or per stream (RTP) instead of escaping",
    ["path"],
)


class ThrottledLog:
    def __init__(self, logger: logging.Logger, path: str, interval: float = 1.0) -> None:
        self._logger = logger
        self.path = path
        self.interval = interval
        self.count = 0
        self._unlogged = 0
        self._last = float("-inf")
        self._counter = CONTAINED.labels(path=path)

    def contained(self, exc: BaseException, context: str) -> None:
        """Record an exception caught on `path`; logs it unless one was logged recently."""
        self.count += 1
        self._counter.inc()
        now = time.monotonic()
        if now - self._last < self.interval:
            self._unlogged += 1
            return
        skipped, self._unlogged, self._last = self._unlogged, 0, now
        self._logger.warning(
            "%s: contained %s: %s (%d more since the last report)",
            self.path,
            type(exc).__name__,
            context,
            skipped,
            exc_info=exc,
        )
