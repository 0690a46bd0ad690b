"""Password hashing on a small pool of its own.

An argon2 check costs 64 MiB and tens of milliseconds of CPU. On the default executor a
burst of logins took every worker thread (also those DNS and file reads need) and as much
memory as there were threads. Here at most `workers` hashes run at once and at most `queue`
more wait; beyond that a login is answered 503 at once instead of piling up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from prometheus_client import Counter
from shared.errors import AppError, ErrorStatus

T = TypeVar("T")

HASH_POOL_REFUSED = Counter(
    "gateway_password_hash_refused_total", "Password checks refused because the pool was full"
)


class PasswordPool:
    def __init__(self, workers: int = 2, queue: int = 32) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._capacity = workers + queue
        self._busy = 0

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self._busy >= self._capacity:
            HASH_POOL_REFUSED.inc()
            raise AppError(
                ErrorStatus.UNAVAILABLE,
                "PASSWORD_CHECKS_BUSY",
                "too many logins at once; retry shortly",
                {"retry_after": 1},
            )
        self._busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._busy -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
