"""The OpenAPI 3.1 document, generated from the endpoint registry and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from shared.ids import UUID_SCHEMA

from api_gateway.endpoints import Endpoint

REF = "#/components/schemas/{model}"
SECURITY: list[dict[str, list[str]]] = [
    {"bearer": []},
    {"tokenQuery": []},
    {"tokenCookie": []},
    {"accesskey": []},
]


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=ref)}}}


class ErrorDetail(BaseModel):
    status: str
    reason: str
    message: str
    request_id: str | None = None
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


_ERRORS = {
    "400": "Invalid input (the message names the field)",
    "401": "Missing, expired or invalid credentials",
    "403": "The caller lacks the permission",
    "404": "Not found",
    "413": "Body over the size limit",
    "503": "The owning service is unavailable",
    "504": "The owning service did not answer in time",
}


DESCRIPTION = """\
The REST API of the SIP-trunk platform, in the seeds' (VoIPbin's) shapes.

- **Timestamps** (`tm_create`, `tm_update`, `tm_delete`, `checked_at`...) are UTC, written
  `YYYY-MM-DD HH:MM:SS.ffffff`, e.g. `2022-10-22 16:16:16.874761`. A provider or route not
  deleted has `tm_delete` `9999-01-01 00:00:00.000000`; a ProviderCall, call or groupcall has
  `null` until deleted.
- **Lists** are newest first. Every non-empty page carries `next_page_token` (the last
  item's position); follow it until a page comes back `{"result": [], "next_page_token": ""}`.
- **Errors** are `{"error": {"status", "reason", "message", "request_id", "details"?}}`. 400:
  the request is malformed (`details.field` names the field); 404: it names something that does
  not exist; 409: it conflicts with a request still running; 422: well formed, but the state of
  the platform or of a carrier refuses it (no route, no dialable destination, a rejected
  carrier key).
- **null** in a text field of a create body reads as `""`; in an update it keeps the stored
  value, like an absent field.
- **Events** the platform publishes are described at `/asyncapi.json`.
"""


def build_openapi(endpoints: list[Endpoint], version: str = "1.0.0") -> dict[str, Any]:
    models: list[type[BaseModel]] = [ErrorBody]
    for ep in endpoints:
        models += [m for m in (ep.body, ep.response) if m is not None and m not in models]
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Any] = top.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        op: dict[str, Any] = {
            "summary": ep.summary,
            "tags": [ep.tag],
            "operationId": _operation_id(ep),
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": REF.format(model=ep.response.__name__)}
                            if ep.response
                            else {}
                        }
                    },
                },
                **{
                    code: {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}
                        },
                    }
                    for code, text in sorted({**_ERRORS, **dict(ep.errors)}.items())
                },
            },
        }
        params = [
            {
                "name": q.name,
                "in": "query",
                "required": False,
                "description": q.description,
                "schema": dict(q.schema),
            }
            for q in ep.query
        ]
        params += [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", **UUID_SCHEMA},
            }
            for name in re.findall(r"\{(\w+)\}", ep.path)
        ]
        if params:
            op["parameters"] = params
        if ep.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=ep.body.__name__)}}
                },
            }
        if ep.permission is not None:
            op["security"] = [
                {"bearer": []},
                {"tokenQuery": []},
                {"tokenCookie": []},
                {"accesskey": []},
            ]
            op["description"] = f"Requires one of: {ep.permission!r}"
        else:
            op["security"] = []
        paths.setdefault(ep.path, {})[ep.method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {"title": "SIP-trunk platform API", "version": version, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "tokenQuery": {"type": "apiKey", "in": "query", "name": "token"},
                "tokenCookie": {"type": "apiKey", "in": "cookie", "name": "token"},
                "accesskey": {"type": "apiKey", "in": "query", "name": "accesskey"},
            },
        },
    }


def _operation_id(ep: Endpoint) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", ep.path.replace("{id}", "by_id")).strip("_")
    return f"{ep.method.lower()}_{words}"
