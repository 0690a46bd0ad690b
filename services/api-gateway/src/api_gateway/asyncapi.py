"""The AsyncAPI 3.0 document of the platform's events, generated from the event catalog
(shared.contracts.events): the same declarations the outbox checks every event against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from shared.contracts.events import CATALOG, EventSpec, example
from shared.ids import UUID_SCHEMA

REF = "#/components/schemas/{model}"

DESCRIPTION = """\
Domain events of the SIP-trunk platform. Each service publishes on its own durable fanout
exchange, `<QUEUE_PREFIX>.<service>.event`: bind a queue of your own to it. Messages are
persistent JSON with the AMQP `type` property set to the event type and `message_id` to the
event id. Delivery is at least once, in commit order per publisher: dedupe on `id`.

`data` is the resource as the REST API (`/openapi.json`) returns it. Timestamps are UTC,
written `YYYY-MM-DD HH:MM:SS.ffffff` (e.g. `2022-10-22 16:16:16.874761`).
"""


def _envelope(spec: EventSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"The `{spec.type}` event: {spec.summary}.",
        "required": ["id", "type", "publisher", "timestamp", "data_type", "data"],
        "properties": {
            "id": {"type": "string", **UUID_SCHEMA, "description": "Event id: dedupe on it"},
            "type": {"const": spec.type},
            "publisher": {"const": spec.publisher},
            "timestamp": {
                "type": "string",
                "description": "When the change committed, UTC `YYYY-MM-DD HH:MM:SS.ffffff`",
            },
            "request_id": {
                "type": ["string", "null"],
                "description": "The API request that caused it, when one did",
            },
            "data_type": {"const": "application/json"},
            "data": {"$ref": REF.format(model=spec.payload.__name__)},
        },
    }


def _example(spec: EventSpec) -> dict[str, Any]:
    return {
        "id": "0f5d8e3c-2b1a-4c9d-8e7f-6a5b4c3d2e1f",
        "type": spec.type,
        "publisher": spec.publisher,
        "timestamp": "2026-04-21 23:15:00.000000",
        "request_id": "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b",
        "data_type": "application/json",
        "data": example(spec.payload),
    }


def build_asyncapi(exchange: Callable[[str], str], version: str = "1.0.0") -> dict[str, Any]:
    """`exchange(service)` names a service's event exchange (settings.event_exchange)."""
    specs = list(CATALOG)
    payloads: list[type[BaseModel]] = []
    for spec in specs:
        if spec.payload not in payloads:
            payloads.append(spec.payload)
    _, top = models_json_schema([(model, "serialization") for model in payloads], ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in specs:
        schemas[f"{spec.type}_event"] = _envelope(spec)
        messages[spec.type] = {
            "name": spec.type,
            "title": spec.type,
            "summary": spec.summary,
            "contentType": "application/json",
            "payload": {"$ref": REF.format(model=f"{spec.type}_event")},
            "examples": [{"name": spec.type, "payload": _example(spec)}],
            "bindings": {"amqp": {"messageType": spec.type, "deliveryMode": 2}},
        }
        channel = channels.setdefault(
            spec.publisher,
            {
                "address": exchange(spec.publisher),
                "title": f"{spec.publisher} events",
                "messages": {},
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": exchange(spec.publisher),
                            "type": "fanout",
                            "durable": True,
                            "autoDelete": False,
                        },
                    }
                },
            },
        )
        channel["messages"][spec.type] = {"$ref": f"#/components/messages/{spec.type}"}
        operations[f"publish_{spec.type}"] = {
            "action": "send",
            "summary": spec.summary,
            "channel": {"$ref": f"#/channels/{spec.publisher}"},
            "messages": [{"$ref": f"#/channels/{spec.publisher}/messages/{spec.type}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "SIP-trunk platform events",
            "version": version,
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
