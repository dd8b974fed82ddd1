"""Shared reading of OpenML v2 JSON bodies: decoding, the shape guard, and lenient small casts.

The server-api is typed, but not consistently (openml-api.md §5.3): some numbers arrive as strings (task
list qualities, tag ids, task types), some fields PHP-style (``[]`` for empty, one value instead of a
list). Every helper here accepts both, so the normalizers stay flat.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from adapters._coerce import as_list, opt_int, opt_str, parse_array, text, unescape_html
from adapters.openml_v2.errors import BACKEND, NoResults, error_from_response
from gateway.errors import BackendError, GatewayError

__all__ = [
    "Node",
    "extra",
    "guard",
    "ids",
    "keep_text",
    "load",
    "lower",
    "num_text",
    "obj",
    "parse_array",
    "req_int",
    "strs",
    "text_of",
    "unescaped",
]

P = ParamSpec("P")
R = TypeVar("R")
Node = Mapping[str, Any]


def guard(func: Callable[P, R]) -> Callable[P, R]:
    """Turn shape errors (a missing id, a non-numeric count, a list where an object belongs) into BackendError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (GatewayError, NoResults):
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            kind = func.__name__.removesuffix("_from_json")
            raise BackendError(
                f"The openml v2 backend returned a malformed {kind} document ({exc}).", backend=BACKEND
            ) from exc

    return wrapper


def load(body: bytes | str | Any) -> Any:
    """Decode a JSON body (bytes or str); an already decoded value passes through.

    A problem document that arrives with a 2xx status (a proxy rewriting statuses) raises its mapped error.
    """
    if not isinstance(body, bytes | str):
        return body
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackendError("The openml v2 backend returned a body that is not JSON.", backend=BACKEND) from exc
    kind = payload.get("type") if isinstance(payload, Mapping) else None
    if isinstance(kind, str) and kind.startswith(("https://openml.org/problems/", "about:blank")) \
            and "status" in payload:
        raw = body.encode() if isinstance(body, str) else body
        status = payload["status"] if isinstance(payload["status"], int) else 500
        raise error_from_response(raw, status)
    return payload


def obj(value: Any, what: str) -> Node:
    """Return ``value`` when it is a JSON object, else raise (a list or scalar where an entity belongs)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a {what} object, got {type(value).__name__}")
    return value


def req_int(node: Node, key: str) -> int:
    value = opt_int(node.get(key))
    if value is None:
        raise ValueError(f"missing {key}")
    return value


def num_text(value: Any) -> str | None:
    """Return a typed JSON value as the text v1 carries: ``1`` -> ``"1"``, ``0.1`` -> ``"0.1"``, ``[]`` -> None.

    Floats use Python's shortest round-trip form, which is what the server's JSON encoder wrote.
    """
    if value is None or (isinstance(value, list | dict) and not value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def text_of(value: Any, *, strip: bool = True) -> str | None:
    """A string field: ``""``, ``[]`` and null are None; numbers become their text."""
    raw = num_text(value)
    return opt_str(raw, strip=strip) if raw is not None else None


def unescaped(value: Any) -> str | None:
    """Free text (descriptions, messages): stored HTML-escaped in the database, decoded one level here."""
    return unescape_html(text_of(value))


def lower(value: Any) -> str | None:
    raw = text_of(value)
    return raw.lower() if raw is not None else None


def strs(values: Iterable[Any], *, strip: bool = True) -> tuple[str, ...]:
    """Non-empty strings of ``values``, in order."""
    out = []
    for value in values:
        item = text_of(value, strip=strip)
        if item is not None:
            out.append(item)
    return tuple(out)


def ids(value: Any) -> tuple[int, ...]:
    """A list of ids, also written as one id or as strings."""
    return tuple(i for i in (opt_int(v) for v in as_list(value)) if i is not None)


def extra(node: Node, known: frozenset[str]) -> dict[str, Any]:
    """Fields this normalizer does not map (kept in ``raw_extra``, never a crash)."""
    return {key: value for key, value in node.items() if key not in known}


def keep_text(value: Any) -> str | None:
    """A value whose whitespace matters (nominal values): strings verbatim, numbers as text, null as None."""
    if isinstance(value, str):
        return value
    return text(num_text(value)) if value is not None else None
