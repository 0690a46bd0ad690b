"""A fake of the Telnyx API v2 subset used by provider setup, for tests.

Faithful to the public docs (see the research notes ``../shared/research/telnyx-and-peers.md``,
sections 1-8):

* ``Authorization: Bearer <key>``; errors use ``{"errors": [{code, title, detail, source, meta}]}``
  with 401/10009, 403/10010, 404/10005, 422/10015, 429/10011.
* ``GET /v2/balance`` (read-only key check).
* Outbound voice profiles: ``POST`` answers **200**; ``GET`` list/one; ``DELETE`` answers 200 with
  the deleted object.
* IP connections and IPs: ``POST`` answers **201**; ``GET`` list/one; ``DELETE`` 200 with object.
* List endpoints: ``page[number]``/``page[size]`` and ``meta {page_number, page_size, total_pages,
  total_results}``; filters ``filter[name][contains]`` and ``filter[tag]`` (OVPs),
  ``filter[connection_name][contains]``, ``filter[tag]``, ``filter[outbound_voice_profile_id]``
  (connections), ``filter[connection_id]``, ``filter[ip_address]``, ``filter[port]`` (IPs).

Behaviour that is *not* documented by Telnyx is configurable: refusing to delete a parent that
still has children, the "unapproved countries" 422, and filters the real API might ignore.

Keys: every key belongs to an account (resources are invisible across accounts) and has a mode:
``"ok"``, ``"restricted"`` (403/10010 on ``/balance`` only: no billing access) or ``"forbidden"``
(403 everywhere). Unknown keys get 401/10009. The fake never echoes or logs a key: the request log
records only the key's *kind* (``auth`` field).

In-process use::

    async with FakeTelnyx() as fake:
        client = TelnyxClient(api_key=VALID_KEY, base_url=fake.base_url)
        fake.add_fault(method="POST", path="/v2/ips", action="error", status=503, times=2)
        ...
        assert fake.calls() == [("POST", "/v2/outbound_voice_profiles"), ...]

Separate process (e.g. for crash tests; prints ``FAKE_TELNYX_READY <base_url>`` when listening)::

    python -m tests.support.telnyx_fake --port 0

or :class:`FakeTelnyxProcess`, with :class:`FakeTelnyxAdmin` to drive the admin endpoints:

* ``GET  /_fake/state``     resources (with ``_account``), config, faults, request log
* ``GET  /_fake/requests``  request log only
* ``POST /_fake/config``    ``{"unapproved_countries", "refuse_delete_with_children",
  "ignored_filters", "ratelimit_limit", "keys": [{"key", "mode", "account"}], "faults": [...],
  "clear_faults", "clear_requests"}`` (keys are accepted, never returned)
* ``POST /_fake/faults``    one fault object or a list; ``DELETE /_fake/faults`` clears them
* ``POST /_fake/reset``     forget resources, faults and the request log (keys and config stay)

Fault actions (matched by method and route template such as ``/v2/ips/{id}``, concrete path, or
``*``; ``skip`` matching calls pass through first, then the fault fires ``times`` times, ``None``
meaning forever):

* ``error``             answer ``status`` without acting (429 carries ``x-ratelimit-*`` headers and
                        optionally ``retry-after``; ``envelope=False`` answers a non-JSON body like
                        a load balancer would)
* ``delay``             sleep ``delay`` seconds, then act normally (nothing happens if the client
                        gives up first: handlers are cancelled on disconnect)
* ``commit_then_delay`` act, then sleep before answering (a client timeout is ambiguous)
* ``commit_then_drop``  act, then drop the connection without answering (ambiguous POST)
* ``drop``              drop the connection without acting
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import ipaddress
import itertools
import json
import math
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

import aiohttp
from aiohttp import web
from shared.sip.testing.lifecycle import StartedInBlock

API_PREFIX = "/v2"
ADMIN_PREFIX = "/_fake"
READY_MARKER = "FAKE_TELNYX_READY"

#: Default keys registered by :class:`FakeTelnyx` and the standalone server (fake values).
VALID_KEY = "KEYfake0valid0b3a1c9e7d5f2468ace013579bdf"
RESTRICTED_KEY = "KEYfake0restricted0e1d2c3b4a5968778695a4b3"
FORBIDDEN_KEY = "KEYfake0forbidden07f6e5d4c3b2a1908172635445"
DEFAULT_ACCOUNT = "acct-default"

KeyMode = Literal["ok", "restricted", "forbidden"]
FaultAction = Literal["error", "delay", "commit_then_delay", "commit_then_drop", "drop"]
_FAULT_ACTIONS: tuple[str, ...] = get_args(FaultAction)
_KEY_MODES: tuple[str, ...] = get_args(KeyMode)

JSONDict = dict[str, Any]

_TRAFFIC_TYPES = ("conversational",)
_SERVICE_PLANS = ("global",)
_USAGE_PAYMENT_METHODS = ("rate-deck",)
_ANI_FORMATS = ("+E.164", "E.164", "+E.164-national", "E.164-national")
_DNIS_FORMATS = ("+e164", "e164", "national", "sip_username")
_TRANSPORTS = ("UDP", "TCP", "TLS")
_IP_AUTH_METHODS = ("tech-prefixp-charge-info", "token")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9-]{12,48}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_MAX_PAGE_SIZE = 250
_ERROR_DOC_URL = "https://developers.telnyx.com/docs/overview/errors/{code}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# Errors


class FakeApiError(Exception):
    """Raised inside handlers; rendered as a Telnyx error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {title}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.headers = dict(headers or {})

    def envelope(self) -> JSONDict:
        err: JSONDict = {
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "meta": {"url": _ERROR_DOC_URL.format(code=self.code)},
        }
        if self.pointer is not None:
            err["source"] = {"pointer": self.pointer}
        elif self.parameter is not None:
            err["source"] = {"parameter": self.parameter}
        return {"errors": [err]}

    def response(self) -> web.Response:
        return web.json_response(self.envelope(), status=self.status, headers=self.headers)


def _unprocessable(
    detail: str, *, pointer: str | None = None, parameter: str | None = None
) -> FakeApiError:
    return FakeApiError(422, "10015", "Bad Request", detail, pointer=pointer, parameter=parameter)


def _not_found() -> FakeApiError:
    return FakeApiError(
        404,
        "10005",
        "Resource not found",
        "The requested resource or URL could not be found.",
    )


def _unauthenticated(*, missing: bool) -> FakeApiError:
    detail = (
        "The required authentication headers were either invalid or not included in the request."
        if missing
        else "Could not understand the provided credentials."
    )
    return FakeApiError(401, "10009", "Authentication failed", detail)


def _forbidden() -> FakeApiError:
    return FakeApiError(
        403,
        "10010",
        "Not authorized",
        "You are not authorized to access the requested resource.",
        pointer="/",
    )


_STATUS_TITLES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    429: "Too many requests",
    408: "Request Timeout",
    409: "Conflict",
}


# --------------------------------------------------------------------------------------------
# Configuration, faults and the request log


@dataclass
class KeyEntry:
    mode: KeyMode = "ok"
    account: str = DEFAULT_ACCOUNT


@dataclass
class Fault:
    """One injected fault. See the module docstring for the actions."""

    method: str = "*"
    path: str = "*"
    action: FaultAction = "error"
    status: int = 503
    times: int | None = 1
    skip: int = 0
    delay: float = 0.0
    envelope: bool = True
    ratelimit_reset: float = 1.0
    retry_after: float | None = None
    label: str = ""
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.action not in _FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or None")
        if self.skip < 0 or self.delay < 0:
            raise ValueError("skip and delay must be >= 0")
        self.method = self.method.upper()
        if not self.label:
            self.label = f"{self.action}:{self.status if self.action == 'error' else self.delay}"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Fault:
        names = {f.name for f in dataclasses.fields(cls)} - {"seen", "fired"}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**dict(raw))

    def to_json(self) -> JSONDict:
        return dataclasses.asdict(self)

    def matches(self, method: str, route: str, path: str) -> bool:
        return self.method in ("*", method) and self.path in ("*", route, path)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def consider(self) -> bool:
        """Count a matching call; return True when the fault fires for it."""
        if self.exhausted:
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        self.fired += 1
        return True


@dataclass
class RequestRecord:
    """One request as the fake saw it. Never contains the API key.

    ``route`` is the route template (``/v2/ips/{id}``); ``auth`` the key's kind (``ok``,
    ``restricted``, ``forbidden``, ``unknown``, ``missing``); ``status`` what the fake answered or
    would have answered (``None`` if it never got that far); ``fault`` the label of the fault that
    fired; ``dropped`` whether the connection was cut instead of answering; ``cancelled`` whether
    the client went away while the fake was still working (e.g. during a delay).
    """

    seq: int
    method: str
    path: str
    route: str
    query: dict[str, str]
    json: Any
    auth: str
    status: int | None = None
    fault: str | None = None
    dropped: bool = False
    cancelled: bool = False

    def to_json(self) -> JSONDict:
        return dataclasses.asdict(self)


@dataclass
class _Resource:
    account: str
    data: JSONDict


@dataclass
class FakeConfig:
    unapproved_countries: list[str] = field(default_factory=list)
    refuse_delete_with_children: bool = True
    #: filter query parameters to ignore (to mimic an API that silently ignores a filter)
    ignored_filters: list[str] = field(default_factory=list)
    ratelimit_limit: int = 100

    def to_json(self) -> JSONDict:
        return dataclasses.asdict(self)


class FakeTelnyxState:
    """All mutable state of one fake server (keys, resources, faults, request log)."""

    def __init__(
        self,
        *,
        keys: Mapping[str, KeyMode | KeyEntry] | None = None,
        config: FakeConfig | None = None,
    ) -> None:
        self.keys: dict[str, KeyEntry] = {}
        for key, entry in (keys if keys is not None else default_keys()).items():
            self.set_key(key, entry)
        self.config = config or FakeConfig()
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self.ovps: dict[str, _Resource] = {}
        self.connections: dict[str, _Resource] = {}
        self.ips: dict[str, _Resource] = {}
        self._seq = itertools.count(1)
        self._ids = itertools.count(1_293_384_261_075_731_001)

    # -- keys / config -----------------------------------------------------------------

    def set_key(
        self, key: str, entry: KeyMode | KeyEntry = "ok", account: str | None = None
    ) -> None:
        if not isinstance(entry, KeyEntry):
            if entry not in _KEY_MODES:
                raise ValueError("unknown key mode")
            entry = KeyEntry(mode=entry, account=account or DEFAULT_ACCOUNT)
        self.keys[key] = entry

    def add_fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def reset(self) -> None:
        self.faults.clear()
        self.requests.clear()
        self.ovps.clear()
        self.connections.clear()
        self.ips.clear()

    def new_numeric_id(self) -> str:
        return str(next(self._ids))

    def next_seq(self) -> int:
        return next(self._seq)

    def match_fault(self, method: str, route: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, route, path) and fault.consider():
                return fault
        return None

    # -- relationships -----------------------------------------------------------------

    def refresh_counts(self) -> None:
        counts: dict[str, int] = {}
        for conn in self.connections.values():
            ovp_id = conn.data["outbound"].get("outbound_voice_profile_id")
            if ovp_id is not None:
                counts[ovp_id] = counts.get(ovp_id, 0) + 1
        for ovp_id, ovp in self.ovps.items():
            ovp.data["connections_count"] = counts.get(ovp_id, 0)

    # -- inspection ----------------------------------------------------------------------

    def snapshot(self) -> JSONDict:
        def dump(items: Mapping[str, _Resource]) -> list[JSONDict]:
            return [{**r.data, "_account": r.account} for r in items.values()]

        return {
            "outbound_voice_profiles": dump(self.ovps),
            "ip_connections": dump(self.connections),
            "ips": dump(self.ips),
            "config": self.config.to_json(),
            "faults": [f.to_json() for f in self.faults],
            "keys": {"count": len(self.keys)},
            "requests": [r.to_json() for r in self.requests],
        }

    def apply_config(self, body: Mapping[str, Any]) -> None:
        """Apply a ``POST /_fake/config`` body (validated before anything changes)."""
        allowed = {
            "unapproved_countries",
            "refuse_delete_with_children",
            "ignored_filters",
            "ratelimit_limit",
            "keys",
            "faults",
            "clear_faults",
            "clear_requests",
        }
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        faults = [Fault.from_json(f) for f in body.get("faults", [])]
        keys: list[tuple[str, KeyEntry]] = []
        for raw in body.get("keys", []):
            if not isinstance(raw, dict):
                raise ValueError("each key must be an object {key, mode, account}")
            mode = raw.get("mode", "ok")
            if not isinstance(raw.get("key"), str) or mode not in _KEY_MODES:
                raise ValueError("each key needs a string 'key' and a valid 'mode'")
            keys.append(
                (raw["key"], KeyEntry(mode=mode, account=raw.get("account", DEFAULT_ACCOUNT)))
            )
        if "unapproved_countries" in body:
            self.config.unapproved_countries = [
                str(c).upper() for c in body["unapproved_countries"]
            ]
        if "refuse_delete_with_children" in body:
            self.config.refuse_delete_with_children = bool(body["refuse_delete_with_children"])
        if "ignored_filters" in body:
            self.config.ignored_filters = [str(f) for f in body["ignored_filters"]]
        if "ratelimit_limit" in body:
            self.config.ratelimit_limit = int(body["ratelimit_limit"])
        for key, entry in keys:
            self.keys[key] = entry
        if body.get("clear_faults"):
            self.faults.clear()
        if body.get("clear_requests"):
            self.requests.clear()
        self.faults.extend(faults)


def default_keys() -> dict[str, KeyMode | KeyEntry]:
    return {VALID_KEY: "ok", RESTRICTED_KEY: "restricted", FORBIDDEN_KEY: "forbidden"}


# --------------------------------------------------------------------------------------------
# Helpers for handlers

STATE: web.AppKey[FakeTelnyxState] = web.AppKey("fake_telnyx_state", FakeTelnyxState)
_BODY: web.RequestKey[Any] = web.RequestKey("fake_telnyx_body", object)
_ACCOUNT: web.RequestKey[str] = web.RequestKey("fake_telnyx_account", str)


def _state(request: web.Request) -> FakeTelnyxState:
    return request.app[STATE]


def _body(request: web.Request) -> JSONDict:
    body = request.get(_BODY)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _unprocessable("The request body must be a JSON object.", pointer="/")
    return body


def _data(data: JSONDict, status: int = 200) -> web.Response:
    return web.json_response({"data": data}, status=status)


def _require_str(body: Mapping[str, Any], key: str, pointer: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise _unprocessable(f"{key} is required", pointer=pointer)
        return None
    if not isinstance(value, str):
        raise _unprocessable(f"{key} must be a string", pointer=pointer)
    return value


def _enum(
    body: Mapping[str, Any],
    key: str,
    allowed: Sequence[str],
    default: str,
    pointer: str,
    label: str,
) -> str:
    value = body.get(key, default)
    if value not in allowed:
        raise _unprocessable(
            f"Invalid {label}: {value}, was provided. Acceptable formats are {', '.join(allowed)}",
            pointer=pointer,
        )
    return str(value)


def _tags(body: Mapping[str, Any]) -> list[str]:
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _unprocessable("tags must be a list of strings", pointer="/tags")
    return list(tags)


def _bool(body: Mapping[str, Any], key: str, default: bool, pointer: str) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise _unprocessable(f"{key} must be a boolean", pointer=pointer)
    return value


def _owned(items: Mapping[str, _Resource], request: web.Request) -> _Resource:
    res = items.get(request.match_info["id"])
    if res is None or res.account != request[_ACCOUNT]:
        raise _not_found()
    return res


def _int_param(request: web.Request, name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _unprocessable(f"{name} must be an integer", parameter=name) from None
    if not lo <= value <= hi:
        raise _unprocessable(f"{name} must be between {lo} and {hi}", parameter=name)
    return value


def _filter(request: web.Request, name: str) -> str | None:
    if name in _state(request).config.ignored_filters:
        return None
    return request.query.get(name)


def _paginate(
    request: web.Request, items: Iterable[_Resource], *, default_size: int, sort_keys: Sequence[str]
) -> web.Response:
    page_number = _int_param(request, "page[number]", 1, lo=1, hi=1_000_000)
    page_size = _int_param(request, "page[size]", default_size, lo=1, hi=_MAX_PAGE_SIZE)
    rows = [r.data for r in items if r.account == request[_ACCOUNT]]
    sort = request.query.get("sort")
    if sort is not None:
        key = sort.removeprefix("-")
        if key not in sort_keys:
            raise _unprocessable(f"sort must be one of {', '.join(sort_keys)}", parameter="sort")
        rows.sort(key=lambda r: str(r.get(key)), reverse=sort.startswith("-"))
    total = len(rows)
    start = (page_number - 1) * page_size
    return web.json_response(
        {
            "data": rows[start : start + page_size],
            "meta": {
                "page_number": page_number,
                "page_size": page_size,
                "total_pages": math.ceil(total / page_size),
                "total_results": total,
            },
        }
    )


# --------------------------------------------------------------------------------------------
# API handlers


async def _balance(request: web.Request) -> web.Response:
    return _data(
        {
            "record_type": "balance",
            "balance": "300.00",
            "pending": "0.00",
            "credit_limit": "0.00",
            "available_credit": "300.00",
            "currency": "USD",
        }
    )


async def _create_ovp(request: web.Request) -> web.Response:
    state = _state(request)
    body = _body(request)
    name = _require_str(body, "name", "/name", required=True)
    assert name is not None
    if len(name) < 3:
        raise _unprocessable("name is too short (minimum is 3 characters)", pointer="/name")
    traffic_type = _enum(
        body, "traffic_type", _TRAFFIC_TYPES, "conversational", "/traffic_type", "traffic_type"
    )
    service_plan = _enum(
        body, "service_plan", _SERVICE_PLANS, "global", "/service_plan", "service_plan"
    )
    payment = _enum(
        body,
        "usage_payment_method",
        _USAGE_PAYMENT_METHODS,
        "rate-deck",
        "/usage_payment_method",
        "usage_payment_method",
    )
    destinations = body.get("whitelisted_destinations", ["US", "CA"])
    if not isinstance(destinations, list) or not all(
        isinstance(c, str) and _COUNTRY_RE.match(c) for c in destinations
    ):
        raise _unprocessable(
            "whitelisted_destinations must be a list of ISO 3166-1 alpha-2 country codes",
            pointer="/whitelisted_destinations",
        )
    unapproved = [c for c in destinations if c in state.config.unapproved_countries]
    if unapproved:
        raise _unprocessable(
            "You must have your account approved by Telnyx to use the following countries: "
            + ", ".join(unapproved),
            pointer="/whitelisted_destinations",
        )
    ts = _now()
    data: JSONDict = {
        "id": state.new_numeric_id(),
        "record_type": "outbound_voice_profile",
        "name": name,
        "connections_count": 0,
        "traffic_type": traffic_type,
        "service_plan": service_plan,
        "usage_payment_method": payment,
        "whitelisted_destinations": list(destinations),
        "tags": _tags(body),
        "enabled": _bool(body, "enabled", True, "/enabled"),
        "concurrent_call_limit": body.get("concurrent_call_limit"),
        "daily_spend_limit": body.get("daily_spend_limit"),
        "daily_spend_limit_enabled": _bool(
            body, "daily_spend_limit_enabled", False, "/daily_spend_limit_enabled"
        ),
        "max_destination_rate": body.get("max_destination_rate"),
        "billing_group_id": body.get("billing_group_id"),
        "call_recording": {
            "call_recording_type": "none",
            "call_recording_caller_phone_numbers": [],
            "call_recording_channels": "single",
            "call_recording_format": "wav",
        },
        "created_at": ts,
        "updated_at": ts,
    }
    state.ovps[data["id"]] = _Resource(request[_ACCOUNT], data)
    return _data(data, status=200)  # Telnyx answers 200 (not 201) here


async def _list_ovps(request: web.Request) -> web.Response:
    state = _state(request)
    contains = _filter(request, "filter[name][contains]")
    tag = _filter(request, "filter[tag]")
    items = [
        r
        for r in state.ovps.values()
        if (contains is None or contains.lower() in r.data["name"].lower())
        and (tag is None or tag in r.data["tags"])
    ]
    return _paginate(request, items, default_size=20, sort_keys=("created_at", "name", "enabled"))


async def _get_ovp(request: web.Request) -> web.Response:
    return _data(_owned(_state(request).ovps, request).data)


async def _delete_ovp(request: web.Request) -> web.Response:
    state = _state(request)
    res = _owned(state.ovps, request)
    attached = [
        c
        for c in state.connections.values()
        if c.data["outbound"]["outbound_voice_profile_id"] == res.data["id"]
    ]
    if attached and state.config.refuse_delete_with_children:
        raise _unprocessable(
            f"Outbound voice profile is assigned to {len(attached)} connection(s); "
            "remove it from those connections first",
            pointer="/id",
        )
    for conn in attached:
        conn.data["outbound"]["outbound_voice_profile_id"] = None
    del state.ovps[res.data["id"]]
    state.refresh_counts()
    return _data(res.data)


def _connection_fields(state: FakeTelnyxState, account: str, body: Mapping[str, Any]) -> JSONDict:
    inbound_raw = body.get("inbound", {})
    outbound_raw = body.get("outbound", {})
    if not isinstance(inbound_raw, dict):
        raise _unprocessable("inbound must be an object", pointer="/inbound")
    if not isinstance(outbound_raw, dict):
        raise _unprocessable("outbound must be an object", pointer="/outbound")
    name = _require_str(body, "connection_name", "/connection_name", required=False)
    transport = _enum(
        body, "transport_protocol", _TRANSPORTS, "UDP", "/transport_protocol", "transport_protocol"
    )
    ani = _enum(
        inbound_raw,
        "ani_number_format",
        _ANI_FORMATS,
        "E.164-national",
        "/inbound/ani_number_format",
        "ani_format",
    )
    dnis = _enum(
        inbound_raw,
        "dnis_number_format",
        _DNIS_FORMATS,
        "e164",
        "/inbound/dnis_number_format",
        "dnis_format",
    )
    ovp_id = outbound_raw.get("outbound_voice_profile_id")
    if ovp_id is not None:
        ovp = state.ovps.get(str(ovp_id))
        if ovp is None or ovp.account != account:
            raise _unprocessable(
                "Outbound voice profile not found.", pointer="/outbound/outbound_voice_profile_id"
            )
        ovp_id = str(ovp_id)
    method = _enum(
        outbound_raw,
        "ip_authentication_method",
        _IP_AUTH_METHODS,
        "tech-prefixp-charge-info",
        "/outbound/ip_authentication_method",
        "ip_authentication_method",
    )
    token = outbound_raw.get("ip_authentication_token")
    if token is not None:
        if not isinstance(token, str) or not _TOKEN_RE.match(token):
            raise _unprocessable(
                "ip_authentication_token must be 12-48 characters of letters, digits and '-'",
                pointer="/outbound/ip_authentication_token",
            )
        if any(
            c.data["outbound"].get("ip_authentication_token") == token
            for c in state.connections.values()
        ):
            raise _unprocessable(
                "ip_authentication_token has already been taken",
                pointer="/outbound/ip_authentication_token",
            )
    tech_prefix = outbound_raw.get("tech_prefix", "")
    if tech_prefix not in ("", None) and not (
        isinstance(tech_prefix, str) and re.fullmatch(r"\d{4}", tech_prefix)
    ):
        raise _unprocessable(
            "tech_prefix must be exactly 4 numeric characters", pointer="/outbound/tech_prefix"
        )
    return {
        "connection_name": name,
        "active": _bool(body, "active", True, "/active"),
        "transport_protocol": transport,
        "tags": _tags(body),
        "anchorsite_override": body.get("anchorsite_override", "Latency"),
        "dtmf_type": body.get("dtmf_type", "RFC 2833"),
        "encrypted_media": body.get("encrypted_media"),
        "onnet_t38_passthrough_enabled": False,
        "webhook_event_url": body.get("webhook_event_url"),
        "webhook_event_failover_url": body.get("webhook_event_failover_url"),
        "webhook_api_version": body.get("webhook_api_version", "1"),
        "webhook_timeout_secs": body.get("webhook_timeout_secs"),
        "inbound": {
            "ani_number_format": ani,
            "dnis_number_format": dnis,
            "codecs": inbound_raw.get(
                "codecs", ["G722", "G711U", "G711A", "G729", "OPUS", "H.264"]
            ),
            "default_routing_method": inbound_raw.get("default_routing_method", "sequential"),
            "default_primary_ip_id": None,
            "default_secondary_ip_id": None,
            "default_tertiary_ip_id": None,
            "channel_limit": inbound_raw.get("channel_limit"),
            "sip_region": inbound_raw.get("sip_region", "US"),
            "sip_subdomain": inbound_raw.get("sip_subdomain"),
            "timeout_1xx_secs": inbound_raw.get("timeout_1xx_secs", 3),
            "timeout_2xx_secs": inbound_raw.get("timeout_2xx_secs", 90),
            "shaken_stir_enabled": inbound_raw.get("shaken_stir_enabled", False),
        },
        "outbound": {
            "outbound_voice_profile_id": ovp_id,
            "ip_authentication_method": method,
            "ip_authentication_token": token,
            "tech_prefix": tech_prefix or "",
            "channel_limit": outbound_raw.get("channel_limit"),
            "ani_override": outbound_raw.get("ani_override", ""),
            "ani_override_type": outbound_raw.get("ani_override_type", "always"),
            "localization": outbound_raw.get("localization", "US"),
            "call_parking_enabled": outbound_raw.get("call_parking_enabled", False),
            "instant_ringback_enabled": outbound_raw.get("instant_ringback_enabled", True),
            "generate_ringback_tone": outbound_raw.get("generate_ringback_tone", False),
            "t38_reinvite_source": outbound_raw.get("t38_reinvite_source", "customer"),
        },
    }


async def _create_connection(request: web.Request) -> web.Response:
    state = _state(request)
    fields = _connection_fields(state, request[_ACCOUNT], _body(request))
    ts = _now()
    data: JSONDict = {"id": state.new_numeric_id(), "record_type": "ip_connection", **fields}
    data["created_at"] = data["updated_at"] = ts
    state.connections[data["id"]] = _Resource(request[_ACCOUNT], data)
    state.refresh_counts()
    return _data(data, status=201)


async def _list_connections(request: web.Request) -> web.Response:
    state = _state(request)
    contains = _filter(request, "filter[connection_name][contains]")
    if contains is not None and len(contains) < 3:
        raise _unprocessable(
            "filter[connection_name][contains] must be at least 3 characters",
            parameter="filter[connection_name][contains]",
        )
    tag = _filter(request, "filter[tag]")
    ovp_id = _filter(request, "filter[outbound_voice_profile_id]")
    items = [
        r
        for r in state.connections.values()
        if (contains is None or contains.lower() in (r.data["connection_name"] or "").lower())
        and (tag is None or tag in r.data["tags"])
        and (ovp_id is None or r.data["outbound"]["outbound_voice_profile_id"] == ovp_id)
    ]
    return _paginate(
        request, items, default_size=250, sort_keys=("created_at", "connection_name", "active")
    )


async def _get_connection(request: web.Request) -> web.Response:
    return _data(_owned(_state(request).connections, request).data)


async def _delete_connection(request: web.Request) -> web.Response:
    state = _state(request)
    res = _owned(state.connections, request)
    ips = [ip for ip in state.ips.values() if ip.data["connection_id"] == res.data["id"]]
    if ips and state.config.refuse_delete_with_children:
        raise _unprocessable(
            f"Connection still has {len(ips)} IP(s) assigned; delete them first", pointer="/id"
        )
    for ip in ips:
        ip.data["connection_id"] = None
    del state.connections[res.data["id"]]
    state.refresh_counts()
    return _data(res.data)


async def _create_ip(request: web.Request) -> web.Response:
    state = _state(request)
    body = _body(request)
    account = request[_ACCOUNT]
    address = _require_str(body, "ip_address", "/ip_address", required=True)
    assert address is not None
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise _unprocessable(
            "ip_address must be a valid IPv4 address", pointer="/ip_address"
        ) from None
    connection_id = body.get("connection_id")
    if connection_id is not None:
        conn = state.connections.get(str(connection_id))
        if conn is None or conn.account != account:
            raise _unprocessable("Connection not found.", pointer="/connection_id")
        connection_id = str(connection_id)
    port = body.get("port", 5060)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise _unprocessable("port must be an integer between 1 and 65535", pointer="/port")
    ts = _now()
    data: JSONDict = {
        "id": str(uuid.uuid4()),
        "record_type": "ip",
        "connection_id": connection_id,
        "ip_address": address,
        "port": port,
        "created_at": ts,
        "updated_at": ts,
    }
    state.ips[data["id"]] = _Resource(account, data)
    return _data(data, status=201)


async def _list_ips(request: web.Request) -> web.Response:
    state = _state(request)
    connection_id = _filter(request, "filter[connection_id]")
    address = _filter(request, "filter[ip_address]")
    port = _filter(request, "filter[port]")
    items = [
        r
        for r in state.ips.values()
        if (connection_id is None or r.data["connection_id"] == connection_id)
        and (address is None or r.data["ip_address"] == address)
        and (port is None or str(r.data["port"]) == port)
    ]
    return _paginate(request, items, default_size=250, sort_keys=("created_at", "ip_address"))


async def _get_ip(request: web.Request) -> web.Response:
    return _data(_owned(_state(request).ips, request).data)


async def _delete_ip(request: web.Request) -> web.Response:
    state = _state(request)
    res = _owned(state.ips, request)
    del state.ips[res.data["id"]]
    return _data(res.data)


# --------------------------------------------------------------------------------------------
# Middleware: request log, faults, auth, error envelopes


def _auth(state: FakeTelnyxState, request: web.Request) -> tuple[str, KeyEntry | None]:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return "missing", None
    entry = state.keys.get(key.strip())
    if entry is None:
        return "unknown", None
    return entry.mode, entry


def _fault_response(state: FakeTelnyxState, fault: Fault) -> web.Response:
    status = fault.status
    headers: dict[str, str] = {}
    if status == 429:
        headers.update(
            {
                "x-ratelimit-limit": str(state.config.ratelimit_limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": _num(fault.ratelimit_reset),
            }
        )
        if fault.retry_after is not None:
            headers["retry-after"] = _num(fault.retry_after)
    title = _STATUS_TITLES.get(status, "Error")
    if not fault.envelope:
        return web.Response(
            status=status,
            text=f"<html><body><h1>{status} {title}</h1></body></html>",
            content_type="text/html",
            headers=headers,
        )
    code = "10011" if status == 429 else str(status)
    detail = (
        "Too many requests, please retry later."
        if status == 429
        else f"{title}. Please retry later."
    )
    return FakeApiError(status, code, title, detail, headers=headers).response()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


class _Dropped(web.HTTPException):
    """Used after aborting the transport: nothing can be written any more."""

    status_code = 499


@web.middleware
async def _api_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    state = _state(request)
    if request.path.startswith(ADMIN_PREFIX):
        return await handler(request)

    route_info = request.match_info.route.resource
    route = route_info.canonical if route_info is not None else request.path
    raw = await request.read()
    body: Any = None
    bad_json = False
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            bad_json = True
            body = {"_unparsed": raw[:200].decode("utf-8", "replace")}
    auth_kind, entry = _auth(state, request)
    record = RequestRecord(
        seq=state.next_seq(),
        method=request.method,
        path=request.path,
        route=route,
        query=dict(request.query),
        json=body,
        auth=auth_kind,
    )
    state.requests.append(record)
    fault = state.match_fault(request.method, route, request.path)
    try:
        if fault is not None:
            record.fault = fault.label
            if fault.action == "error":
                fault_resp = _fault_response(state, fault)
                record.status = fault_resp.status
                return fault_resp
            if fault.action == "drop":
                record.dropped = True
                _drop(request)
                raise _Dropped()
            if fault.action == "delay":
                await asyncio.sleep(fault.delay)
        resp = await _dispatch(request, handler, entry, bad_json, body)
        record.status = resp.status
        if fault is not None and fault.action == "commit_then_drop":
            record.dropped = True
            _drop(request)
            raise _Dropped()
        if fault is not None and fault.action == "commit_then_delay":
            await asyncio.sleep(fault.delay)
        return resp
    except asyncio.CancelledError:
        record.cancelled = True
        raise


async def _dispatch(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    entry: KeyEntry | None,
    bad_json: bool,
    body: Any,
) -> web.StreamResponse:
    try:
        if entry is None:
            raise _unauthenticated(missing="Authorization" not in request.headers)
        if entry.mode == "forbidden" or (
            entry.mode == "restricted" and request.path == f"{API_PREFIX}/balance"
        ):
            raise _forbidden()
        if request.match_info.http_exception is not None:
            exc = request.match_info.http_exception
            if exc.status == 405:
                raise FakeApiError(
                    405, "405", "Method not allowed", f"{request.method} is not allowed here."
                )
            raise _not_found()
        if bad_json:
            raise FakeApiError(
                400, "10015", "Bad Request", "The request failed because it was not well-formed."
            )
        request[_BODY] = body
        request[_ACCOUNT] = entry.account
        return await handler(request)
    except FakeApiError as exc:
        return exc.response()


# --------------------------------------------------------------------------------------------
# Admin handlers


async def _admin_state(request: web.Request) -> web.Response:
    return web.json_response(_state(request).snapshot())


async def _admin_requests(request: web.Request) -> web.Response:
    return web.json_response({"requests": [r.to_json() for r in _state(request).requests]})


async def _admin_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None


async def _admin_config(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _admin_json(request)
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    try:
        state.apply_config(body)
    except (ValueError, TypeError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response({"config": state.config.to_json(), "keys": {"count": len(state.keys)}})


async def _admin_add_faults(request: web.Request) -> web.Response:
    state = _state(request)
    body = await _admin_json(request)
    raw_faults = body if isinstance(body, list) else [body]
    try:
        faults = [Fault.from_json(f) for f in raw_faults]
    except (ValueError, TypeError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    state.faults.extend(faults)
    return web.json_response({"faults": [f.to_json() for f in state.faults]})


async def _admin_clear_faults(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return web.json_response({"faults": []})


async def _admin_reset(request: web.Request) -> web.Response:
    _state(request).reset()
    return web.json_response({"reset": True})


def create_app(state: FakeTelnyxState | None = None) -> web.Application:
    """Build the fake's aiohttp application (``state`` is created with default keys if omitted)."""
    app = web.Application(middlewares=[_api_middleware])
    app[STATE] = state or FakeTelnyxState()
    p = API_PREFIX
    app.router.add_get(f"{p}/balance", _balance)
    app.router.add_get(f"{p}/outbound_voice_profiles", _list_ovps)
    app.router.add_post(f"{p}/outbound_voice_profiles", _create_ovp)
    app.router.add_get(f"{p}/outbound_voice_profiles/{{id}}", _get_ovp)
    app.router.add_delete(f"{p}/outbound_voice_profiles/{{id}}", _delete_ovp)
    app.router.add_get(f"{p}/ip_connections", _list_connections)
    app.router.add_post(f"{p}/ip_connections", _create_connection)
    app.router.add_get(f"{p}/ip_connections/{{id}}", _get_connection)
    app.router.add_delete(f"{p}/ip_connections/{{id}}", _delete_connection)
    app.router.add_get(f"{p}/ips", _list_ips)
    app.router.add_post(f"{p}/ips", _create_ip)
    app.router.add_get(f"{p}/ips/{{id}}", _get_ip)
    app.router.add_delete(f"{p}/ips/{{id}}", _delete_ip)
    a = ADMIN_PREFIX
    app.router.add_get(f"{a}/state", _admin_state)
    app.router.add_get(f"{a}/requests", _admin_requests)
    app.router.add_post(f"{a}/config", _admin_config)
    app.router.add_post(f"{a}/faults", _admin_add_faults)
    app.router.add_delete(f"{a}/faults", _admin_clear_faults)
    app.router.add_post(f"{a}/reset", _admin_reset)
    return app


# --------------------------------------------------------------------------------------------
# In-process server


class FakeTelnyx(StartedInBlock):
    """Runs the fake on 127.0.0.1 (free port) inside the current event loop.

    ``state`` is the live :class:`FakeTelnyxState`; tests may read and mutate it directly.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keys: Mapping[str, KeyMode | KeyEntry] | None = None,
        config: FakeConfig | None = None,
        shutdown_timeout: float = 0.5,
    ) -> None:
        self.state = FakeTelnyxState(keys=keys, config=config)
        self._host = host
        self._port = port
        self._shutdown_timeout = shutdown_timeout
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        if not self.port:
            raise RuntimeError("FakeTelnyx is not started")
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, ending with ``/v2`` (pass it to the client)."""
        return self.root_url + API_PREFIX

    @property
    def admin_url(self) -> str:
        return self.root_url + ADMIN_PREFIX

    async def start(self) -> None:
        if self._runner is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self._host, self._port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        runner = web.AppRunner(
            create_app(self.state),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=self._shutdown_timeout,
        )
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- control -----------------------------------------------------------------------

    def add_fault(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        """Add a :class:`Fault` (or build one from keyword arguments) and return it."""
        if fault is None:
            fault = Fault(**kwargs)
        elif kwargs:
            raise TypeError("pass either a Fault or keyword arguments")
        return self.state.add_fault(fault)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def reset(self) -> None:
        self.state.reset()

    def set_key(self, key: str, mode: KeyMode = "ok", account: str = DEFAULT_ACCOUNT) -> None:
        self.state.set_key(key, KeyEntry(mode=mode, account=account))

    # -- inspection --------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        return self.state.requests

    def calls(self, method: str | None = None, route: str | None = None) -> list[tuple[str, str]]:
        """``(method, path)`` of logged requests, filtered by method and route template if given."""
        return [
            (r.method, r.path)
            for r in self.state.requests
            if (method is None or r.method == method)
            and (route is None or route in (r.route, r.path))
        ]

    def ovps(self) -> list[JSONDict]:
        return [r.data for r in self.state.ovps.values()]

    def connections(self) -> list[JSONDict]:
        return [r.data for r in self.state.connections.values()]

    def ips(self) -> list[JSONDict]:
        return [r.data for r in self.state.ips.values()]


# --------------------------------------------------------------------------------------------
# Separate process + admin client


class FakeTelnyxAdmin:
    """Thin async client for the ``/_fake`` admin endpoints of a running fake."""

    def __init__(self, root_url: str, *, timeout: float = 5.0) -> None:
        self._root = root_url.rstrip("/")
        if self._root.endswith(API_PREFIX):
            self._root = self._root[: -len(API_PREFIX)]
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.request(method, f"{self._root}{ADMIN_PREFIX}{path}", json=body) as resp,
        ):
            if resp.status != 200:
                raise RuntimeError(
                    f"fake admin {method} {path} -> {resp.status}: {await resp.text()}"
                )
            return await resp.json()

    async def state(self) -> JSONDict:
        return cast(JSONDict, await self._call("GET", "/state"))

    async def requests(self) -> list[JSONDict]:
        return cast(list[JSONDict], (await self._call("GET", "/requests"))["requests"])

    async def configure(self, **config: Any) -> JSONDict:
        return cast(JSONDict, await self._call("POST", "/config", config))

    async def add_faults(self, *faults: Fault | Mapping[str, Any]) -> JSONDict:
        body = [f.to_json() if isinstance(f, Fault) else dict(f) for f in faults]
        for item in body:
            item.pop("seen", None)
            item.pop("fired", None)
        return cast(JSONDict, await self._call("POST", "/faults", body))

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def reset(self) -> None:
        await self._call("POST", "/reset")


class FakeTelnyxProcess(StartedInBlock):
    """Runs ``python -m tests.support.telnyx_fake`` as a child process (for crash tests).

    Only the child this object started is ever signalled.
    """

    def __init__(
        self,
        *,
        args: Sequence[str] = (),
        python: str = sys.executable,
        cwd: str | None = None,
        startup_timeout: float = 10.0,
        stderr_path: str | None = None,
    ) -> None:
        self._cmd = [python, "-m", "tests.support.telnyx_fake", "--port", "0", *args]
        self._cwd = cwd or os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        self._startup_timeout = startup_timeout
        self._stderr_path = stderr_path
        self._proc: asyncio.subprocess.Process | None = None
        self.base_url = ""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def admin(self) -> FakeTelnyxAdmin:
        return FakeTelnyxAdmin(self.base_url)

    async def start(self) -> None:
        # stderr goes to a file (or nowhere): an unread pipe could fill up and stall the server.
        stderr: int = asyncio.subprocess.DEVNULL
        if self._stderr_path is not None:
            stderr = os.open(self._stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._cmd,
                cwd=self._cwd,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        finally:
            if self._stderr_path is not None:
                os.close(stderr)
        assert self._proc.stdout is not None
        try:
            async with asyncio.timeout(self._startup_timeout):
                while True:
                    line = (await self._proc.stdout.readline()).decode()
                    if not line:
                        raise RuntimeError("fake Telnyx process exited before it was ready")
                    if line.startswith(READY_MARKER):
                        self.base_url = line.split()[1]
                        return
        except BaseException:
            await self.stop()
            raise

    async def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            async with asyncio.timeout(timeout):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


# --------------------------------------------------------------------------------------------
# Command line


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.telnyx_fake", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=0, help="0 picks a free port (printed on stdout)"
    )
    parser.add_argument("--unapproved-countries", default="", help="comma-separated ISO codes")
    parser.add_argument(
        "--allow-delete-with-children",
        action="store_true",
        help="delete parents that still have children instead of answering 422",
    )
    parser.add_argument(
        "--keys-env",
        default="TELNYX_FAKE_KEYS",
        help="environment variable holding extra keys as JSON [{key, mode, account}] "
        "(keys are never taken from argv so they do not show up in ps)",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    config = FakeConfig(
        unapproved_countries=[
            c.strip().upper() for c in args.unapproved_countries.split(",") if c.strip()
        ],
        refuse_delete_with_children=not args.allow_delete_with_children,
    )
    fake = FakeTelnyx(host=args.host, port=args.port, config=config)
    extra = os.environ.get(args.keys_env)
    if extra:
        fake.state.apply_config({"keys": json.loads(extra)})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(f"{READY_MARKER} {fake.base_url}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
