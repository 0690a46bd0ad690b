"""The RPC wire envelope and the route table (docs/architecture.md, section 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError
from shared.errors import AppError, ErrorStatus
from shared.rpc import Reply, Router, RpcContext, RpcRequest, RpcResponse


def test_request_shape() -> None:
    request = RpcRequest(uri="/v1/providers/x", method="GET", publisher="api-gateway")
    assert json.loads(request.model_dump_json()) == {
        "uri": "/v1/providers/x",
        "method": "GET",
        "publisher": "api-gateway",
        "request_id": None,
        "data_type": "application/json",
        "data": None,
    }


def test_request_parses_voipbin_envelope_and_ignores_extras() -> None:
    raw = json.dumps(
        {
            "uri": "/v1/providers?page_size=10",
            "method": "POST",
            "publisher": "other-service",
            "request_id": "r-1",
            "data_type": "application/json",
            "data": {"type": "sip"},
            "something_new": 1,
        }
    )
    request = RpcRequest.model_validate_json(raw)
    assert request.method == "POST"
    assert request.data == {"type": "sip"}
    assert request.publisher == "other-service"


@pytest.mark.parametrize(
    "raw",
    [
        "{}",
        '{"uri": "/v1/x"}',
        '{"uri": "/v1/x", "method": "FETCH"}',
        '{"uri": 5, "method": "GET"}',
        "not json",
        "[]",
    ],
)
def test_bad_requests_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        RpcRequest.model_validate_json(raw)


def test_response_shape_and_ok() -> None:
    ok = RpcResponse(status_code=200, data={"id": "x"})
    assert ok.ok
    assert json.loads(ok.model_dump_json()) == {
        "status_code": 200,
        "data_type": "application/json",
        "data": {"id": "x"},
    }
    assert RpcResponse(status_code=399).ok
    assert not RpcResponse(status_code=400).ok
    assert not RpcResponse(status_code=503).ok
    parsed = RpcResponse.model_validate_json(
        '{"status_code": 404, "data": {"status": "NOT_FOUND"}}'
    )
    assert parsed.data_type == "application/json"
    assert not parsed.ok


async def _handler(_: RpcContext) -> Any:
    return None


def _router() -> Router:
    router = Router()
    router.get("/v1/providers", _handler)
    router.post("/v1/providers", _handler)
    router.get("/v1/providers/{id}", _handler)
    router.put("/v1/providers/{id}", _handler)
    router.delete("/v1/providers/{id}", _handler)
    return router


def test_router_resolves_params_and_query() -> None:
    route, params, query = _router().resolve("get", "/v1/providers/abc?x=1&x=2&empty=")
    assert route.template == "/v1/providers/{id}"
    assert params == {"id": "abc"}
    assert query == {"x": "2", "empty": ""}  # the last value of a repeated name wins


def test_router_unknown_uri_is_404() -> None:
    with pytest.raises(AppError) as caught:
        _router().resolve("GET", "/v1/nothing")
    assert caught.value.status is ErrorStatus.NOT_FOUND
    with pytest.raises(AppError):
        _router().resolve("GET", "/v1/providers/a/b")  # {id} is one segment


def test_router_wrong_method_is_405() -> None:
    with pytest.raises(AppError) as caught:
        _router().resolve("PATCH", "/v1/providers/abc")
    assert caught.value.http_status == 405
    with pytest.raises(AppError) as caught:
        _router().resolve("DELETE", "/v1/providers")
    assert caught.value.http_status == 405


def test_context_body() -> None:
    def ctx(data: Any) -> RpcContext:
        return RpcContext("POST", "/v1/providers", {}, {}, data, None, "tests")

    assert ctx(None).body() == {}
    assert ctx({"a": 1}).body() == {"a": 1}
    with pytest.raises(AppError) as caught:
        ctx([1]).body()
    assert caught.value.reason == "INVALID_JSON_BODY"


def test_reply_defaults() -> None:
    assert Reply().status_code == 200
    assert Reply({"x": 1}, 201).data == {"x": 1}
