"""pytupli HTTP statuses mapped onto the gateway's taxonomy, as data; the backend's message is always kept.

pytupli (FastAPI) has no error codes of its own: errors are ``{"detail": "<message>"}`` with 401, 403, 404 or
409, validation errors are 422 ``{"detail": [{"loc", "msg", ...}]}``, and an unhandled exception is a bare
``text/plain`` 500 ``Internal Server Error``. ``backend_code`` is therefore the HTTP status as a string.

403 is pytupli's one answer for every refusal. It means "log in" to an anonymous caller (or one served by the
gateway's service account) and "not allowed" to a caller who sent their own token, so it maps to
UNAUTHENTICATED or FORBIDDEN depending on whose credential was sent (design.md: a refusal of a read without
the caller's credential is UNAUTHENTICATED).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)

__all__ = ["BACKEND", "STATUS_TABLE", "backend_message", "error_for_status"]

BACKEND = "pytupli"

STATUS_TABLE: dict[int, type[GatewayError]] = {
    400: BadUserInputError,
    401: UnauthenticatedError,
    403: ForbiddenError,  # UnauthenticatedError when the caller sent no credential of their own
    404: NotFoundError,
    409: BadUserInputError,  # "Benchmark already exists", "User already exists", "Group already exists"
    413: BadUserInputError,
    422: BadUserInputError,
    429: BackendUnavailableError,
}

_MAX_MESSAGE = 500


def _validation_message(items: list[Any]) -> str:
    parts: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        loc = ".".join(str(p) for p in item.get("loc", ()) if p is not None)
        msg = str(item.get("msg", "invalid"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def backend_message(status: int, body: bytes) -> str:
    """Return the backend's own explanation from an error body (``detail`` text or the plain body)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "detail" in payload:
        detail = payload["detail"]
        message = _validation_message(detail) if isinstance(detail, list) else str(detail)
    elif text.startswith("<") or not text:
        message = f"HTTP {status} without an explanation" if not text else f"HTTP {status} with an HTML page"
    else:
        message = text
    return message if len(message) <= _MAX_MESSAGE else message[:_MAX_MESSAGE] + "..."


def error_for_status(status: int, body: bytes, *, caller_credential: bool) -> GatewayError:
    """Return the taxonomy error for an error response; unknown statuses and every 5xx are BACKEND_ERROR.

    ``caller_credential`` says whether the request carried the caller's own token (403 -> FORBIDDEN) or not
    (403 -> UNAUTHENTICATED).
    """
    cls = STATUS_TABLE.get(status, BackendError)
    if status == 403 and not caller_credential:
        cls = UnauthenticatedError
    message = backend_message(status, body)
    if cls is BackendError and status < 500:
        message = f"Unexpected HTTP {status} from pytupli: {message}"
    return cls(message, backend=BACKEND, backend_code=str(status))
