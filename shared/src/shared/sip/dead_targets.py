"""A short memory of addresses that just failed, shared by every call of a process.

A target that timed out, refused (503) or could not be sent to is put last for a while:
the next calls to the same provider try its healthy addresses first instead of paying the
same timeout again. Nothing is ever dropped: when every address is remembered dead, they
are all still tried, in their usual order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from shared.sip.numbers import is_ascii_digits
from shared.sip.resolver import Target

DEFAULT_DEAD_FOR = 30.0
MAX_RETRY_AFTER = 300.0  # a carrier asking for an hour of silence gets five minutes
MAX_ENTRIES = 10_000


class DeadTargets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[Target, float] = {}

    def mark(self, target: Target, seconds: float = DEFAULT_DEAD_FOR) -> None:
        if len(self._until) >= MAX_ENTRIES:
            self._forget_expired()
            if len(self._until) >= MAX_ENTRIES:
                self._until.pop(next(iter(self._until)))
        self._until[target] = self._clock() + min(max(seconds, 0.0), MAX_RETRY_AFTER)

    def is_dead(self, target: Target) -> bool:
        until = self._until.get(target)
        if until is None:
            return False
        if until <= self._clock():
            del self._until[target]
            return False
        return True

    def order(self, targets: Sequence[Target]) -> list[Target]:
        """Live targets first, dead ones after, each group in its RFC 3263 order."""
        alive = [t for t in targets if not self.is_dead(t)]
        return alive + [t for t in targets if t not in alive]

    def _forget_expired(self) -> None:
        now = self._clock()
        for target in [t for t, until in self._until.items() if until <= now]:
            del self._until[target]


def retry_after_seconds(value: str | None) -> float | None:
    """RFC 3261 section 20.33: `delta-seconds [comment] *(;params)`; None if absent or bad."""
    if not value:
        return None
    head = value.strip().split(";", 1)[0].split("(", 1)[0].strip()
    if not is_ascii_digits(head) or len(head) > 9:
        return None
    return float(int(head))
