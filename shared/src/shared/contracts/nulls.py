"""JSON null in a create body, read the way VoIPbin reads it.

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
    """Adds `null` to the field's JSON schema, keeping its own constraints."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [handler(core_schema), {"type": "null"}]}


def null_as(empty: Any) -> BeforeValidator:
    """Reads null as `empty` before the field's own (strict) validation."""
    return BeforeValidator(lambda value: empty if value is None else value)


# Text of a create body: null is "".
NullText = Annotated[str, null_as(""), AlsoNull()]
# Key/value object of a create body (tech_headers): null is {}.
NullHeaders = Annotated[
    dict[str, str], BeforeValidator(lambda v: {} if v is None else v), AlsoNull()
]
