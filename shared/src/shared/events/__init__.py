"""Domain events: a transactional outbox, its relay, and a deduping subscriber."""

from shared.events.envelope import Event
from shared.events.outbox import (
    OutboxRelay,
    add_event,
    add_events,
    after_commit,
    event_envelope,
    outbox_table,
    processed_events_table,
    publishing,
)
from shared.events.subscriber import EventSubscriber

__all__ = [
    "Event",
    "EventSubscriber",
    "OutboxRelay",
    "add_event",
    "add_events",
    "after_commit",
    "event_envelope",
    "outbox_table",
    "processed_events_table",
    "publishing",
]
