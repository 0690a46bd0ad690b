"""JSON bodies: depth is bounded, whatever the parser's own recursion limit."""

from __future__ import annotations

import json

import pytest
from api_gateway.json_limits import MAX_JSON_DEPTH, json_depth, parse_json
from shared.errors import AppError


def test_depth_of_values() -> None:
    assert json_depth(1) == 0
    assert json_depth([]) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4


def test_the_limit_itself_is_accepted_one_more_is_not() -> None:
    ok = json.dumps(_nest(MAX_JSON_DEPTH)).encode()
    assert json_depth(parse_json(ok)) == MAX_JSON_DEPTH
    with pytest.raises(AppError) as caught:
        parse_json(json.dumps(_nest(MAX_JSON_DEPTH + 1)).encode())
    assert caught.value.reason == "JSON_TOO_DEEP" and caught.value.http_status == 400


def test_parser_recursion_is_a_400() -> None:
    with pytest.raises(AppError) as caught:
        parse_json(b"[" * 200_000)
    assert caught.value.reason == "JSON_TOO_DEEP"
    with pytest.raises(AppError) as caught:
        parse_json(b"{not json")
    assert caught.value.reason == "INVALID_JSON_BODY"


def _nest(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value
