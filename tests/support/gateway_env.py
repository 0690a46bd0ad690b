"""Gateway settings every shared test gateway uses."""

from __future__ import annotations

# Every test talks from 127.0.0.1 and many log in with a wrong password on purpose: the
# shared gateways must not lock the run out. The throttle itself is tested in tests/abuse
# with a gateway and database of its own.
UNTHROTTLED_LOGIN: dict[str, int] = {
    "GATEWAY_LOGIN_MAX_FAILURES": 1_000_000,
    "GATEWAY_LOGIN_ADDRESS_MAX_FAILURES": 1_000_000,
    "GATEWAY_LOGIN_DELAY": 0,  # no growing delay between failures either
}
