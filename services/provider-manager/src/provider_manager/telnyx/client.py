"""Async client for the Telnyx API v2 calls used by one-step provider setup.

Retry rules (Telnyx documents no idempotency keys for these endpoints):

* ``GET`` and ``DELETE`` are retried on 408, 429, 5xx, timeouts and connection errors.
* ``POST`` (create) is re-sent without further ado only when Telnyx certainly did not act: a 429
  (refused by the rate limiter) or an error raised before the request was sent (DNS, connection
  refused, connect timeout).
* Every other ``POST`` failure is *ambiguous*: a timeout or dropped connection after sending, and
  **any** 5xx or 408 answer, with or without a Telnyx error envelope. An envelope does not prove the
  server refused before acting (a 500 can follow a commit; a 502/504 from a proxy says nothing
  about the upstream), so it is not used as evidence. After an ambiguous failure, and before every
  further attempt, the client looks the resource up by what makes it unique (name + tags, name +
  tags + profile, connection + address + port). If found it is adopted and returned; otherwise the
  create is sent again. If attempts run out, one last lookup is made before raising
  :class:`TelnyxUnavailable` with ``outcome_unknown=True``.
* Backoff is exponential with "equal jitter" (half fixed, half random), capped by
  ``RetryPolicy.max_delay``. On 429 (and 503) ``retry-after-ms``, ``retry-after`` or
  ``x-ratelimit-reset`` (seconds) are honoured; if Telnyx asks for more than
  ``RetryPolicy.max_server_wait`` the client gives up at once with :class:`TelnyxRateLimited`.

Other statuses are final: 401/403 -> :class:`TelnyxKeyRejected`, 404 -> :class:`TelnyxNotFound`,
422 -> :class:`TelnyxValidationError`, anything else -> :class:`TelnyxError`.

Secrets: the API key (and any ``ip_authentication_token`` we send) never appears in an exception
message, a ``repr`` or a log line. Headers and bodies are never logged; texts coming back from
Telnyx are scrubbed of the secrets before they are put in an exception.

Limits: a lookup cannot see a create that Telnyx commits only after the lookup ran (a request
that stays in flight longer than the timeout plus the backoff). Such a late duplicate carries the
same tags, so cleanup by tag (``find_*``) still finds it.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import math
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import quote

import aiohttp
import structlog
from pydantic import BaseModel, ValidationError

from provider_manager.telnyx.errors import (
    TelnyxError,
    TelnyxErrorDetail,
    TelnyxKeyRejected,
    TelnyxNotFound,
    TelnyxRateLimited,
    TelnyxUnavailable,
    TelnyxValidationError,
    parse_error_envelope,
)
from provider_manager.telnyx.models import (
    Balance,
    Ip,
    IpConnection,
    KeyCheck,
    OutboundVoiceProfile,
)

DEFAULT_BASE_URL: Final = "https://api.telnyx.com/v2"
_MAX_PAGE_SIZE: Final = 250
_REDACTED: Final = "[REDACTED]"

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_log = structlog.get_logger("provider_manager.telnyx")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts every request of one call, the first included."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    #: the longest server-requested wait (429/503 headers) we honour before giving up
    max_server_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_server_wait < 0:
            raise ValueError("delays must be >= 0")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt number ``attempt`` (1-based): exponential, equal jitter."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class _Secret:
    """Holds a secret string; its repr never shows the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Secret('**********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("secrets are not picklable")


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None
    text: str  # a short, redacted excerpt for non-JSON answers


class _TransportFailure(Exception):
    def __init__(self, reason: str, *, sent: bool, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.retryable = retryable


async def _default_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _identity(body: Any) -> Any:
    return body


class TelnyxClient:
    """Telnyx API v2 client (one API key). Use as an async context manager or call :meth:`close`.

    ``timeout`` bounds each attempt (connect + send + read); ``connect_timeout`` bounds the
    connect phase. Lists are fetched ``page_size`` items at a time, at most ``max_pages`` pages
    (more raises rather than returning a partial list that cleanup would trust). Pass ``session``
    to share an :class:`aiohttp.ClientSession` (it is then not closed here); the key is sent per
    request, never set as a session default. ``sleep`` and ``rng`` exist for tests.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        connect_timeout: float | None = 5.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        page_size: int = _MAX_PAGE_SIZE,
        max_pages: int = 100,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key must be a non-empty string")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self._key = _Secret(api_key.strip())
        self._secrets: list[_Secret] = [self._key]
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(
            total=timeout,
            connect=min(connect_timeout, timeout) if connect_timeout else None,
        )
        self._retry = retry or RetryPolicy()
        self._session = session
        self._owns_session = session is None
        if not 1 <= page_size <= _MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {_MAX_PAGE_SIZE}")
        if max_pages < 1:
            raise ValueError("max_pages must be >= 1")
        self._page_size = page_size
        self._max_pages = max_pages
        self._sleep = sleep or _default_sleep
        self._rng = rng or random.Random()
        self._log = _log.bind(telnyx_base_url=self._base_url)

    def __repr__(self) -> str:
        return f"TelnyxClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the shared aiohttp session is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    # -- key check -------------------------------------------------------------------------

    async def check_key(self) -> KeyCheck:
        """Check the key with the read-only ``GET /balance``.

        401 -> :class:`TelnyxKeyRejected`. 403 may only mean "no billing access", so the key is
        then probed with ``GET /outbound_voice_profiles?page[size]=1`` (the permission setup needs)
        and rejected only if that answers 401/403 too.
        """
        try:
            body = await self._execute("GET", "/balance", _identity)
            return KeyCheck(
                billing_access=True, balance=self._parse_data(body, Balance, "GET", "/balance")
            )
        except TelnyxKeyRejected as exc:
            if exc.status != 403:
                raise
        self._log.info("telnyx_key_no_billing_access_probing_voice")
        await self._execute(
            "GET", "/outbound_voice_profiles", _identity, params={"page[size]": "1"}
        )
        return KeyCheck(billing_access=False, balance=None)

    # -- outbound voice profiles -------------------------------------------------------------

    async def create_outbound_voice_profile(
        self,
        name: str,
        whitelisted_destinations: Sequence[str],
        tags: Sequence[str],
        *,
        max_country_retries: int = 3,
        extra_fields: Mapping[str, Any] | None = None,
    ) -> OutboundVoiceProfile:
        """``POST /outbound_voice_profiles`` (Telnyx answers 200).

        If Telnyx refuses countries the account may not use (422 "... following countries: XX,
        YY"), they are dropped and the create is retried, at most ``max_country_retries`` times;
        compare ``whitelisted_destinations`` of the result with what was asked. If nothing would be
        left, or the refusal names no country we sent, the 422 is raised.
        """
        destinations = list(dict.fromkeys(c.strip().upper() for c in whitelisted_destinations))
        tag_list = list(tags)
        path = "/outbound_voice_profiles"
        for round_ in range(max_country_retries + 1):
            body: dict[str, Any] = {
                "name": name,
                "traffic_type": "conversational",
                "service_plan": "global",
                "usage_payment_method": "rate-deck",
                "whitelisted_destinations": destinations,
                "tags": tag_list,
                **(extra_fields or {}),
            }
            try:
                return await self._execute(
                    "POST",
                    path,
                    lambda b: self._parse_data(b, OutboundVoiceProfile, "POST", path),
                    json=body,
                    expect=(200, 201),
                    lookup=lambda: self._find_created_ovp(name, tag_list),
                )
            except TelnyxValidationError as exc:
                refused = set(exc.unapproved_countries)
                remaining = [c for c in destinations if c not in refused]
                if (
                    not refused
                    or round_ == max_country_retries
                    or not remaining
                    or remaining == destinations
                ):
                    raise
                self._log.warning(
                    "telnyx_ovp_countries_dropped",
                    dropped=[c for c in destinations if c in refused],
                    remaining=remaining,
                )
                destinations = remaining
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_outbound_voice_profile(self, profile_id: str) -> OutboundVoiceProfile:
        path = f"/outbound_voice_profiles/{_seg(profile_id)}"
        return await self._execute(
            "GET", path, lambda b: self._parse_data(b, OutboundVoiceProfile, "GET", path)
        )

    async def find_outbound_voice_profiles(
        self, tag: str | None = None, *, name_contains: str | None = None
    ) -> list[OutboundVoiceProfile]:
        """All profiles carrying ``tag`` and/or whose name contains ``name_contains`` (all pages).

        Filters are also applied client-side, so an API that ignores one cannot widen the result
        (cleanup deletes what this returns).
        """
        params: dict[str, str] = {}
        if tag is not None:
            params["filter[tag]"] = tag
        if name_contains is not None:
            params["filter[name][contains]"] = name_contains
        items = await self._list_all("/outbound_voice_profiles", params, OutboundVoiceProfile)
        return [
            p
            for p in items
            if (tag is None or tag in p.tags)
            and (name_contains is None or name_contains.lower() in p.name.lower())
        ]

    async def delete_outbound_voice_profile(self, profile_id: str) -> OutboundVoiceProfile | None:
        """Delete; returns the deleted profile, or ``None`` if it was already gone (404)."""
        return await self._delete(
            f"/outbound_voice_profiles/{_seg(profile_id)}", OutboundVoiceProfile
        )

    async def _find_created_ovp(
        self, name: str, tags: Sequence[str]
    ) -> OutboundVoiceProfile | None:
        found = [
            p
            for p in await self.find_outbound_voice_profiles(
                tags[0] if tags else None, name_contains=name
            )
            if p.name == name and set(tags) <= set(p.tags)
        ]
        return self._pick_adopted(found, "outbound_voice_profile")

    # -- IP connections ----------------------------------------------------------------------

    async def create_ip_connection(
        self,
        name: str,
        ovp_id: str,
        tags: Sequence[str],
        *,
        ip_authentication_token: str | None = None,
        transport_protocol: str = "UDP",
        extra_fields: Mapping[str, Any] | None = None,
    ) -> IpConnection:
        """``POST /ip_connections`` (Telnyx answers 201) using outbound voice profile ``ovp_id``.

        Inbound number formats are set explicitly to ``+E.164`` / ``+e164`` (Telnyx's defaults have
        no plus). With ``ip_authentication_token`` outbound calls are authenticated by the
        ``X-Telnyx-Token`` header (needed when egress IPs are shared between tenants).
        """
        tag_list = list(tags)
        outbound: dict[str, Any] = {"outbound_voice_profile_id": ovp_id}
        if ip_authentication_token is not None:
            self._add_secret(ip_authentication_token)
            outbound["ip_authentication_method"] = "token"
            outbound["ip_authentication_token"] = ip_authentication_token
        body: dict[str, Any] = {
            "connection_name": name,
            "active": True,
            "transport_protocol": transport_protocol,
            "tags": tag_list,
            "inbound": {"ani_number_format": "+E.164", "dnis_number_format": "+e164"},
            "outbound": outbound,
            **(extra_fields or {}),
        }
        path = "/ip_connections"
        return await self._execute(
            "POST",
            path,
            lambda b: self._parse_data(b, IpConnection, "POST", path),
            json=body,
            expect=(200, 201),
            lookup=lambda: self._find_created_connection(name, ovp_id, tag_list),
        )

    async def get_ip_connection(self, connection_id: str) -> IpConnection:
        path = f"/ip_connections/{_seg(connection_id)}"
        return await self._execute(
            "GET", path, lambda b: self._parse_data(b, IpConnection, "GET", path)
        )

    async def find_ip_connections(
        self,
        tag: str | None = None,
        *,
        name_contains: str | None = None,
        outbound_voice_profile_id: str | None = None,
    ) -> list[IpConnection]:
        """All IP connections matching every given filter (all pages; re-checked client-side).

        Telnyx wants at least 3 characters for ``name_contains``; shorter values are only applied
        client-side.
        """
        params: dict[str, str] = {}
        if tag is not None:
            params["filter[tag]"] = tag
        if name_contains is not None and len(name_contains) >= 3:
            params["filter[connection_name][contains]"] = name_contains
        if outbound_voice_profile_id is not None:
            params["filter[outbound_voice_profile_id]"] = outbound_voice_profile_id
        items = await self._list_all("/ip_connections", params, IpConnection)
        return [
            c
            for c in items
            if (tag is None or tag in c.tags)
            and (
                name_contains is None or name_contains.lower() in (c.connection_name or "").lower()
            )
            and (
                outbound_voice_profile_id is None
                or c.outbound_voice_profile_id == outbound_voice_profile_id
            )
        ]

    async def delete_ip_connection(self, connection_id: str) -> IpConnection | None:
        """Delete; returns the deleted connection, or ``None`` if it was already gone (404)."""
        return await self._delete(f"/ip_connections/{_seg(connection_id)}", IpConnection)

    async def _find_created_connection(
        self, name: str, ovp_id: str, tags: Sequence[str]
    ) -> IpConnection | None:
        found = [
            c
            for c in await self.find_ip_connections(
                tags[0] if tags else None, name_contains=name, outbound_voice_profile_id=ovp_id
            )
            if c.connection_name == name and set(tags) <= set(c.tags)
        ]
        return self._pick_adopted(found, "ip_connection")

    # -- IPs -------------------------------------------------------------------------------

    async def create_ip(self, connection_id: str, ip_address: str, port: int = 5060) -> Ip:
        """``POST /ips`` (Telnyx answers 201): attach ``ip_address:port`` to the connection."""
        path = "/ips"
        body = {"connection_id": connection_id, "ip_address": ip_address, "port": port}
        return await self._execute(
            "POST",
            path,
            lambda b: self._parse_data(b, Ip, "POST", path),
            json=body,
            expect=(200, 201),
            lookup=lambda: self._find_created_ip(connection_id, ip_address, port),
        )

    async def get_ip(self, ip_id: str) -> Ip:
        path = f"/ips/{_seg(ip_id)}"
        return await self._execute("GET", path, lambda b: self._parse_data(b, Ip, "GET", path))

    async def find_ips(
        self, connection_id: str, *, ip_address: str | None = None, port: int | None = None
    ) -> list[Ip]:
        """All IPs attached to ``connection_id`` (optionally one address/port; all pages)."""
        params = {"filter[connection_id]": connection_id}
        if ip_address is not None:
            params["filter[ip_address]"] = ip_address
        if port is not None:
            params["filter[port]"] = str(port)
        items = await self._list_all("/ips", params, Ip)
        return [
            ip
            for ip in items
            if ip.connection_id == connection_id
            and (ip_address is None or ip.ip_address == ip_address)
            and (port is None or ip.port == port)
        ]

    async def delete_ip(self, ip_id: str) -> Ip | None:
        """Delete; returns the deleted IP, or ``None`` if it was already gone (404)."""
        return await self._delete(f"/ips/{_seg(ip_id)}", Ip)

    async def _find_created_ip(self, connection_id: str, ip_address: str, port: int) -> Ip | None:
        return self._pick_adopted(
            await self.find_ips(connection_id, ip_address=ip_address, port=port), "ip"
        )

    # -- helpers ---------------------------------------------------------------------------

    def _add_secret(self, value: str) -> None:
        if value and all(s.reveal() != value for s in self._secrets):
            self._secrets.append(_Secret(value))

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret.reveal(), _REDACTED)
        return text

    def _parse_errors(self, body: Any) -> tuple[TelnyxErrorDetail, ...]:
        """The error envelope, with our secrets scrubbed from every text (it goes into messages)."""
        return parse_error_envelope(body, scrub=self._redact)

    def _pick_adopted(self, found: Sequence[M], kind: str) -> M | None:
        if not found:
            return None
        if len(found) > 1:
            self._log.warning(
                "telnyx_duplicate_resources", kind=kind, ids=[getattr(f, "id", None) for f in found]
            )
        self._log.warning(
            "telnyx_create_adopted", kind=kind, resource_id=getattr(found[0], "id", None)
        )
        return found[0]

    def _parse_data(self, body: Any, model: type[M], method: str, path: str) -> M:
        data = body.get("data") if isinstance(body, dict) else None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise TelnyxError(
                detail=f"unexpected response body ({exc.error_count()} validation error(s))",
                method=method,
                path=path,
            ) from None

    async def _delete(self, path: str, model: type[M]) -> M | None:
        try:
            body = await self._execute("DELETE", path, _identity, expect=(200, 202, 204))
        except TelnyxNotFound as exc:
            if not exc.has_envelope:
                # A bare 404 (no Telnyx envelope) more likely means a wrong base URL than "gone".
                raise
            self._log.info("telnyx_delete_already_gone", path=path)
            return None
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            return self._parse_data(body, model, "DELETE", path)
        return None

    async def _list_all(self, path: str, params: Mapping[str, str], model: type[M]) -> list[M]:
        out: list[M] = []
        page = 1
        while True:
            query = {**params, "page[number]": str(page), "page[size]": str(self._page_size)}
            body = await self._execute("GET", path, _identity, params=query)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise TelnyxError(
                    detail="unexpected list response (no data array)", method="GET", path=path
                )
            try:
                out.extend(model.model_validate(item) for item in data)
            except ValidationError as exc:
                raise TelnyxError(
                    detail=f"unexpected list item ({exc.error_count()} validation error(s))",
                    method="GET",
                    path=path,
                ) from None
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            total_pages = meta.get("total_pages")
            if not data or not isinstance(total_pages, int) or page >= total_pages:
                return out
            if page >= self._max_pages:
                raise TelnyxError(
                    detail=f"more than {self._max_pages} pages; refusing to return a partial list",
                    method="GET",
                    path=path,
                )
            page += 1

    # -- the request engine ------------------------------------------------------------------

    async def _execute(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        expect: Collection[int] = (200,),
        lookup: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """Send with retries (see the module docstring); ``lookup`` makes a POST retryable."""
        idempotent = method in ("GET", "DELETE", "HEAD")
        policy = self._retry
        ambiguous = False  # an earlier POST attempt may have created the resource
        attempt = 0
        while True:
            attempt += 1
            if ambiguous and lookup is not None:
                found = await self._lookup(lookup, method, path, attempt - 1)
                if found is not None:
                    return found

            reason = ""
            status: int | None = None
            server_wait: float | None = None
            errors: tuple[TelnyxErrorDetail, ...] = ()
            give_up = attempt >= policy.max_attempts
            try:
                reply = await self._send_once(method, path, params, json)
            except _TransportFailure as failure:
                reason = failure.reason
                give_up = give_up or not failure.retryable
                if failure.sent and not idempotent:
                    ambiguous = True
            else:
                status = reply.status
                if status in expect:
                    if idempotent or reply.body is not None:
                        try:
                            return parse(reply.body)
                        except TelnyxError:
                            if idempotent or lookup is None:
                                raise
                    # A create that "succeeded" with an unreadable body: look it up.
                    ambiguous = True
                    reason = f"HTTP {status} with an unreadable body"
                elif status == 429 or status == 408 or status >= 500:
                    errors = self._parse_errors(reply.body)
                    reason = self._status_reason(status, errors, reply.text)
                    server_wait = _server_wait(reply.headers)
                    if status != 429 and not idempotent:
                        ambiguous = True
                    if server_wait is not None and server_wait > policy.max_server_wait:
                        reason += (
                            f"; Telnyx asked to wait {server_wait:g}s"
                            f" (more than {policy.max_server_wait:g}s)"
                        )
                        give_up = True
                else:
                    raise self._final_error(status, reply, method, path)

            if ambiguous and lookup is None:
                give_up = True
            if give_up:
                if ambiguous and lookup is not None:
                    found = await self._lookup(lookup, method, path, attempt)
                    if found is not None:
                        return found
                self._log.warning(
                    "telnyx_gave_up",
                    method=method,
                    path=path,
                    attempts=attempt,
                    status=status,
                    reason=reason,
                )
                if status == 429:
                    raise TelnyxRateLimited(
                        reason,
                        retry_after=server_wait,
                        status=status,
                        attempts=attempt,
                        outcome_unknown=ambiguous,
                        method=method,
                        path=path,
                        errors=errors,
                    )
                raise TelnyxUnavailable(
                    reason,
                    status=status,
                    attempts=attempt,
                    outcome_unknown=ambiguous,
                    method=method,
                    path=path,
                    errors=errors,
                )
            delay = policy.backoff(attempt, self._rng)
            if server_wait is not None:
                delay = server_wait + self._rng.uniform(0, min(policy.base_delay, 1.0))
            self._log.warning(
                "telnyx_retry",
                method=method,
                path=path,
                attempt=attempt,
                status=status,
                reason=reason,
                delay_s=round(delay, 3),
                lookup_first=ambiguous,
            )
            await self._sleep(delay)

    async def _lookup(
        self,
        lookup: Callable[[], Awaitable[T | None]],
        method: str,
        path: str,
        attempts: int,
    ) -> T | None:
        """Look up a possibly-created resource; failing to look means the outcome is unknown."""
        try:
            return await lookup()
        except TelnyxKeyRejected:
            raise
        except TelnyxError as exc:
            raise TelnyxUnavailable(
                f"could not check whether the create took effect: {exc}",
                status=exc.status,
                attempts=attempts,
                outcome_unknown=True,
                method=method,
                path=path,
            ) from None

    def _status_reason(self, status: int, errors: Sequence[TelnyxErrorDetail], text: str) -> str:
        if errors:
            first = errors[0]
            bits = [x for x in (first.code, first.title, first.detail) if x]
            return f"HTTP {status}" + (f" ({'; '.join(bits)})" if bits else "")
        return f"HTTP {status}" + (f" ({text})" if text else "")

    def _final_error(self, status: int, reply: _Reply, method: str, path: str) -> TelnyxError:
        errors = self._parse_errors(reply.body)
        cls: type[TelnyxError]
        if status in (401, 403):
            cls = TelnyxKeyRejected
        elif status == 404:
            cls = TelnyxNotFound
        elif status == 422:
            cls = TelnyxValidationError
        else:
            cls = TelnyxError
        self._log.info(
            "telnyx_request_refused",
            method=method,
            path=path,
            status=status,
            code=errors[0].code if errors else None,
        )
        return cls.from_envelope(
            status, errors, method=method, path=path, fallback_detail=reply.text or None
        )

    async def _send_once(
        self, method: str, path: str, params: Mapping[str, str] | None, json: Any
    ) -> _Reply:
        url = self._base_url + path
        headers = {
            "Authorization": f"Bearer {self._key.reveal()}",
            "Accept": "application/json",
        }
        started = time.monotonic()
        try:
            session = self._get_session()
            async with session.request(
                method,
                url,
                params=dict(params) if params else None,
                json=json,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                status = resp.status
                reply_headers = {
                    k.lower(): v
                    for k, v in resp.headers.items()
                    if k.lower()
                    in (
                        "retry-after",
                        "retry-after-ms",
                        "x-ratelimit-reset",
                        "x-ratelimit-limit",
                        "x-ratelimit-remaining",
                        "content-type",
                    )
                }
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            raise _TransportFailure(self._exc_reason(exc), sent=False, retryable=False) from None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise _TransportFailure(self._exc_reason(exc), sent=False) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise _TransportFailure(self._exc_reason(exc), sent=True) from None
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        body: Any = None
        text = ""
        if raw:
            try:
                body = jsonlib.loads(raw)
            except ValueError:
                # Redact before shortening: a cut could otherwise leave part of a secret behind.
                text = self._redact(raw[:65536].decode("utf-8", "replace")).strip()[:200]
        self._log.debug(
            "telnyx_response", method=method, path=path, status=status, elapsed_ms=elapsed_ms
        )
        return _Reply(status=status, headers=reply_headers, body=body, text=text)

    def _exc_reason(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return f"timed out after {self._timeout.total:g}s ({type(exc).__name__})"
        text = str(exc)
        return self._redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _seg(resource_id: str) -> str:
    """One URL path segment (ids come from Telnyx or our DB; never let one change the path)."""
    if not isinstance(resource_id, str) or not resource_id.strip():
        raise ValueError("resource id must be a non-empty string")
    return quote(resource_id.strip(), safe="")


def _server_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked to wait: retry-after-ms, retry-after or x-ratelimit-reset."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return _finite_non_negative(float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is not None:
        try:
            return _finite_non_negative(float(value))
        except ValueError:
            try:
                return _finite_non_negative(parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    value = headers.get("x-ratelimit-reset")
    if value is not None:
        try:
            reset = float(value)
        except ValueError:
            return None
        if reset > 1_000_000_000:  # an epoch timestamp rather than a number of seconds
            reset -= time.time()
        return _finite_non_negative(reset)
    return None


def _finite_non_negative(value: float) -> float | None:
    if math.isnan(value):
        return None
    return max(0.0, value)
