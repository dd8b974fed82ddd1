"""The gateway's one error taxonomy, shared by adapters, schema and HTTP layers.

```
GatewayError                      code
├── NotFoundError                 NOT_FOUND            an id the backend does not know
├── UnauthenticatedError          UNAUTHENTICATED      missing or refused credential
├── ForbiddenError                FORBIDDEN            valid credential, not allowed
├── BadUserInputError             BAD_USER_INPUT       the caller's arguments are wrong
├── QueryTooComplexError          QUERY_TOO_COMPLEX    refused before any backend call
└── BackendFailure
    ├── BackendUnavailableError   BACKEND_UNAVAILABLE  timeout, refused, circuit open, not configured
    └── BackendError              BACKEND_ERROR        5xx, malformed or unexpected body
```
Every error carries the backend it came from (`backend`, lower-case name) and the backend's own
code where it gave one (`backend_code`, a string such as OpenML's ``"111"``). Messages never hold
credentials or internal URLs: callers build them from the backend's explanation only.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BackendError",
    "BackendFailure",
    "BackendUnavailableError",
    "BadUserInputError",
    "ForbiddenError",
    "GatewayError",
    "NotFoundError",
    "QueryTooComplexError",
    "UnauthenticatedError",
]


class GatewayError(Exception):
    """Base of every error the gateway reports to a client.

    Attributes:
        code: the taxonomy code, surfaced as ``extensions.code``.
        backend: lower-case backend name (``openml``), or None for gateway-side errors.
        backend_code: the backend's own error code, as a string, when it gave one.
        extra: further fixed ``extensions`` keys (``outcome`` for mutations, say).
    """

    code: ClassVar[str] = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        backend: str | None = None,
        backend_code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.backend = backend
        self.backend_code = backend_code
        self.extra = dict(extra or {})

    def extensions(self) -> dict[str, Any]:
        """Return the GraphQL ``extensions`` map for this error."""
        ext: dict[str, Any] = {"code": self.code}
        if self.backend is not None:
            ext["backend"] = self.backend
        if self.backend_code is not None:
            ext["backendCode"] = self.backend_code
        ext.update(self.extra)
        return ext

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, backend={self.backend!r}, backend_code={self.backend_code!r})"


class NotFoundError(GatewayError):
    """The backend does not know the requested id."""

    code = "NOT_FOUND"


class UnauthenticatedError(GatewayError):
    """A credential is missing or the backend refused it."""

    code = "UNAUTHENTICATED"


class ForbiddenError(GatewayError):
    """The credential is valid but may not do this (not the owner, say)."""

    code = "FORBIDDEN"


class BadUserInputError(GatewayError):
    """The caller's arguments are invalid (bad id, bad filter value, `first` out of range)."""

    code = "BAD_USER_INPUT"


class QueryTooComplexError(GatewayError):
    """The document exceeds a depth, alias, token or cost limit; no backend was called."""

    code = "QUERY_TOO_COMPLEX"


class BackendFailure(GatewayError):
    """The backend could not serve the request; the caller's input may be fine."""


class BackendUnavailableError(BackendFailure):
    """Timeout, refused connection, open circuit, or the backend is not configured."""

    code = "BACKEND_UNAVAILABLE"


class BackendError(BackendFailure):
    """The backend answered with a 5xx, a malformed body or an unexpected shape."""

    code = "BACKEND_ERROR"
