"""RFC 9457 problem bodies of the OpenML v2 server-api mapped onto the gateway's taxonomy, as data.

A problem is ``{"type": "https://openml.org/problems/<slug>", "title", "status", "detail", "code"?}``
(openml-api.md §5.2). The slug picks the taxonomy class; a body without a known slug falls back on the
legacy ``code``, then on the HTTP status. ``code`` is read leniently: the current server sends a string
(``"111"``), some builds an int, validation errors (422) none at all. Two older bodies are read too:
``{"detail": {"code", "message"}}`` (the shape openml-python's v2 client still expects) and FastAPI's own
``{"detail": "Not Found"}`` / ``{"detail": [pydantic errors]}``.

"No results" is not an error to the gateway: the ``no-results`` slug (and the "nothing computed yet" ones
that v1 also treats as empty: features or qualities not processed, or none) come back as ``NoResults``,
which list calls turn into ``()``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
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

__all__ = ["BACKEND", "NO_RESULT_SLUGS", "NoResults", "Problem", "error_from_response", "parse_problem"]

BACKEND = "openml"
_PREFIX = "https://openml.org/problems/"
_MAX_MESSAGE = 500


class NoResults(Exception):
    """The backend said "no results" (or "nothing computed yet"): callers return an empty list."""

    def __init__(self, code: str | None) -> None:
        super().__init__(code)
        self.code = code


NO_RESULT_SLUGS = frozenset({"no-results", "dataset-not-processed", "dataset-no-features", "quality-no-qualities"})

_SLUGS: dict[str, type[GatewayError]] = {
    **dict.fromkeys(
        ("dataset-not-found", "task-not-found", "task-type-not-found", "flow-not-found", "setup-not-found",
         "run-not-found", "run-trace-not-found", "user-not-found", "study-not-found", "service-not-found",
         "study-legacy"),  # 410 Gone: a tag-based study v2 no longer serves
        NotFoundError),
    **dict.fromkeys(("authentication-required", "authentication-failed"), UnauthenticatedError),
    **dict.fromkeys(
        ("dataset-no-access", "forbidden", "dataset-not-owned", "dataset-admin-only", "tag-not-owned",
         "study-private", "study-not-editable"),
        ForbiddenError),
    **dict.fromkeys(
        ("validation-error", "tag-already-exists", "tag-not-found", "dataset-status-transition",
         "account-has-resources", "study-alias-exists", "study-invalid-type", "study-conflict"),
        BadUserInputError),
    # the backend holds the entity but cannot serve it (no data file, processing failed) or broke
    **dict.fromkeys(("dataset-no-data-file", "dataset-processing-error", "internal-error"), BackendError),
}

# Legacy v1 codes, for bodies without a known slug (the older ``{"detail": {"code", "message"}}`` shape).
_NO_RESULT_CODES = frozenset({"372", "482", "500", "512", "542", "599", "641", "674", "1002", "272", "273", "362",
                              "363"})
_CODES: dict[str, type[GatewayError]] = {
    **dict.fromkeys(("111", "151", "181", "236", "241", "271", "281", "361", "472", "571", "572", "601"),
                    NotFoundError),
    **dict.fromkeys(("102", "103", "137"), UnauthenticatedError),
    **dict.fromkeys(("104", "112", "476", "693", "696"), ForbiddenError),
    **dict.fromkeys(("370", "371", "473", "475", "477", "480", "481", "694"), BadUserInputError),
    "107": BackendUnavailableError,
}

_STATUSES: dict[int, type[GatewayError]] = {
    400: BadUserInputError, 401: UnauthenticatedError, 403: ForbiddenError, 404: NotFoundError,
    409: BadUserInputError, 410: NotFoundError, 422: BadUserInputError, 429: BackendUnavailableError,
    502: BackendUnavailableError, 503: BackendUnavailableError, 504: BackendUnavailableError,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """The fields of one problem body that the mapping reads; every one may be absent."""

    slug: str | None
    status: int | None
    title: str | None
    detail: str | None
    code: str | None


def _code(value: Any) -> str | None:
    """Read the legacy code leniently: ``"111"``, ``111``, ``111.0``; anything else is no code."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _validation_detail(errors: Any) -> str | None:
    """``body.pagination.limit: Input should be ...; ...`` from pydantic's error list."""
    if not isinstance(errors, list):
        return None
    parts = []
    for error in errors[:5]:
        if isinstance(error, Mapping):
            loc = ".".join(str(p) for p in error.get("loc") or ())
            msg = str(error.get("msg") or "invalid")
            parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or None


def parse_problem(body: bytes) -> Problem | None:
    """Return the problem a JSON error body describes, or None when the body is not a JSON object."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, Mapping):
        return None
    kind = payload.get("type")
    slug = kind.removeprefix(_PREFIX).strip("/") if isinstance(kind, str) and kind.startswith(_PREFIX) else None
    code = _code(payload.get("code"))
    raw_detail = payload.get("detail")
    detail: str | None
    if isinstance(raw_detail, Mapping):  # the older server-api shape
        code = code or _code(raw_detail.get("code"))
        detail = str(raw_detail.get("message") or raw_detail.get("detail") or "") or None
    elif isinstance(raw_detail, list):  # FastAPI's default 422 body
        detail = _validation_detail(raw_detail)
    else:
        detail = str(raw_detail) if raw_detail not in (None, "") else None
    extra = _validation_detail(payload.get("errors"))
    if extra:
        detail = f"{detail} ({extra})" if detail else extra
    status = payload.get("status")
    title = payload.get("title")
    return Problem(
        slug=slug or None,
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        title=title if isinstance(title, str) else None,
        detail=detail,
        code=code,
    )


def error_from_response(body: bytes, status: int) -> GatewayError | NoResults:
    """Return the error (or NoResults) that a non-2xx response stands for.

    Precedence: the problem type's slug, then the legacy code, then the HTTP status. A body that is not a
    JSON object (an nginx HTML page, say) is BACKEND_ERROR or BACKEND_UNAVAILABLE by status alone.
    """
    problem = parse_problem(body)
    if problem is None:
        cls = _STATUSES.get(status) if status in (429, 502, 503, 504) else None
        return (cls or BackendError)(
            f"The openml v2 backend answered HTTP {status} without a problem document.", backend=BACKEND
        )
    if problem.slug in NO_RESULT_SLUGS or (problem.slug is None and problem.code in _NO_RESULT_CODES):
        return NoResults(problem.code)
    cls = _SLUGS.get(problem.slug or "") or _CODES.get(problem.code or "") or _STATUSES.get(status)
    if cls is None:
        cls = BackendError
    message = problem.detail or problem.title or f"OpenML v2 error (HTTP {status})"
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return cls(message, backend=BACKEND, backend_code=problem.code)
