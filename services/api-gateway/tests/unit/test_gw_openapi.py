"""The OpenAPI document is built from the endpoint registry and is valid OpenAPI 3.1."""

from __future__ import annotations

from typing import Any

from api_gateway.openapi import build_openapi
from api_gateway.routes import ENDPOINTS
from openapi_spec_validator import validate

from tests.support.providers import PROVIDER_FIELDS


def test_document_is_valid_openapi_31() -> None:
    document = build_openapi(ENDPOINTS)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_endpoint_is_documented_with_its_models() -> None:
    document: dict[str, Any] = build_openapi(ENDPOINTS)
    schemas = document["components"]["schemas"]
    for ep in ENDPOINTS:
        op = document["paths"][ep.path][ep.method.lower()]
        if ep.response is not None:
            ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == f"#/components/schemas/{ep.response.__name__}"
            assert ep.response.__name__ in schemas
        if ep.body is not None:
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith(ep.body.__name__)
        # Every protected route names how to authenticate; login is public.
        assert bool(op["security"]) == (ep.permission is not None)
    provider_fields = set(schemas["Provider"]["properties"])
    assert "auth_password" not in provider_fields  # write-only (issue 9)
    assert provider_fields == PROVIDER_FIELDS
    create = schemas["ProviderCreate"]
    assert set(create["required"]) == {"type", "hostname"}
    name = create["properties"]["name"]
    assert (name["type"], name["maxLength"]) == (["string", "null"], 255)
    assert name["not"] == {"type": "string", "pattern": "\\x00"}
