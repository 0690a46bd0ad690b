"""JSON values read the way JSON means them: null in a create body as VoIPbin reads it, and
whole numbers written as 5.0 as integers.

VoIPbin's clients send `"detail": null` where they mean "nothing"; a create reads null as the
field's empty value ("" for text, {} for headers). Updates need no help: there every field is
optional and null, like an absent field, keeps what is stored. The documents say `null` is
accepted (anyOf with null), so a generated client may send it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class AlsoNull:
    """Adds `null` to the field's JSON types, keeping its own constraints."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = dict(handler(core_schema))
        kind = schema.get("type")
        if isinstance(kind, str):
            # `"type": [..., "null"]`: what generators and validators read most reliably.
            schema["type"] = [kind, "null"]
            return schema
        return {"anyOf": [schema, {"type": "null"}]}


def null_as(empty: Any) -> BeforeValidator:
    """Reads null as `empty` before the field's own (strict) validation."""
    return BeforeValidator(lambda value: empty if value is None else value)


def _whole_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


class _JsonBounds:
    """Bounds under their JSON Schema names: behind a before-validator inside an Optional,
    pydantic leaves them as `ge`/`le`, which no JSON Schema reader knows."""

    _NAMES = {
        "ge": "minimum",
        "le": "maximum",
        "gt": "exclusiveMinimum",
        "lt": "exclusiveMaximum",
    }

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        return {self._NAMES.get(key, key): value for key, value in schema.items()}


# An integer as JSON Schema means it: 5.0 is the integer 5 (strict mode alone refuses it).
JsonInt = Annotated[int, BeforeValidator(_whole_number), _JsonBounds()]

# Text of a create body: null is "".
NullText = Annotated[str, null_as(""), AlsoNull()]
# Key/value object of a create body (tech_headers): null is {}.
NullHeaders = Annotated[
    dict[str, str], BeforeValidator(lambda v: {} if v is None else v), AlsoNull()
]
