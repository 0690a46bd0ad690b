"""Abuse and safety rules of POST /calls: where calls may go (dial_policy, addresses,
provider_hosts), how many a customer may hold (fair_share, host_slots) and which caller IDs
it may send (caller_ids)."""
