"""The pytupli emulator's tokens: HS256 JWTs with claims ``{"issuer": username, "exp"}`` (no ``sub``), as
pytupli mints them with PyJWT, and the ``authenticate_user`` rules of its HTTPBearer dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from adapters.pytupli.emulator_store import ApiError, Store, User

__all__ = ["authenticate", "decode_token", "encode_token"]

_HEADER = {"alg": "HS256", "typ": "JWT"}
_INVALID = (401, "Could not validate credentials")
_BEARER = {"WWW-Authenticate": "Bearer"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def encode_token(secret: str, username: str, minutes: float, clock: Callable[[], float] = time.time) -> str:
    """A token for ``username`` valid ``minutes`` from now (PyJWT's byte layout)."""
    signing = f"{_b64(_compact(_HEADER))}.{_b64(_compact({'issuer': username, 'exp': int(clock() + minutes * 60)}))}"
    signature = hmac.new(secret.encode(), signing.encode("ascii"), hashlib.sha256).digest()
    return f"{signing}.{_b64(signature)}"


def decode_token(secret: str, token: str, clock: Callable[[], float] = time.time) -> dict[str, Any] | None:
    """The verified claims of ``token``, or None if it is malformed, badly signed or expired."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_unb64(parts[0]))
        expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
        if not isinstance(header, dict) or header.get("alg") != "HS256" or not hmac.compare_digest(
                expected, _unb64(parts[2])):
            return None
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= clock()):
        return None
    return claims


def authenticate(store: Store, authorization: str | None, secret: str, open_access: bool) -> User | None:
    """The caller: a User, or None for the guest (anonymous in open-access mode, or an unknown issuer).

    FastAPI's HTTPBearer drops a header that is empty or not ``bearer`` (any case): that caller is anonymous.
    pytupli then insists on the exact spelling ``Bearer`` (401 "Invalid authentication scheme").
    """
    scheme, _, credentials = (authorization or "").partition(" ")
    credentials = credentials.strip()
    if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
        if not open_access:
            raise ApiError(401, "You need to be authenticated with Bearer scheme to access the platform.", _BEARER)
        return None
    if scheme != "Bearer":
        raise ApiError(401, "Invalid authentication scheme", _BEARER)
    claims = decode_token(secret, credentials)
    if claims is None or claims.get("issuer") is None:
        raise ApiError(*_INVALID, _BEARER)
    return store.users.get(str(claims["issuer"]))
