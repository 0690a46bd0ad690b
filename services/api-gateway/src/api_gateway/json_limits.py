"""Parsing request JSON without letting its shape hurt us.

`json.loads` recurses once per nesting level: `[` x 200,000 raised RecursionError, which
the gateway answered as a 500 with a traceback in the log. Anything nested deeper than any
body of this API ever is gets a 400 instead, whether the parser gave up or not.
"""

from __future__ import annotations

import json
from typing import Any

from shared.errors import AppError, ErrorStatus

# The deepest API body (a call with actions holding objects) is about 5 levels.
MAX_JSON_DEPTH = 32


def _invalid(reason: str, message: str) -> AppError:
    return AppError(ErrorStatus.INVALID_ARGUMENT, reason, message)


def parse_json(raw: bytes) -> Any:
    try:
        value = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise _invalid("INVALID_JSON_BODY", "the body is not valid JSON") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise _too_deep()
    return value


def _too_deep() -> AppError:
    return _invalid("JSON_TOO_DEEP", f"the body nests deeper than {MAX_JSON_DEPTH} levels")


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest  # enough to refuse; no need to walk the rest
        stack.extend((child, depth) for child in children)
    return deepest
