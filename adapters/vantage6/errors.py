"""vantage6 error responses mapped onto the gateway's taxonomy, as data.

vantage6 sends no error codes: its errors are an HTTP status plus ``{"msg": ...}`` (Flask-RESTful resources
and Flask-JWT-Extended) or ``{"message": ...}`` (werkzeug: malformed JSON, wrong method), and an HTML page for
unknown paths. ``backend_code`` is therefore the HTTP status as a string. Quirks handled here:

- a missing permission is **401**, not 403: a 401 whose message is not one of the authentication failures
  below is FORBIDDEN (the caller's token is valid but lacks the permission; design.md);
- token decoding problems are **422** (``Invalid header string``, ``Not enough segments``, a refresh token used
  as an access token): UNAUTHENTICATED;
- some caller mistakes come back as **500** with a telling message (``page needs to be >= 1``, an ``int()``
  of ``per_page=abc``, ``Cannot sort a 'Task' by 'bogus'``): BAD_USER_INPUT, message kept;
- an HTML 404 means the route does not exist (a version mismatch), not that an id is unknown: BACKEND_ERROR.
"""

from __future__ import annotations

import re

from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)

__all__ = ["AUTH_FAILURE_MESSAGES", "BACKEND", "STATUS_TABLE", "error_for"]

BACKEND = "vantage6"

STATUS_TABLE: dict[int, type[GatewayError]] = {
    400: BadUserInputError,
    401: UnauthenticatedError,  # refined by message: see error_for
    403: ForbiddenError,
    404: NotFoundError,
    405: BackendError,
    409: BadUserInputError,
    413: BadUserInputError,
    422: UnauthenticatedError,
    429: BackendUnavailableError,
    502: BackendUnavailableError,
    503: BackendUnavailableError,
    504: BackendUnavailableError,
}

# 401 messages that mean "who are you?" rather than "you may not": Flask-JWT-Extended and the login routes.
AUTH_FAILURE_MESSAGES = frozenset({
    "Missing Authorization Header",
    "Token has expired",
    "Token has been revoked",
    "Fresh token required",
    "Failed to login",
    "Api key is not recognized!",
})
_AUTH_FAILURE_PREFIXES = ("Missing 'Bearer' type", "Bad Authorization header", "Missing JWT in",
                          "Error loading the user")

# 500s that are the caller's mistake (vantage6's pagination and sorting raise plain exceptions).
_BAD_INPUT_500 = re.compile(
    r"^(page needs to be >= 1|per_page needs to be >= 1|The '(page|per_page)' parameter|"
    r"invalid literal for int\(\)|Cannot sort a ')"
)


def _is_auth_failure(message: str) -> bool:
    return message in AUTH_FAILURE_MESSAGES or message.startswith(_AUTH_FAILURE_PREFIXES)


def error_for(status: int, message: str | None, *, credential_sent: bool, html: bool = False) -> GatewayError:
    """Return the taxonomy error for a vantage6 error response.

    ``message`` is the backend's ``msg``/``message`` (None when the body had none); ``credential_sent`` says
    whether a bearer token went with the request (a 401 to an anonymous call is always UNAUTHENTICATED);
    ``html`` marks an HTML body. The backend's message is kept in the error's message.
    """
    code = str(status)
    text = message or f"HTTP {status} without a message"
    if html:
        return BackendError(f"The vantage6 backend answered HTTP {status} with an HTML page.", backend=BACKEND,
                            backend_code=code)
    if status == 401:
        if not credential_sent or _is_auth_failure(text):
            return UnauthenticatedError(text, backend=BACKEND, backend_code=code)
        return ForbiddenError(text, backend=BACKEND, backend_code=code)
    if status >= 500 and status not in STATUS_TABLE:
        if _BAD_INPUT_500.match(text):
            return BadUserInputError(text, backend=BACKEND, backend_code=code)
        return BackendError(text, backend=BACKEND, backend_code=code)
    cls = STATUS_TABLE.get(status, BackendError)
    return cls(text, backend=BACKEND, backend_code=code)
