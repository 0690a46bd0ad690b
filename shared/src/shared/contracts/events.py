"""Every event the platform publishes, declared once: its type, the service (and so the
exchange) that publishes it, the model of its `data`, and an example.

The outbox refuses a type that is not declared here (shared.events.add_events), and the
gateway's `/asyncapi.json` is generated from this list, so the document names every event
that can be emitted and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contracts.calls import Call, Groupcall, ProviderCall
from shared.contracts.health import ProviderHealthChanged
from shared.contracts.providers import Provider, RegistrationStatus
from shared.contracts.routes import Route

PROVIDER_MANAGER = "provider-manager"


class ProviderRegistrationChanged(BaseModel):
    """Data of `provider_registration_changed`: a provider's registration_status changed."""

    provider_id: str
    hostname: str
    old_status: RegistrationStatus
    new_status: RegistrationStatus
    reason: str = Field(description="Why the last attempt failed, or its last answer")
    changed_at: str | None = Field(description="When the status changed (UTC)")
    provider: Provider = Field(description="The provider after the change")


CALL_MANAGER = "call-manager"
HEALTH_CHECKER = "health-checker"


class ProbeState(BaseModel):
    """A provider's probe state after one recorded probe."""

    provider_id: str
    status: Literal["healthy", "unhealthy"]
    checked_at: str | None = Field(description="When the probe concluded (UTC)")
    consecutive_failures: int
    rtt_ms: float | None = Field(description="First transmission to first response, ms")


class ProbesRecorded(BaseModel):
    """Data of `provider_probes_recorded`: one batch of recorded probes (not one event per
    probe: a 10,000-provider fleet stays about 20 messages a round)."""

    results: list[ProbeState]


Payload = type[BaseModel]


@dataclass(frozen=True)
class EventSpec:
    type: str
    publisher: str
    payload: Payload
    summary: str


class UnknownEvent(ValueError):
    """An event type no catalog entry declares for that publisher."""


class EventCatalog:
    def __init__(self) -> None:
        self._specs: dict[str, EventSpec] = {}

    def declare(self, type_: str, publisher: str, payload: type[BaseModel], summary: str) -> None:
        if type_ in self._specs:
            raise ValueError(f"event type {type_!r} declared twice")
        self._specs[type_] = EventSpec(type_, publisher, payload, summary)

    def check(self, publisher: str, type_: str) -> EventSpec:
        spec = self._specs.get(type_)
        if spec is None or spec.publisher != publisher:
            raise UnknownEvent(
                f"{publisher} emits {type_!r}, which shared.contracts.events does not declare"
            )
        return spec

    def __iter__(self) -> Iterator[EventSpec]:
        return iter(self._specs.values())

    def __contains__(self, type_: object) -> bool:
        return type_ in self._specs


CATALOG = EventCatalog()
_declare = CATALOG.declare

for _verb in ("created", "updated", "deleted"):
    _declare(f"provider_{_verb}", PROVIDER_MANAGER, Provider, f"A provider was {_verb}")
    _declare(f"route_{_verb}", PROVIDER_MANAGER, Route, f"A route was {_verb}")
_declare(
    "provider_health_changed",
    PROVIDER_MANAGER,
    ProviderHealthChanged,
    "A health check result changed a provider's health_status",
)
_declare(
    "provider_registration_changed",
    PROVIDER_MANAGER,
    ProviderRegistrationChanged,
    "A provider's SIP registration at its carrier changed status",
)
_declare(
    "provider_probes_recorded",
    HEALTH_CHECKER,
    ProbesRecorded,
    "A batch of SIP OPTIONS probes was recorded (each provider's new probe state)",
)
_declare("providercall_created", CALL_MANAGER, ProviderCall, "A ProviderCall was created")
_declare("providercall_deleted", CALL_MANAGER, ProviderCall, "A ProviderCall was soft-deleted")
_declare("call_created", CALL_MANAGER, Call, "A call was created (its INVITE follows)")
for _status, _meaning in (
    ("dialing", "its INVITE is on its way"),
    ("ringing", "the far end rings (180/183)"),
    ("progressing", "the far end answered"),
    ("terminating", "we sent BYE"),
    ("canceling", "we sent CANCEL"),
    ("hangup", "it ended: see hangup_by and hangup_reason"),
):
    _declare(f"call_{_status}", CALL_MANAGER, Call, f"A call's status became {_status}: {_meaning}")
_declare(
    "call_updated",
    CALL_MANAGER,
    Call,
    "A call failed over to its next provider (same call, a new attempt)",
)
_declare("groupcall_created", CALL_MANAGER, Groupcall, "A groupcall was created")
_declare("groupcall_updated", CALL_MANAGER, Groupcall, "A groupcall dialed its next call")
_declare("groupcall_progressing", CALL_MANAGER, Groupcall, "A call of the groupcall answered")
_declare("groupcall_hangingup", CALL_MANAGER, Groupcall, "The groupcall is hanging up")
_declare("groupcall_hangup", CALL_MANAGER, Groupcall, "Every call of the groupcall ended")


# Examples, completed and checked by their models (see example()).
_STAMP = "2026-04-21 23:15:00.000000"
_PROVIDER: dict[str, Any] = {
    "id": "4dbeabd6-f397-4375-95d2-a38411e07ed1",
    "type": "sip",
    "hostname": "sip.telnyx.com",
    "tech_prefix": "",
    "tech_postfix": "",
    "tech_headers": {},
    "name": "telnyx basic",
    "detail": "telnyx basic",
    "metadata": {},
    "health_status": "healthy",
    "health_checked_at": _STAMP,
    "tm_create": "2022-10-22 16:16:16.874761",
    "tm_update": _STAMP,
    "tm_delete": "9999-01-01 00:00:00.000000",
}
_SOURCE = {"type": "tel", "target": "+14155551234", "target_name": ""}
_DESTINATION = {"type": "tel", "target": "+821012345678", "target_name": ""}
_NIL = "00000000-0000-0000-0000-000000000000"
_CALL_ID = "9f8e7d6c-5b4a-4c2d-9e0f-abcdef012345"
_PROVIDERCALL_ID = "b7d1c0f6-9a2e-4b3f-8e2a-1c7d5b8a9e0f"
_CUSTOMER = "6a93f71e-8b2d-4e5f-9a1c-2d3e4f5a6b7c"
_EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    Provider: _PROVIDER,
    Route: {
        "id": "0b2c6c53-6c39-4d8f-9d5f-3a0b1c9e8f11",
        "customer_id": _CUSTOMER,
        "name": "us",
        "detail": "",
        "provider_id": _PROVIDER["id"],
        "priority": 0,
        "target": "+1",
        "tm_create": _STAMP,
        "tm_update": _STAMP,
        "tm_delete": "9999-01-01 00:00:00.000000",
    },
    ProviderHealthChanged: {
        "provider_id": _PROVIDER["id"],
        "hostname": _PROVIDER["hostname"],
        "old_status": "unknown",
        "new_status": "healthy",
        "checked_at": _STAMP,
        "provider": _PROVIDER,
    },
    ProviderRegistrationChanged: {
        "provider_id": _PROVIDER["id"],
        "hostname": _PROVIDER["hostname"],
        "old_status": "unregistered",
        "new_status": "registered",
        "reason": "200 OK",
        "changed_at": _STAMP,
        "provider": {**_PROVIDER, "register": True, "registration_status": "registered"},
    },
    ProbesRecorded: {
        "results": [
            {
                "provider_id": _PROVIDER["id"],
                "status": "healthy",
                "checked_at": _STAMP,
                "consecutive_failures": 0,
                "rtt_ms": 23.417,
            }
        ]
    },
    ProviderCall: {
        "id": _PROVIDERCALL_ID,
        "customer_id": _CUSTOMER,
        "provider_id": _PROVIDER["id"],
        "flow_id": _NIL,
        "source": _SOURCE,
        "destinations": [_DESTINATION],
        "anonymous": "auto",
        "call_ids": [_CALL_ID],
        "groupcall_ids": [],
        "tm_create": _STAMP,
        "tm_update": _STAMP,
        "tm_delete": None,
    },
    Call: {
        "id": _CALL_ID,
        "customer_id": _CUSTOMER,
        "owner_type": "",
        "owner_id": _NIL,
        "flow_id": _NIL,
        "type": "sip",
        "master_call_id": _NIL,
        "groupcall_id": _NIL,
        "providercall_id": _PROVIDERCALL_ID,
        "provider_id": _PROVIDER["id"],
        "source": _SOURCE,
        "destination": _DESTINATION,
        "status": "ringing",
        "direction": "outgoing",
        "anonymous": "auto",
        "actions": [],
        "metadata": {},
        "hangup_by": "",
        "hangup_reason": "",
        "sip_status_code": 0,
        "tm_ringing": _STAMP,
        "tm_progressing": None,
        "tm_hangup": None,
        "tm_create": _STAMP,
        "tm_update": _STAMP,
        "tm_delete": None,
        "attempts": [
            {
                "provider_id": _PROVIDER["id"],
                "route_id": _NIL,
                "request_uri": "sip:+821012345678@sip.telnyx.com",
                "sip_call_id": "3c2d9e0f5b4a@192.0.2.10",
                "sip_status_code": 0,
                "sip_reason": "",
                "tm_start": _STAMP,
                "tm_end": None,
            }
        ],
    },
    Groupcall: {
        "id": "5e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
        "customer_id": _CUSTOMER,
        "owner_type": "",
        "owner_id": _NIL,
        "status": "progressing",
        "flow_id": _NIL,
        "providercall_id": _PROVIDERCALL_ID,
        "provider_id": _PROVIDER["id"],
        "source": _SOURCE,
        "destination": {"type": "agent", "target": _CUSTOMER, "target_name": ""},
        "destinations": [{"type": "sip", "target": "alice@sip.example.com", "target_name": ""}],
        "ring_method": "ring_all",
        "answer_method": "",
        "anonymous": "auto",
        "answer_call_id": _NIL,
        "call_ids": [_CALL_ID],
        "call_count": 1,
        "dial_index": 0,
        "tm_create": _STAMP,
        "tm_update": _STAMP,
        "tm_delete": None,
    },
}


def example(payload: type[BaseModel]) -> dict[str, Any]:
    """An example `data` of this model, validated by it and with its defaults filled in."""
    return payload.model_validate(_EXAMPLES[payload]).model_dump(mode="json", by_alias=True)
