"""MLTE's HTTP statuses and OAuth error codes mapped onto the gateway's taxonomy, as data.

MLTE is a FastAPI app: domain errors are ``{"detail": "<message>"}`` with 401, 403, 404 or 409, validation
errors are 422 ``{"detail": [{"type", "loc", "msg", ...}]}``, the token endpoint answers OAuth-style
``{"error", "error_description"}`` with 400, and unexpected failures are 500 (JSON ``{"detail": "Internal server
error."}`` or uvicorn's plain-text ``Internal Server Error``). ``backend_code`` is the OAuth ``error`` when the
body has one, else the HTTP status as a string.
"""

from __future__ import annotations

from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)

__all__ = ["BACKEND", "error_for_oauth", "error_for_status"]

BACKEND = "mlte"

_STATUS: dict[int, type[GatewayError]] = {
    400: BadUserInputError,
    401: UnauthenticatedError,
    403: ForbiddenError,  # a valid token without a permission on that model (regular users)
    404: NotFoundError,
    409: BadUserInputError,  # "Model m already exists.", "Artifact 'x' (force param prevents overwriting it) ..."
    413: BadUserInputError,
    422: BadUserInputError,  # pydantic validation of the request
    429: BackendUnavailableError,
    502: BackendUnavailableError,
    503: BackendUnavailableError,
    504: BackendUnavailableError,
}

_OAUTH: dict[str, type[GatewayError]] = {
    "invalid_grant": UnauthenticatedError,  # wrong username or password
    "invalid_request": UnauthenticatedError,  # "User is inactive." / "Could not load user details."
    "invalid_client": UnauthenticatedError,
    "unsupported_grant_type": BackendError,  # we always send grant_type=password: a server we do not understand
}


def error_for_status(status: int, message: str) -> GatewayError:
    """Return the taxonomy error for an MLTE HTTP status; anything unknown is BACKEND_ERROR."""
    cls = _STATUS.get(status, BackendError)
    return cls(message, backend=BACKEND, backend_code=str(status))


def error_for_oauth(error: str, message: str) -> GatewayError:
    """Return the taxonomy error for an OAuth ``error`` code of MLTE's token endpoint."""
    cls = _OAUTH.get(error, UnauthenticatedError)
    return cls(message, backend=BACKEND, backend_code=error)
