"""Turning pydantic validation failures into one 400 that names the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import AppError, ErrorStatus

M = TypeVar("M", bound=BaseModel)


def field_name(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def to_app_error(exc: ValidationError) -> AppError:
    first = exc.errors(include_url=False)[0]
    field = field_name(tuple(first["loc"]))
    message = str(first["msg"])
    # "Value error, x" is pydantic's prefix for our own ValueErrors: keep only our words.
    message = message.removeprefix("Value error, ")
    return AppError(
        ErrorStatus.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        f"{field}: {message}",
        {"field": field},
    )


def parse_body(model: type[M], data: Any) -> M:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AppError(
            ErrorStatus.INVALID_ARGUMENT, "INVALID_JSON_BODY", "body must be a JSON object"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_app_error(exc) from None
