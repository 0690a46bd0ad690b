"""One-step carrier setup (POST /v1/providers/setup): a journaled saga against the carrier's API.

egress.py      the platform's SIP egress addresses registered at the carrier
config.py      budgets, retries and defaults taken from Settings
journal.py     the durable journal row of each setup (never the key)
owner_lock.py  which setups a live process is running (PostgreSQL advisory locks)
cleanup.py     finding a setup's carrier resources by tag and deleting them in reverse
errors.py      carrier failures as the platform's AppErrors
saga.py        the forward steps (key check, profile, connection, IPs), each journaled
sweep.py       cleaning up setups a crash left unfinished
service.py     one setup end to end, plus listing the journal
"""
