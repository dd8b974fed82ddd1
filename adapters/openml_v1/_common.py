"""Shared parsing of OpenML v1 bodies: the root check, the error envelope, "no results", small casts."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from adapters._coerce import as_list, opt_datetime, opt_float, opt_int, opt_str, parse_array, unescape_html
from adapters._xml import DEFAULT_MAX_BYTES, parse_rows, parse_xml, sniff
from adapters.openml_v1.errors import BACKEND, NO_RESULT_CODES, error_for_code
from gateway.errors import BackendError, GatewayError

__all__ = ["NoResults", "Node", "error_from_body", "parse_array"]

P = ParamSpec("P")
R = TypeVar("R")
Node = dict[str, Any]

_ERROR_LISTS = frozenset({"oml:code"})


class NoResults(Exception):
    """The backend said "no results" (a list error code): callers return an empty list."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _guard(func: Callable[P, R]) -> Callable[P, R]:
    """Turn shape errors (a missing id, a non-numeric count) into BackendError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (GatewayError, NoResults):
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            kind = func.__name__.removesuffix("_from_xml")
            raise BackendError(
                f"The openml backend returned a malformed {kind} document ({exc}).", backend=BACKEND
            ) from exc

    return wrapper


def error_from_body(body: bytes, status: int) -> GatewayError | NoResults:
    """Return the error an error response stands for, whatever its format.

    ``oml:error`` XML and ``{"error": {...}}`` JSON bodies map through the code table ("no results"
    codes come back as NoResults); HTML pages and other bodies become BackendError naming the status.
    """
    kind = sniff(body)
    code: str | None = None
    message = ""
    if kind == "xml":
        try:
            doc = parse_xml(body, backend=BACKEND, force_list=_ERROR_LISTS)
        except BackendError as exc:
            return BackendError(f"HTTP {status} with a malformed body: {exc.message}", backend=BACKEND)
        (root, node), = doc.items()
        if root.split(":")[-1] != "error" or not isinstance(node, dict):
            return BackendError(f"HTTP {status} with an unexpected <{root}> body.", backend=BACKEND)
        code = opt_str(as_list(node.get("oml:code"))[0] if node.get("oml:code") else None)
        message = _message(node.get("oml:message"), node.get("oml:additional_information"))
    elif kind == "json":
        try:
            payload = json.loads(body)
            err = payload["error"]
            code = opt_str(str(err.get("code"))) if err.get("code") is not None else None
            message = _message(err.get("message"), err.get("additional_information"))
        except (ValueError, KeyError, TypeError, AttributeError):
            return BackendError(f"HTTP {status} with an unreadable JSON body.", backend=BACKEND)
    elif kind == "html":
        return BackendError(f"The openml backend answered HTTP {status} with an HTML page.", backend=BACKEND)
    else:
        return BackendError(f"The openml backend answered HTTP {status} with an unexpected body.", backend=BACKEND)
    if code is None:
        return BackendError(f"HTTP {status}: an error without a code ({message}).", backend=BACKEND)
    if code in NO_RESULT_CODES:
        return NoResults(code)
    return error_for_code(code, message or f"OpenML error {code}")


def _message(message: Any, info: Any) -> str:
    msg = unescape_html(opt_str(message)) or ""
    extra = unescape_html(opt_str(info))
    return f"{msg}: {extra}" if extra else msg


def _doc(body: bytes, root: str, force_list: frozenset[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Node:
    """Parse ``body`` and return the root node, raising the mapped error for ``oml:error`` bodies."""
    if sniff(body) == "json":
        error = error_from_body(body, 200)
        raise error
    doc = parse_xml(body, backend=BACKEND, force_list=force_list | _ERROR_LISTS, max_bytes=max_bytes)
    (name, node), = doc.items()
    if name == "oml:error":
        raise error_from_body(body, 200)
    if name != root:
        raise BackendError(f"Expected a <{root}> document from openml, got <{name}>.", backend=BACKEND)
    return node if isinstance(node, dict) else {}


def _rows(body: bytes, root: str, row: str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[dict[str, Any]]:
    """The rows of a list document through the fast one-pass parser; error envelopes raise their error."""
    if sniff(body) == "json":
        raise error_from_body(body, 200)
    try:
        return parse_rows(body, backend=BACKEND, root=root, row=row, max_bytes=max_bytes)
    except LookupError as exc:
        if exc.args and exc.args[0] == "oml:error":
            raise error_from_body(body, 200) from None
        raise BackendError(f"Expected a <{root}> document from openml, got <{exc.args[0]}>.", backend=BACKEND) from None


def fast_int(value: str | None) -> int | None:
    """``int`` for the common case (``"42"``), falling back to the lenient ``opt_int`` (``"6.0"``, blanks)."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return opt_int(value)


def fast_float(value: str | None) -> float | None:
    """``float`` for the common case, falling back to the lenient ``opt_float`` (``"null"``, blanks)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return opt_float(value)


def fast_datetime(value: str | None) -> datetime | None:
    """C-speed ISO parsing (both ``T`` and space forms), falling back to ``opt_datetime``."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return opt_datetime(value)


def fast_str(value: str | None) -> str | None:
    """Stripped text, None when empty."""
    if not value:
        return None
    stripped = value.strip()
    return stripped or None


def _req_int(node: Mapping[str, Any], key: str) -> int:
    raw = node.get(key)
    value = fast_int(raw) if isinstance(raw, str) else opt_int(raw)  # list rows: one per row of every list
    if value is None:
        raise ValueError(f"missing {key}")
    return value


def _strs(values: Iterable[Any], *, strip: bool = True) -> tuple[str, ...]:
    out = []
    for value in values:
        item = opt_str(value, strip=strip)
        if item is not None:
            out.append(item)
    return tuple(out)


def _lower(value: Any) -> str | None:
    raw = opt_str(value)
    return raw.lower() if raw is not None else None


def _extra(node: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {
        key.removeprefix("oml:"): value
        for key, value in node.items()
        if key not in known and not key.startswith(("@", "#"))
    }


