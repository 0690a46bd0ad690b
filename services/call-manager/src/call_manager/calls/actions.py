"""Inline actions run after answer: `pause` (option.duration ms) and `hangup`, in order.

When the list runs out the call is hung up, as a finished flow would do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any


async def run_actions(actions: Sequence[dict[str, Any]], hangup: Callable[[], None]) -> None:
    for action in actions:
        kind = action.get("type")
        if kind == "pause":
            await asyncio.sleep(int(action.get("option", {}).get("duration", 0)) / 1000.0)
        elif kind == "hangup":
            break
    hangup()
