"""Typed errors raised by :class:`provider_manager.telnyx.client.TelnyxClient`.

Hierarchy::

    TelnyxError                 any failure talking to Telnyx (status/code/title/detail/pointer)
    ├── TelnyxKeyRejected       401 (bad key) or 403 (key lacks permission)
    ├── TelnyxValidationError   422: Telnyx refused the request body
    ├── TelnyxNotFound          404
    └── TelnyxUnavailable       unreachable, timing out or failing after retries (``reason``)
        └── TelnyxRateLimited   still 429 after retries, or asked to wait too long

Texts coming from Telnyx are passed in already redacted by the client: these classes never see the
API key. ``str()`` and ``repr()`` only contain the message built here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_COUNTRIES_RE = re.compile(
    r"following countries:\s*([A-Za-z]{2}(?:\s*,\s*[A-Za-z]{2})*)", re.IGNORECASE
)
_MAX_TEXT = 500


def _clip(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


@dataclass(frozen=True, slots=True)
class TelnyxErrorDetail:
    """One item of Telnyx's ``{"errors": [...]}`` envelope."""

    code: str | None = None
    title: str | None = None
    detail: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    url: str | None = None


def parse_error_envelope(
    body: Any, *, scrub: Callable[[str], str] | None = None
) -> tuple[TelnyxErrorDetail, ...]:
    """Parse ``{"errors": [{code, title, detail, source: {pointer|parameter}, meta: {url}}]}``.

    Tolerant: anything unexpected is skipped; codes are kept as strings (Telnyx documents that
    framework fallbacks may send codes such as ``"404"``). ``scrub`` is applied to every text
    before it is shortened (so a secret cut in half by the shortening cannot survive).
    """

    def text(value: Any) -> str | None:
        out = _opt_str(value)
        if out is not None and scrub is not None:
            out = scrub(out)
        return out

    if not isinstance(body, dict):
        return ()
    raw_errors = body.get("errors")
    if not isinstance(raw_errors, list):
        return ()
    out: list[TelnyxErrorDetail] = []
    for item in raw_errors:
        if not isinstance(item, dict):
            continue
        source_raw = item.get("source")
        meta_raw = item.get("meta")
        source: dict[str, Any] = source_raw if isinstance(source_raw, dict) else {}
        meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
        out.append(
            TelnyxErrorDetail(
                code=_clip(text(item.get("code"))),
                title=_clip(text(item.get("title"))),
                detail=_clip(text(item.get("detail"))),
                pointer=_clip(text(source.get("pointer"))),
                parameter=_clip(text(source.get("parameter"))),
                url=_clip(text(meta.get("url"))),
            )
        )
    return tuple(out)


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


class TelnyxError(Exception):
    """A failed Telnyx API call.

    ``status`` is the HTTP status (``None`` when no answer was received); ``code``, ``title``,
    ``detail`` and ``pointer`` come from the first item of the error envelope (``pointer`` falls
    back to ``source.parameter``); ``errors`` holds every item.
    """

    def __init__(
        self,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        pointer: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        errors: Sequence[TelnyxErrorDetail] = (),
    ) -> None:
        self.status = status
        self.code = code
        self.title = _clip(title)
        self.detail = _clip(detail)
        self.pointer = pointer
        self.method = method
        self.path = path
        self.errors: tuple[TelnyxErrorDetail, ...] = tuple(errors)
        super().__init__(self._message())

    @classmethod
    def from_envelope(
        cls,
        status: int | None,
        errors: Sequence[TelnyxErrorDetail],
        *,
        method: str | None = None,
        path: str | None = None,
        fallback_detail: str | None = None,
    ) -> TelnyxError:
        first = errors[0] if errors else TelnyxErrorDetail()
        return cls(
            status,
            first.code,
            first.title,
            first.detail if first.detail is not None else fallback_detail,
            first.pointer if first.pointer is not None else first.parameter,
            method=method,
            path=path,
            errors=errors,
        )

    @property
    def has_envelope(self) -> bool:
        """True when the answer carried a Telnyx error envelope (not e.g. a proxy's HTML page)."""
        return bool(self.errors)

    def _where(self) -> str:
        if self.method and self.path:
            return f"Telnyx {self.method} {self.path}"
        return "Telnyx"

    def _message(self) -> str:
        parts = [f"{self._where()} failed"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"code {self.code}")
        text = ": ".join(x for x in (self.title, self.detail) if x)
        msg = ", ".join(parts)
        if text:
            msg += f": {text}"
        if self.pointer:
            msg += f" (at {self.pointer})"
        return msg


class TelnyxKeyRejected(TelnyxError):
    """The API key is invalid (401) or not allowed to do what we need (403)."""


class TelnyxValidationError(TelnyxError):
    """Telnyx answered 422: the request was understood but refused (see ``detail``/``pointer``)."""

    @property
    def unapproved_countries(self) -> tuple[str, ...]:
        """Country codes named by a "... to use the following countries: US, CA" refusal."""
        found: list[str] = []
        texts = [e.detail for e in self.errors] or [self.detail]
        for text in texts:
            if not text:
                continue
            match = _COUNTRIES_RE.search(text)
            if match:
                for code in match.group(1).split(","):
                    code = code.strip().upper()
                    if code not in found:
                        found.append(code)
        return tuple(found)


class TelnyxNotFound(TelnyxError):
    """Telnyx answered 404."""


class TelnyxUnavailable(TelnyxError):
    """Telnyx could not be reached, timed out, or kept failing after the allowed retries.

    ``reason`` says what happened last; ``attempts`` how many requests were made. When
    ``outcome_unknown`` is true a create may have taken effect on Telnyx's side although the client
    could not confirm it: clean up by tag.
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        attempts: int = 0,
        outcome_unknown: bool = False,
        method: str | None = None,
        path: str | None = None,
        errors: Sequence[TelnyxErrorDetail] = (),
    ) -> None:
        self.reason = _clip(reason) or "unknown"
        self.attempts = attempts
        self.outcome_unknown = outcome_unknown
        first = errors[0] if errors else TelnyxErrorDetail()
        super().__init__(
            status,
            first.code,
            first.title,
            first.detail,
            first.pointer if first.pointer is not None else first.parameter,
            method=method,
            path=path,
            errors=errors,
        )

    def _message(self) -> str:
        msg = f"{self._where()} unavailable after {self.attempts} attempt(s): {self.reason}"
        if self.outcome_unknown:
            msg += " (outcome unknown: the resource may have been created)"
        return msg


class TelnyxRateLimited(TelnyxUnavailable):
    """Still rate limited (429) after retries, or Telnyx asked us to wait longer than allowed.

    ``retry_after`` is the wait (seconds) Telnyx asked for, when it said.
    """

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        attempts: int = 0,
        outcome_unknown: bool = False,
        method: str | None = None,
        path: str | None = None,
        errors: Sequence[TelnyxErrorDetail] = (),
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            reason,
            status=status,
            attempts=attempts,
            outcome_unknown=outcome_unknown,
            method=method,
            path=path,
            errors=errors,
        )
