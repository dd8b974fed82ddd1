"""Pure normalizers: MLTE JSON bodies -> frozen records, and error responses -> the taxonomy (no I/O).

Every ``*_from_json`` takes the response body as bytes, raises BackendError for a body that is not JSON or
has the wrong shape (a missing identifier, a header that is not an object, ...), and returns typed records:
identifiers as strings, versions as tuples, MLTE's epoch-second timestamps as aware UTC datetimes (the
backend gave an absolute instant), ``type`` and ``level`` lower-case, the artifact body kept verbatim and
unknown fields in ``raw_extra``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from adapters.mlte.errors import BACKEND, error_for_oauth, error_for_status
from adapters.records.mlte import MLTEArtifactRecord, MLTEModelRecord, MLTEVersionRecord
from gateway.errors import BackendError, GatewayError

__all__ = [
    "artifact_from_json",
    "artifact_list_from_json",
    "error_from_response",
    "ids_from_json",
    "model_from_json",
    "token_from_json",
    "version_from_json",
    "written_artifact_from_json",
]

P = ParamSpec("P")
R = TypeVar("R")

_HEADER_FIELDS = frozenset({"identifier", "type", "timestamp", "creator", "level"})
_TOP_FIELDS = frozenset({"header", "body"})
_TITLE = re.compile(rb"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_MAX_MESSAGE = 300


def _guard(func: Callable[P, R]) -> Callable[P, R]:
    """Turn shape errors (not JSON, a missing identifier, a list where an object belongs) into BackendError."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GatewayError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            kind = func.__name__.removesuffix("_from_json")
            raise BackendError(f"The mlte backend returned a malformed {kind} document ({exc}).",
                               backend=BACKEND) from exc

    return wrapper


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at char {exc.pos}") from None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} is a {type(value).__name__}, not an object")
    return value


def _identifier(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is a {type(value).__name__}, not a string")
    return value


def _opt_str(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{what} is a {type(value).__name__}, not a string")
    return value or None


def _timestamp(value: Any) -> datetime | None:
    """Epoch seconds -> aware UTC datetime; MLTE's ``-1`` ("never saved"), None and 0 mean unknown."""
    if isinstance(value, bool):
        raise TypeError("header.timestamp is a boolean, not epoch seconds")
    if value is None:
        return None
    if isinstance(value, str):
        value = float(value.strip())
    if not isinstance(value, int | float):
        raise TypeError(f"header.timestamp is a {type(value).__name__}, not epoch seconds")
    if value <= 0:
        return None
    return datetime.fromtimestamp(value, tz=UTC)


@_guard
def token_from_json(body: bytes) -> tuple[str, float]:
    """``POST /token``: ``{"access_token", "token_type": "bearer", "expires_in": 7200}`` -> (token, seconds)."""
    doc = _object(_load(body), "the token response")
    access = _identifier(doc["access_token"], "access_token")
    if not access:
        raise ValueError("access_token is empty")
    expires_in = doc.get("expires_in")
    if expires_in is not None and (isinstance(expires_in, bool) or not isinstance(expires_in, int | float)):
        raise TypeError(f"expires_in is a {type(expires_in).__name__}, not a number")
    return access, float(expires_in or 0)


@_guard
def ids_from_json(body: bytes) -> tuple[str, ...]:
    """``GET /model`` and ``GET /model/{m}/version``: a JSON array of identifiers, in server order."""
    doc = _load(body)
    if not isinstance(doc, list):
        raise TypeError(f"expected an array of identifiers, got a {type(doc).__name__}")
    return tuple(_identifier(item, f"item {i}") for i, item in enumerate(doc))


@_guard
def model_from_json(body: bytes) -> MLTEModelRecord:
    """``GET /model/{m}`` (and ``POST /model``): ``{"identifier", "versions": [{"identifier"}]}``."""
    doc = _object(_load(body), "the model")
    versions = doc.get("versions") or []
    if not isinstance(versions, list):
        raise TypeError(f"versions is a {type(versions).__name__}, not an array")
    names = []
    for i, item in enumerate(versions):
        # MLTE sends version objects; a bare string is tolerated (older servers listed names)
        names.append(_identifier(item if isinstance(item, str) else _object(item, f"version {i}")["identifier"],
                                 f"version {i}"))
    extra = {k: v for k, v in doc.items() if k not in {"identifier", "versions"}}
    return MLTEModelRecord(identifier=_identifier(doc["identifier"], "identifier"), versions=tuple(names),
                           raw_extra=extra)


@_guard
def version_from_json(body: bytes, model: str) -> MLTEVersionRecord:
    """``GET /model/{m}/version/{v}`` (and ``POST``): ``{"identifier"}``."""
    doc = _object(_load(body), "the version")
    extra = {k: v for k, v in doc.items() if k != "identifier"}
    return MLTEVersionRecord(model=model, identifier=_identifier(doc["identifier"], "identifier"), raw_extra=extra)


def _artifact(doc: Any, model: str, version: str) -> MLTEArtifactRecord:
    doc = _object(doc, "the artifact")
    header = _object(doc["header"], "header")
    body = _object(doc["body"], "body")
    kind = header.get("type")
    if kind is None:  # the body's discriminator says the same thing
        kind = body.get("artifact_type")
    level = header.get("level") or "version"  # MLTE's model default
    extra: dict[str, Any] = {k: v for k, v in doc.items() if k not in _TOP_FIELDS}
    extra.update({f"header.{k}": v for k, v in header.items() if k not in _HEADER_FIELDS})
    return MLTEArtifactRecord(
        model=model,
        version=version,
        identifier=_identifier(header["identifier"], "header.identifier"),
        type=_identifier(kind, "header.type").lower(),
        level=_identifier(level, "header.level").lower(),
        creator=_opt_str(header.get("creator"), "header.creator"),
        timestamp=_timestamp(header.get("timestamp")),
        body=body,
        raw_extra=extra,
    )


@_guard
def artifact_from_json(body: bytes, model: str, version: str) -> MLTEArtifactRecord:
    """``GET``/``DELETE .../artifact/{a}``: ``{"header": {...}, "body": {...}}``."""
    return _artifact(_load(body), model, version)


@_guard
def written_artifact_from_json(body: bytes, model: str, version: str) -> MLTEArtifactRecord:
    """``POST .../artifact``: ``{"artifact": {"header": {...}, "body": {...}}}`` as the server stored it."""
    return _artifact(_object(_load(body), "the write response")["artifact"], model, version)


@_guard
def artifact_list_from_json(body: bytes, model: str, version: str) -> tuple[MLTEArtifactRecord, ...]:
    """``GET .../artifact`` and ``POST .../artifact/search``: a JSON array of artifacts."""
    doc = _load(body)
    if not isinstance(doc, list):
        raise TypeError(f"expected an array of artifacts, got a {type(doc).__name__}")
    return tuple(_artifact(item, model, version) for item in doc)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _validation_message(items: list[Any]) -> str:
    parts = []
    for item in items[:5]:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        loc = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
        msg = str(item.get("msg") or item.get("type") or "invalid")
        parts.append(f"{loc}: {msg}" if loc else msg)
    more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
    return "; ".join(parts) + more


def _challenge_description(headers: Mapping[str, str]) -> str | None:
    challenge = headers.get("www-authenticate") or headers.get("WWW-Authenticate") or ""
    match = re.search(r'error_description="([^"]*)"', challenge)
    return match.group(1) if match else None


def _non_json_message(status: int, body: bytes) -> str:
    title = _TITLE.search(body[:4096])
    if title:
        text = title.group(1).decode("utf-8", "replace")
    else:
        text = _TAGS.sub(" ", body[:2000].decode("utf-8", "replace"))
    text = _clip(text)
    return f"HTTP {status}: {text}" if text else f"HTTP {status} with an empty body."


def error_from_response(status: int, body: bytes, headers: Mapping[str, str]) -> GatewayError:
    """Return the taxonomy error an MLTE error response stands for, keeping MLTE's own message.

    ``{"detail": "<msg>"}`` maps by status; a 422 list of pydantic errors becomes ``loc: msg`` pairs; an OAuth
    body ``{"error", "error_description"}`` maps by its code; a 401's ``www-authenticate`` description (why
    the token was refused) is appended; HTML and plain-text bodies keep their title or text.
    """
    try:
        doc = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        return error_for_status(status, _non_json_message(status, body))
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        description = doc.get("error_description")
        message = str(description) if description else doc["error"]
        return error_for_oauth(doc["error"], _clip(message))
    detail = doc.get("detail") if isinstance(doc, dict) else None
    if isinstance(detail, list):
        message = _validation_message(detail)
    elif isinstance(detail, str | int | float) and str(detail):
        message = str(detail)
    elif doc is None:
        message = f"HTTP {status} with an empty body."
    else:
        message = f"HTTP {status}: {_clip(json.dumps(doc, ensure_ascii=False))}"
    if status == 401:
        reason = _challenge_description(headers)
        if reason:
            message = f"{message} ({reason})"
    return error_for_status(status, _clip(message))
