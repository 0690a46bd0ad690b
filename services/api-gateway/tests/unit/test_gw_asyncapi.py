"""The AsyncAPI document: every declared event, each example valid against its schema, and
every event type the services' code emits declared (the outbox refuses any other)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, get_args

import pytest
from api_gateway.asyncapi import build_asyncapi
from call_manager.calls.states import event_type
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from shared.contracts.calls import CallStatus
from shared.contracts.events import CATALOG, UnknownEvent
from shared.events import add_events
from sqlalchemy import Column, MetaData, String, Table

SERVICES = Path(__file__).resolve().parents[3]


def _document() -> dict[str, Any]:
    return build_asyncapi(lambda service: f"bin-manager.{service}.event")


def _validator(document: dict[str, Any], ref: str) -> Draft202012Validator:
    root: Resource[Any] = DRAFT202012.create_resource(document)
    registry: Registry[Any] = Registry().with_resource("urn:asyncapi", root)
    return Draft202012Validator({"$ref": f"urn:asyncapi{ref}"}, registry=registry)


def test_every_declared_event_is_documented_on_its_exchange() -> None:
    document = _document()
    assert document["asyncapi"] == "3.0.0"
    assert "YYYY-MM-DD HH:MM:SS.ffffff" in document["info"]["description"]
    specs = list(CATALOG)
    assert len(specs) >= 20
    for spec in specs:
        channel = document["channels"][spec.publisher]
        assert channel["address"] == f"bin-manager.{spec.publisher}.event"
        assert channel["bindings"]["amqp"]["exchange"]["type"] == "fanout"
        assert spec.type in channel["messages"]
        message = document["components"]["messages"][spec.type]
        assert message["payload"]["$ref"].endswith(f"/{spec.type}_event")
        operation = document["operations"][f"publish_{spec.type}"]
        assert operation["action"] == "send"


def test_every_example_is_valid_against_its_schema() -> None:
    document = _document()
    for name, message in document["components"]["messages"].items():
        validator = _validator(document, message["payload"]["$ref"])
        for example in message["examples"]:
            errors = list(validator.iter_errors(example["payload"]))
            assert not errors, (name, errors[0].message)
        # A wrong type is refused: the schema pins it.
        wrong = {**message["examples"][0]["payload"], "type": "something_else"}
        assert not validator.is_valid(wrong)


def test_every_call_status_has_its_event() -> None:
    for status in get_args(CallStatus):
        assert event_type(status) in CATALOG


def _constants(paths: list[Path]) -> dict[str, str]:
    """Module-level string constants of these files (REGISTRATION_CHANGED = "...")."""
    found: dict[str, str] = {}
    for path in paths:
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
    return found


def _emitted_literals(path: Path, constants: dict[str, str]) -> set[str]:
    """Event types written as literals where code emits events: add_event(..., "type", ...),
    ("type", data) pairs, and the event argument of call-manager's groupcall updates."""
    tree = ast.parse(path.read_text())

    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in {"add_event", "_update"}:
                found |= {w for a in node.args if (w := text(a)) is not None and "_" in w}
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            word = text(node.elts[0])
            if word and word.split("_")[0] in {
                "provider",
                "route",
                "providercall",
                "call",
                "groupcall",
            }:
                found.add(word)
    return found


def test_every_event_type_in_the_code_is_declared() -> None:
    sources = list(SERVICES.glob("*/src/**/*.py"))
    emitting = [
        path
        for path in sources
        if "add_event" in path.read_text() or "groupcall_" in path.read_text()
    ]
    assert emitting
    constants = _constants(sources)
    literals = set().union(*(_emitted_literals(path, constants) for path in emitting))
    assert {
        "provider_created",
        "call_created",
        "groupcall_hangingup",
        "provider_health_changed",
        "provider_registration_changed",
        "provider_probes_recorded",
    } <= literals
    undeclared = {word for word in literals if word not in CATALOG}
    # Pairs that are not events (e.g. ("call_id", value)) are not event-shaped verbs.
    undeclared = {w for w in undeclared if not w.endswith(("_id", "_ids", "_count"))}
    assert not undeclared, f"emitted but not in shared.contracts.events: {sorted(undeclared)}"


async def test_the_outbox_refuses_an_undeclared_event() -> None:
    table = Table("outbox", MetaData(), Column("id", String))
    with pytest.raises(UnknownEvent):
        # Refused before the session is used at all.
        await add_events(None, table, "provider-manager", [("provider_exploded", {})])  # type: ignore[arg-type]
    with pytest.raises(UnknownEvent):
        await add_events(None, table, "call-manager", [("provider_created", {})])  # type: ignore[arg-type]
