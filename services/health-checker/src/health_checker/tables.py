"""Tables in schema health_checker (this service's only storage)."""

from __future__ import annotations

from shared.events import outbox_table, processed_events_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from health_checker.settings import SCHEMA

metadata = MetaData(schema=SCHEMA)

# What to probe, learned from provider-manager's events and resyncs. A deleted provider keeps
# a tombstone (tm_delete set) so that a late, older event cannot bring it back.
probe_targets = Table(
    "probe_targets",
    metadata,
    Column("provider_id", UUID(as_uuid=False), primary_key=True),
    Column("hostname", String(255), nullable=False),
    # The provider's transport ("" = RFC 3263 chooses); migration 0003.
    Column("transport", String(8), nullable=False, server_default=""),
    # provider-manager's tm_update of the record applied last: older records are ignored.
    Column("source_tm_update", DateTime(timezone=True), nullable=False),
    # Claiming a target moves this to the next round: it is also the claim's lease.
    Column("next_due_at", DateTime(timezone=True), nullable=False),
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("last_status", String(16), nullable=False, server_default="unknown"),
    Column("last_checked_at", DateTime(timezone=True), nullable=True),
    # Counts recorded probes; `probes_total % 100` is the history slot the next one takes.
    Column("probes_total", BigInteger, nullable=False, server_default="0"),
    Column("tm_create", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("tm_update", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("tm_delete", DateTime(timezone=True), nullable=True),
    CheckConstraint(
        "last_status IN ('unknown','healthy','unhealthy')", name="probe_targets_last_status"
    ),
    # The claim's order (failing targets first, then by due time), so that a claim reads only
    # the rows it takes; migration 0005.
    Index(
        "probe_targets_claim_order",
        text("(consecutive_failures > 0) DESC"),
        "next_due_at",
        postgresql_where=text("tm_delete IS NULL"),
    ),
)

# The last 100 probes per provider as a ring buffer: slot = probe number % 100, overwritten
# in place. Storage is bounded without DELETEs, and with free space on each page (fillfactor)
# and no indexed column changing, the overwrites are HOT updates.
probe_history = Table(
    "probe_history",
    metadata,
    Column("provider_id", UUID(as_uuid=False), primary_key=True),
    Column("slot", SmallInteger, primary_key=True),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("hostname", String(255), nullable=False),
    Column("address", String(64), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("status_code", SmallInteger, nullable=True),
    Column("reason", String(255), nullable=True),
    Column("rtt_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    postgresql_with={"fillfactor": 70},
)

# Outbound registrations kept for providers with `register` on (migration 0004): the owner
# (claimed_by-style lease in owner/owner_until) refreshes each before it expires; Call-ID,
# From tag and CSeq persist so the registrar sees one binding refreshed.
registrations = Table(
    "registrations",
    metadata,
    Column("provider_id", UUID(as_uuid=False), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("transport", String(8), nullable=False, server_default=""),
    Column("auth_username", String(255), nullable=False, server_default=""),
    Column("wanted", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False, server_default=text("false")),
    Column("expires", Integer, nullable=False),
    Column("source_tm_update", DateTime(timezone=True), nullable=False),
    Column("next_due_at", DateTime(timezone=True), nullable=False),
    Column("owner", String(128), nullable=True),
    Column("owner_until", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False, server_default="registering"),
    Column("reason", String(255), nullable=False, server_default=""),
    Column("reported", Boolean, nullable=False, server_default=text("false")),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("call_id", String(128), nullable=False),
    Column("from_tag", String(64), nullable=False),
    Column("cseq", Integer, nullable=False, server_default="0"),
    Column("registered_host", String(255), nullable=True),
    Column("registered_user", String(255), nullable=True),
    Column("granted_expires", Integer, nullable=False, server_default="0"),
    Column("registered_at", DateTime(timezone=True), nullable=True),
    Index("registrations_due", "next_due_at"),
)

# Named leases shared by replicas (e.g. "resync": which replica runs the next periodic one).
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=True),
    Column("until", DateTime(timezone=True), nullable=False),
)

processed_events = processed_events_table(metadata, SCHEMA)
outbox = outbox_table(metadata, SCHEMA)
