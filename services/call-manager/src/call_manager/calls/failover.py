"""When an unanswered INVITE's failure moves the call to the next provider (pure).

The line between "this carrier could not place the call" (try another) and "the called
party or our own side decided" (stop): 404 (the carrier does not know the number), 408 and
5xx (the carrier failed), and no final response at all (Timer B, DNS, transport) fail over;
486/600 busy, 480 unavailable, 403/603 declined, 487 (our CANCEL), any other 3xx-6xx, and
anything once answered do not. Whether the call is still in a state to fail over (dialing or
ringing, no hangup or ring timeout under way) is the controller's business.
"""

from __future__ import annotations

from call_manager.dialing.leg import LegEndKind

_CARRIER_FAILURES = frozenset({404, 408})


def fails_over(kind: LegEndKind, status_code: int) -> bool:
    if kind is LegEndKind.UNREACHABLE:
        # Code 0: nothing final came. An unreachable end with a code is an unusable 2xx:
        # the callee may have picked up, so ringing them again elsewhere is wrong.
        return status_code == 0
    if kind is LegEndKind.REJECTED:
        return status_code in _CARRIER_FAILURES or 500 <= status_code <= 599
    return False
