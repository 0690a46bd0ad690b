"""Digest challenges met by calls and registrations, by what became of them."""

from __future__ import annotations

from prometheus_client import Counter

# outcome: answered (a signed retry went out), no_credentials, refused (credentials rejected,
# same nonce again, nothing supported), lookup_failed (the credentials could not be fetched)
CHALLENGES = Counter(
    "sip_digest_challenges_total",
    "401/407 challenges received, by request method and outcome",
    ["method", "outcome"],
)


def count(method: str, problem: str | None, *, no_credentials: str) -> None:
    if problem is None:
        outcome = "answered"
    elif problem == no_credentials:
        outcome = "no_credentials"
    elif problem.startswith("could not fetch"):
        outcome = "lookup_failed"
    else:
        outcome = "refused"
    CHALLENGES.labels(method, outcome).inc()
